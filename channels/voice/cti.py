"""Generic CTI: any telephone system reports ``ringing``, ``answered`` and ``ended`` for a
call; Switchboard recognises the caller, pops their record on the agent's screen while the
phone rings, and logs the call on the customer's timeline. Each (call, event) is applied
once, so a PBX may resend freely."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from channels.voice.service import caller_party
from core.domain.calls import Call, CallOutcome, CallStatus
from core.domain.channels import Channel, Direction
from core.domain.clock import Clock
from core.domain.commands import IngestContact
from core.domain.errors import InvalidInput
from core.identity.normalise import normalise_phone
from core.ports import UnitOfWork, UnitOfWorkFactory
from core.services.ingest import ContactIngestion

EventKind = Literal["ringing", "answered", "ended"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CtiEvent:
    event: EventKind
    call_id: str
    caller: str  # the caller's number as the PBX reports it
    dialled: str | None = None
    agent: str | None = None  # agent id or username (the extension's owner)
    direction: Literal["inbound", "outbound"] = "inbound"
    at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Applied:
    applied: bool  # False: this event for this call was already applied
    customer_id: str | None
    agent_id: str | None
    caller: str


class CtiEvents:
    def __init__(self, *, uow: UnitOfWorkFactory, ingestion: ContactIngestion, clock: Clock,
                 default_region: str) -> None:
        self._uow = uow
        self._ingestion = ingestion
        self._clock = clock
        self._region = default_region

    async def apply(self, event: CtiEvent) -> Applied:
        """Apply the event; the caller (the HTTP adapter) pushes the screen-pop for a
        first ``ringing`` with the customer and agent this returns."""
        sid = f"cti:{event.call_id}"
        now = event.at or self._clock.now()
        number = normalise_phone(event.caller, self._region)
        async with self._uow() as uow:
            agent_id = await self._agent(uow, event.agent)
            call = await uow.calls.get(sid)
            if call is None:
                found = (await uow.customers.search(email=None, phone=number.normalized,
                                                    text=None, limit=2)
                         if number.normalized else [])
                call = Call(sid=sid, direction=event.direction,
                            from_number=number.normalized or event.caller[:64],
                            to_number=(event.dialled or "")[:64],
                            customer_id=found[0].id if len(found) == 1 else None,
                            started_at=now)
                await uow.calls.add(call)
            if not await uow.calls.first_event(sid, event.event):
                await uow.commit()
                return Applied(applied=False, customer_id=call.customer_id, agent_id=agent_id,
                               caller=call.from_number)
            if event.event == "answered":
                call.advance(CallStatus.IN_PROGRESS)
                call.answered_at = call.answered_at or now
                call.outcome = CallOutcome.ANSWERED
            elif event.event == "ended":
                call.advance(CallStatus.COMPLETED)
                call.ended_at = now
                if call.answered_at is not None:
                    call.duration_s = int((now - call.answered_at).total_seconds())
                call.outcome = call.outcome or CallOutcome.ABANDONED
            await uow.calls.save(call)
            await uow.commit()
        if event.event == "ended":
            await self._log(call, agent_id)
        return Applied(applied=True, customer_id=call.customer_id, agent_id=agent_id,
                       caller=call.from_number)

    async def _agent(self, uow: UnitOfWork, given: str | None) -> str | None:
        if not given:
            return None
        agents = await uow.workforce.list_agents()
        match = next((a for a in agents if given in (a.id, a.username)), None)
        if match is None:
            raise InvalidInput({"agent": f"no agent with id or username {given!r}"})
        return str(match.id)

    async def _log(self, call: Call, agent_id: str | None) -> None:
        result = await self._ingestion.ingest(IngestContact(
            channel=Channel.PHONE,
            direction=Direction.INBOUND if call.direction == "inbound" else Direction.OUTBOUND,
            external_id=call.sid, party=caller_party(call), occurred_at=call.started_at,
            summary="Telefoongesprek", from_address=call.from_number,
            metadata=tuple((k, v) for k, v in (
                ("call_id", call.sid), ("agent_id", agent_id or ""),
                ("outcome", call.outcome.value if call.outcome else ""),
                ("duration_s", str(call.duration_s or 0)), ("dialled", call.to_number)) if v),
            open_case=False))
        async with self._uow() as uow:
            stored = await uow.calls.get(call.sid)
            if stored is not None:
                stored.contact_id = result.contact_id
                await uow.calls.save(stored)
                await uow.commit()
