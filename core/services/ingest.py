"""Ingesting a contact: one transaction that matches the customer, files the contact on a
case and queues the events (ContactReceived → CustomerResolved → CaseOpened/CaseUpdated).

Idempotent on (channel, external_id): a contact already stored is returned, not stored again,
so a channel adapter may retry freely after a crash.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from core.domain.channels import ChannelRef, Direction
from core.domain.clock import Clock
from core.domain.commands import IngestContact
from core.domain.contact import Case, CaseStatus, CaseType, Contact, Priority
from core.domain.customer import Customer, Identifier, PossibleDuplicate
from core.domain.errors import AlreadyStored, InvalidInput
from core.domain.events import (
    CaseOpened,
    CaseUpdated,
    ContactReceived,
    CustomerResolved,
    Event,
    PossibleDuplicateFlagged,
)
from core.domain.ids import new_id
from core.identity.resolver import (
    Observed,
    Resolution,
    lookup_keys,
    matchable_keys,
    resolve,
    skeletons,
)
from core.ports import UnitOfWork, UnitOfWorkFactory
from core.services.group_commit import GroupCommit
from core.services.identities import observed_identifiers

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class IngestResult:
    contact_id: str
    customer_id: str
    case_id: str | None
    duplicate: bool = False
    customer_created: bool = False
    case_created: bool = False


# Extra writes a channel makes in the same transaction as the contact (its message
# references, an acknowledgement to send), so either all of it is stored or none.
AlsoInTransaction = Callable[[UnitOfWork, IngestResult], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class _Arrival:
    cmd: IngestContact
    observed: list[Observed]
    also: AlsoInTransaction | None


class ContactIngestion:
    """Contacts that arrive together are stored together: concurrent calls to ``ingest``
    share one transaction (:class:`GroupCommit`, up to ``max_batch`` contacts), and each
    call returns once its own contact is committed. If any contact of a batch fails, the
    batch is rolled back and every contact in it is stored again on its own, so one bad
    contact costs the others nothing but time."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, *, default_region: str,
                 max_batch: int = 100) -> None:
        self._uow = uow
        self._clock = clock
        self._default_region = default_region
        self._group: GroupCommit[_Arrival, IngestResult] = GroupCommit(
            self._store_batch, max_batch=max_batch)

    async def ingest(self, cmd: IngestContact, *,
                     also: AlsoInTransaction | None = None) -> IngestResult:
        observed = observed_identifiers(cmd.party, cmd.channel, self._default_region)
        if not observed:
            raise InvalidInput({"from": "give at least one of email, phone, visitor_id, crm_id"})
        return await self._group.submit(_Arrival(cmd, observed, also))

    async def _store_batch(self, batch: Sequence[_Arrival]) -> list[IngestResult | Exception]:
        if len(batch) > 1:
            try:
                async with self._uow() as uow:
                    # In order, in one transaction: a contact sees the customers and cases
                    # the ones before it created, exactly as if they had committed first.
                    results = [await self._ingest_in(uow, arrival) for arrival in batch]
                    await uow.commit()
                return list(results)
            except Exception:  # each contact is tried again on its own below
                log.debug("a batch of %d contacts failed; storing them one by one",
                          len(batch), exc_info=True)
        outcomes: list[IngestResult | Exception] = []
        for arrival in batch:
            try:
                outcomes.append(await self._ingest_alone(arrival))
            except Exception as err:  # noqa: BLE001 - the error belongs to that caller
                outcomes.append(err)
        return outcomes

    async def _ingest_in(self, uow: UnitOfWork, arrival: _Arrival) -> IngestResult:
        cmd, observed = arrival.cmd, arrival.observed
        stored = await uow.contacts.get_by_ref(cmd.channel.value, cmd.external_id)
        if stored is not None:
            return _already(stored)
        await uow.customers.lock_keys(matchable_keys(observed))
        resolution = resolve(
            observed,
            holders=await uow.customers.holders(lookup_keys(observed)),
            skeleton_holders=await uow.customers.holders_by_skeleton(skeletons(observed)),
        )
        result = await self._store(uow, cmd, resolution)
        if arrival.also is not None:
            await arrival.also(uow, result)
        return result

    async def _ingest_alone(self, arrival: _Arrival) -> IngestResult:
        cmd = arrival.cmd
        try:
            async with self._uow() as uow:
                result = await self._ingest_in(uow, arrival)
                if not result.duplicate:
                    await uow.commit()
                return result
        except AlreadyStored:
            # Lost a race with a concurrent delivery of the same contact: report the winner.
            async with self._uow() as uow:
                stored = await uow.contacts.get_by_ref(cmd.channel.value, cmd.external_id)
            if stored is None:
                raise
            return _already(stored)

    async def _store(self, uow: UnitOfWork, cmd: IngestContact,
                     resolution: Resolution) -> IngestResult:
        now = self._clock.now()
        customer, created = await self._customer(uow, cmd, resolution)
        contact_id = new_id("con")
        events: list[Event] = [CustomerResolved(
            contact_id=contact_id, customer_id=customer.id, created=created,
            matched_on=resolution.matched_on)]
        for suspicion in resolution.duplicates:
            flagged = await uow.identity.add_duplicate(PossibleDuplicate(
                id=new_id("dup"), customer_id=customer.id,
                other_customer_id=suspicion.other_customer_id, reason=suspicion.reason,
                contact_id=contact_id, created_at=now))
            if flagged:
                events.append(_flagged(customer.id, suspicion.other_customer_id,
                                       suspicion.reason))
        case, case_event, case_created = await self._case(uow, cmd, customer.id, contact_id)
        if case_event is not None:
            events.append(case_event)
        case_id = case.id if case is not None else None
        contact = Contact(
            id=contact_id, ref=ChannelRef(channel=cmd.channel, external_id=cmd.external_id),
            direction=cmd.direction, customer_id=customer.id, case_id=case_id,
            occurred_at=cmd.occurred_at or now, received_at=now, from_name=cmd.party.name,
            from_address=cmd.from_address, subject=cmd.subject, summary=cmd.summary,
            body=cmd.body, transcript=cmd.transcript, attachments=list(cmd.attachments),
            raw_ref=cmd.raw_ref, metadata=dict(cmd.metadata))
        await uow.contacts.add(contact)
        events.insert(0, ContactReceived(
            contact_id=contact.id, channel=cmd.channel.value, direction=cmd.direction.value,
            customer_id=customer.id, case_id=case_id, occurred_at=contact.occurred_at))
        uow.outbox.add(events)
        return IngestResult(contact_id=contact.id, customer_id=customer.id, case_id=case_id,
                            customer_created=created, case_created=case_created)

    async def _customer(self, uow: UnitOfWork, cmd: IngestContact,
                        resolution: Resolution) -> tuple[Customer, bool]:
        now = self._clock.now()
        fresh = [_identifier(o, cmd, now) for o in resolution.to_attach]
        if resolution.customer_id is None:
            customer = Customer(id=new_id("cus"), display_name=cmd.party.name,
                                identifiers=fresh, created_at=now, updated_at=now)
            await uow.customers.add(customer)
            return customer, True
        stored = await uow.customers.get(resolution.customer_id)
        if stored is None:  # holders() only returns stored customers
            raise RuntimeError(f"resolved customer {resolution.customer_id} vanished")
        customer = stored
        # Claims and invalid values may repeat what the customer already holds.
        held = {(i.kind, i.normalized or i.value) for i in customer.identifiers}
        fresh = [i for i in fresh if (i.kind, i.normalized or i.value) not in held]
        await uow.customers.add_identifiers(customer.id, fresh)
        seen = {key for key in resolution.seen_again}
        await uow.customers.touch_identifiers(
            [i.id for i in customer.identifiers
             if i.normalized is not None and (i.kind, i.normalized) in seen], now)
        if customer.display_name is None and cmd.party.name:
            customer.display_name = cmd.party.name
        customer.updated_at = now
        await uow.customers.update_profile(customer)
        customer.identifiers.extend(fresh)
        return customer, False

    async def _case(self, uow: UnitOfWork, cmd: IngestContact, customer_id: str,
                    contact_id: str) -> tuple[Case | None, Event | None, bool]:
        if cmd.case_id is not None:
            case = await uow.cases.get(cmd.case_id)
            # A contact may only join a case of the customer it was matched to.
            if case is None or case.customer_id != customer_id:
                raise InvalidInput({"case_id": "no case with this id belongs to this customer"})
            return case, await self._continue(uow, cmd, case, contact_id), False
        for candidate_id in cmd.thread_case_ids:
            case = await uow.cases.get(candidate_id)
            # A reference names a case; only its own customer may continue it (a forged
            # In-Reply-To must not put a stranger's message on someone else's case).
            if case is not None and case.customer_id == customer_id \
                    and case.status is not CaseStatus.CLOSED:
                return case, await self._continue(uow, cmd, case, contact_id), False
        if not cmd.open_case:
            return None, None, False
        now = self._clock.now()
        case = Case(
            id=new_id("cas"), number=await uow.cases.next_number(), customer_id=customer_id,
            type=cmd.case_type or CaseType.QUESTION, priority=cmd.priority or Priority.NORMAL,
            subject=cmd.subject or cmd.summary, queue_id=cmd.queue_id, tags=list(cmd.tags),
            created_at=now, updated_at=now)
        await uow.cases.add(case)
        return case, CaseOpened(
            case_id=case.id, customer_id=customer_id, contact_id=contact_id,
            case_type=case.type.value, priority=int(case.priority),
            queue_id=case.queue_id), True

    async def _continue(self, uow: UnitOfWork, cmd: IngestContact, case: Case,
                        contact_id: str) -> Event:
        now = self._clock.now()
        changes: dict[str, object] = {}
        if cmd.direction is Direction.INBOUND and cmd.reopen and case.status in (
                CaseStatus.RESOLVED, CaseStatus.PENDING):
            case.move_to(CaseStatus.OPEN, now)
            changes["status"] = CaseStatus.OPEN.value
        if cmd.direction is Direction.OUTBOUND and case.first_responded_at is None:
            # The first answer the customer gets stops the first-response SLA clock.
            case.first_responded_at = now
            changes["first_responded"] = True
        case.updated_at = now
        await uow.cases.save(case)
        return CaseUpdated(case_id=case.id, contact_id=contact_id, changes=changes)


def _already(stored: Contact) -> IngestResult:
    return IngestResult(contact_id=stored.id, customer_id=stored.customer_id,
                        case_id=stored.case_id, duplicate=True)


def _flagged(customer_id: str, other_id: str, reason: str) -> Event:
    return PossibleDuplicateFlagged(customer_id=customer_id, other_customer_id=other_id,
                                    reason=reason)


def _identifier(observed: Observed, cmd: IngestContact, now: datetime) -> Identifier:
    ident = observed.identifier
    return Identifier(
        id=new_id("idn"), kind=ident.kind, value=ident.value, normalized=ident.normalized,
        skeleton=ident.skeleton, verified=observed.verified, claimed=observed.claimed,
        source=cmd.channel, first_seen_at=now, last_seen_at=now)
