"""Erasing a customer: a durable request, worked through in steps until it is done.

:meth:`Erasures.request` checks and records the request in one transaction (refused while
a legal hold covers the customer or one of their cases, or while cases are open). From
then on the erasure *will* finish: :meth:`Erasures.run` works through
:data:`core.domain.privacy.ERASURE_STEPS`, each step one or more short transactions that
save how far they got together with what they changed. If the process dies, a step fails
or the database goes away, the request stays open; the next :meth:`run` (the same API call
again, or the ``privacy`` worker, which finishes open requests) continues from the last
commit. Steps are idempotent, so doing part of one twice does no harm. A lease keeps two
processes from running one request at once.

The request and its completion are audited; the entries name the customer by id only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.domain.audit import SYSTEM, Actor, AuditAction
from core.domain.clock import Clock
from core.domain.customer import CustomerStatus
from core.domain.errors import AlreadyStored, Conflict, NotFound
from core.domain.ids import new_id
from core.domain.privacy import (
    PERSONAL_EVENT_TOPICS,
    ErasureRequest,
    ErasureStep,
    OpenCasesRemain,
    UnderLegalHold,
)
from core.ports import EventHistory, UnitOfWork, UnitOfWorkFactory
from core.services import audit

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
QUARANTINE_WHY = "erased: the original named an erased customer and was deleted"


@dataclass(frozen=True, slots=True, kw_only=True)
class ErasureSettings:
    batch_size: int = 200  # rows per transaction in the batched steps
    holder: str = "switchboard"  # this process, as lease holder


class Erasures:
    def __init__(self, *, uow: UnitOfWorkFactory, clock: Clock, history: EventHistory,
                 settings: ErasureSettings | None = None) -> None:
        self._uow = uow
        self._clock = clock
        self._history = history
        self._settings = settings or ErasureSettings()

    async def erase(self, customer_id: str, *, actor: Actor, reason: str) -> ErasureRequest:
        """Request the erasure (or find the one under way) and carry it out."""
        request = await self.request(customer_id, actor=actor, reason=reason)
        return await self.run(request.id)

    async def request(self, customer_id: str, *, actor: Actor,
                      reason: str) -> ErasureRequest:
        try:
            return await self._request(customer_id, actor=actor, reason=reason)
        except AlreadyStored:  # a concurrent request for the same customer won
            found = await self.get(customer_id)
            if found is None:
                raise
            return found

    async def _request(self, customer_id: str, *, actor: Actor,
                       reason: str) -> ErasureRequest:
        async with self._uow() as uow:
            existing = await uow.privacy.erasure_for(customer_id)
            if existing is not None:
                return existing  # idempotent: the same request, done or to be continued
            customer = await uow.customers.get(customer_id)
            if customer is None:
                raise NotFound("customer", customer_id)
            if customer.status is CustomerStatus.MERGED:
                raise Conflict(f"customer {customer_id} was merged into "
                               f"{customer.merged_into}; erase that customer (this one "
                               "goes with it)")
            customer_ids = await uow.redactions.merged_into(customer_id)
            await _check_holds(uow, customer_ids)
            open_cases = [c for cid in customer_ids
                          for c in await uow.cases.open_for_customer(cid)]
            if open_cases:
                raise OpenCasesRemain([c.reference for c in open_cases])
            now = self._clock.now()
            request = ErasureRequest(
                id=new_id("era"), customer_id=customer_id, customer_ids=customer_ids,
                requested_by=actor.name, requested_at=now, reason=reason,
                match=await uow.redactions.identity_values(customer_ids))
            await uow.privacy.add_erasure(request)
            await audit.record(  # AUDIT: the erasure was asked for
                uow, at=now, actor=actor, action=AuditAction.ERASURE_REQUESTED,
                subject_kind="customer", subject_id=customer_id, customer_id=customer_id,
                # Not the reason: free text may name the person, and the log is forever
                # (it stays with the request).
                details={"erasure_id": request.id, "customers": len(customer_ids)})
            await uow.commit()
        log.info("erasure %s of customer %s requested", request.id, customer_id)
        return request

    async def run(self, request_id: str) -> ErasureRequest:
        """Carry the request on to the end. Raises what a step raised (the request stays
        open and continues next time); a request another process is running is returned
        as it stands."""
        lease = f"erasure:{request_id}"
        if not await self._take(lease):
            return await self._get(request_id)
        try:
            while True:
                request = await self._get(request_id)
                if request.done:
                    return request
                try:
                    await self._step(request)
                except Exception as err:
                    await self._failed(request_id, err)
                    raise
        finally:
            async with self._uow() as uow:
                await uow.leases.give_up(lease, self._settings.holder)
                await uow.commit()

    async def finish_open(self, *, limit: int = 20) -> int:
        """Run every open request (the worker's recovery); returns how many finished."""
        async with self._uow() as uow:
            pending = await uow.privacy.open_erasures(limit=limit)
        finished = 0
        for request in pending:
            try:
                done = await self.run(request.id)
            except UnderLegalHold as err:
                log.info("erasure %s waits: %s", request.id, err)
                continue
            except Exception:  # noqa: BLE001 - run() logged it; the others still go on
                log.info("erasure %s continues on the next pass", request.id)
                continue
            finished += done.done
        return finished

    async def get(self, customer_id: str) -> ErasureRequest | None:
        async with self._uow() as uow:
            return await uow.privacy.erasure_for(customer_id)

    # --- the steps ---------------------------------------------------------------------

    async def _step(self, request: ErasureRequest) -> None:
        if request.step is ErasureStep.EVENTS:
            # Outside the database: the bus forgets, then the step is recorded as done.
            request.count("bus_entries", await self._history.forget(
                topics=PERSONAL_EVENT_TOPICS, mentioning=request.customer_ids,
                since=await self._created(request)))
        now = self._clock.now()
        async with self._uow() as uow:
            # A hold placed since the request stops it where it is, until released.
            await _check_holds(uow, request.customer_ids)
            await self._do(uow, request, now)
            await uow.privacy.save_erasure(request)
            if request.done:
                await audit.record(  # AUDIT: the erasure is complete
                    uow, at=now, actor=SYSTEM, action=AuditAction.CUSTOMER_ERASED,
                    subject_kind="customer", subject_id=request.customer_id,
                    customer_id=request.customer_id,
                    details={"erasure_id": request.id, "requested_by": request.requested_by,
                             "removed": dict(request.counts)})
            await uow.commit()
        if request.done:
            log.info("erasure %s of customer %s done: %s", request.id, request.customer_id,
                     request.counts)

    async def _do(self, uow: UnitOfWork, request: ErasureRequest, now: datetime) -> None:
        ids, batch = request.customer_ids, self._settings.batch_size
        redact = uow.redactions
        match request.step:
            case ErasureStep.IDENTITY:
                for what, n in (await redact.erase_identity(ids, request.match,
                                                            at=now)).items():
                    request.count(what, n)
                request.advance()
            case ErasureStep.CONTACTS:
                found = await redact.contact_ids(customer_ids=ids, after=request.cursor,
                                                 limit=batch)
                await redact.release_blobs(await redact.redact_contacts(found, at=now), at=now)
                self._batch_done(request, "contacts", found, batch)
            case ErasureStep.CASES:
                found = await redact.case_ids(customer_ids=ids, after=request.cursor,
                                              limit=batch)
                await redact.redact_cases(found, at=now)
                self._batch_done(request, "cases", found, batch)
            case ErasureStep.CHANNELS:
                request.count("chat_lines", await redact.redact_chats(ids, request.match.emails))
                request.count("calls", await redact.redact_calls(ids, request.match.phones))
                request.count("survey_comments", await redact.redact_survey_comments(ids))
                request.count("events", await redact.redact_event_payloads(ids))
                request.advance()
            case ErasureStep.QUARANTINE:
                originals = await redact.quarantined_originals(after=request.cursor,
                                                               limit=batch)
                naming = [item for item, key in originals
                          if _names_them(await redact.blob(key), request.match.emails)]
                keys = await redact.drop_quarantined_originals(naming, why=QUARANTINE_WHY)
                await redact.release_blobs(keys, at=now)
                request.count("quarantined_originals", len(naming))
                self._batch_done(request, None, [item for item, _ in originals], batch)
            case ErasureStep.BLOBS:
                looked_at, deleted = await redact.sweep_blobs(limit=batch)
                request.count("stored_files", deleted)
                if looked_at < batch:
                    request.advance()
            case ErasureStep.EVENTS:
                request.advance()
                request.finish(now)

    @staticmethod
    def _batch_done(request: ErasureRequest, what: str | None, found: list[str],
                    batch: int) -> None:
        if what is not None:
            request.count(what, len(found))
        if len(found) < batch:
            request.advance()
        else:
            request.cursor = found[-1]

    async def _created(self, request: ErasureRequest) -> datetime | None:
        async with self._uow() as uow:
            created = [c.created_at for cid in request.customer_ids
                       if (c := await uow.customers.get(cid)) is not None]
        return min(created) if created else None

    async def _get(self, request_id: str) -> ErasureRequest:
        async with self._uow() as uow:
            request = await uow.privacy.get_erasure(request_id)
        if request is None:
            raise NotFound("erasure", request_id)
        return request

    async def _take(self, lease: str) -> bool:
        now = self._clock.now()
        async with self._uow() as uow:
            taken = await uow.leases.take(lease, self._settings.holder, now=now,
                                          until=now + LEASE)
            await uow.commit()
        return taken

    async def _failed(self, request_id: str, err: Exception) -> None:
        log.warning("erasure %s stopped (it continues when run again): %s", request_id,
                    err, exc_info=not isinstance(err, Conflict))
        async with self._uow() as uow:
            request = await uow.privacy.get_erasure(request_id)
            if request is not None:
                request.attempts += 1
                request.last_error = f"{type(err).__name__}: {err}"[:1000]
                await uow.privacy.save_erasure(request)
                await uow.commit()


async def _check_holds(uow: UnitOfWork, customer_ids: list[str]) -> None:
    holds = await uow.privacy.holds_for(customer_ids, active_only=True)
    if holds:
        raise UnderLegalHold(holds[0])


def _names_them(content: bytes | None, emails: Iterable[str]) -> bool:
    if not content:
        return False
    text = content.lower()
    return any(e.encode("utf-8", "replace") in text for e in emails if e)
