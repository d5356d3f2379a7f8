"""Retention: each kind of data is kept for its configured term, then removed.

One pass (:meth:`Retention.run_once`, run by the ``privacy`` worker) goes through the kinds
of :class:`core.domain.privacy.RetainedKind` that have a term and removes what is past it,
``batch_size`` rows per transaction, so a large backlog never holds one long transaction
or the write lock for long; then it deletes the stored files nothing refers to any more,
and starts an erasure for each customer with no contact for the inactivity term. What a
legal hold covers is never selected. Removal is the same as erasure's for the rows it
touches (content goes, what reports count stays), so each pass is idempotent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from core.domain.audit import SYSTEM, AuditAction
from core.domain.clock import Clock
from core.domain.errors import Conflict
from core.domain.privacy import RetainedKind, RetentionTerms
from core.ports import UnitOfWork, UnitOfWorkFactory
from core.services import audit
from core.services.erasure import Erasures

log = logging.getLogger(__name__)

QUARANTINE_WHY = "retention: the original was deleted at the end of its term"


@dataclass(frozen=True, slots=True, kw_only=True)
class RetentionSettings:
    terms: RetentionTerms
    batch_size: int = 500


@dataclass(slots=True)
class RetentionRun:
    """What one pass removed, per kind (rows or items)."""

    removed: dict[str, int] = field(default_factory=dict)

    def add(self, what: str, n: int) -> None:
        if n:
            self.removed[what] = self.removed.get(what, 0) + n


# One batch of one pass: (whether the batch was full, so more may wait; how many removed).
Batch = Callable[[UnitOfWork, datetime, datetime, int], Awaitable[tuple[bool, int]]]


class Retention:
    def __init__(self, *, uow: UnitOfWorkFactory, clock: Clock, erasures: Erasures,
                 settings: RetentionSettings) -> None:
        self._uow = uow
        self._clock = clock
        self._erasures = erasures
        self._settings = settings

    @property
    def enabled(self) -> bool:
        return self._settings.terms.any

    async def run_once(self, stop: asyncio.Event | None = None) -> RetentionRun:
        now = self._clock.now()
        run = RetentionRun()
        passes: list[tuple[RetainedKind, str, Batch]] = [
            (RetainedKind.RAW_MAIL, "raw_mail", _raw_mail),
            (RetainedKind.RAW_MAIL, "quarantined_originals", _quarantined),
            (RetainedKind.RECORDINGS, "recordings", _recordings),
            (RetainedKind.CHAT_TRANSCRIPTS, "chat_contacts", _contacts_of("chat")),
            (RetainedKind.CHAT_TRANSCRIPTS, "chat_lines", _chat_lines),
            (RetainedKind.WEB_FORMS, "web_forms", _contacts_of("webform")),
            (RetainedKind.CLOSED_CASES, "closed_cases", _closed_cases),
        ]
        for kind, what, batch in passes:
            cutoff = self._settings.terms.cutoff(kind, now)
            if cutoff is not None:
                run.add(what, await self._drain(batch, cutoff, now, stop))
        run.add("stored_files", await self._sweep(stop))
        cutoff = self._settings.terms.cutoff(RetainedKind.INACTIVE_CUSTOMERS, now)
        if cutoff is not None:
            run.add("inactive_customers", await self._erase_inactive(cutoff, stop))
        if run.removed:
            async with self._uow() as uow:
                await audit.record(  # AUDIT: what retention removed this time
                    uow, at=now, actor=SYSTEM, action=AuditAction.RETENTION_APPLIED,
                    subject_kind="retention", subject_id=None,
                    details={"removed": dict(run.removed)})
                await uow.commit()
            log.info("retention removed %s", run.removed)
        return run

    async def _drain(self, batch: Batch, cutoff: datetime, now: datetime,
                     stop: asyncio.Event | None) -> int:
        size = self._settings.batch_size
        total = 0
        while stop is None or not stop.is_set():
            async with self._uow() as uow:
                full, removed = await batch(uow, cutoff, now, size)
                await uow.commit()
            total += removed
            if not full:
                break
        return total

    async def _sweep(self, stop: asyncio.Event | None) -> int:
        size = self._settings.batch_size
        deleted = 0
        while stop is None or not stop.is_set():
            async with self._uow() as uow:
                looked_at, gone = await uow.redactions.sweep_blobs(limit=size)
                await uow.commit()
            deleted += gone
            if looked_at < size:
                break
        return deleted

    async def _erase_inactive(self, cutoff: datetime, stop: asyncio.Event | None) -> int:
        days = self._settings.terms.days.get(RetainedKind.INACTIVE_CUSTOMERS)
        async with self._uow() as uow:
            found = await uow.retention.inactive_customers(
                cutoff, limit=self._settings.batch_size)
        erased = 0
        for customer_id in found:
            if stop is not None and stop.is_set():
                break
            try:
                await self._erasures.erase(
                    customer_id, actor=SYSTEM,
                    reason=f"retention: no contact for {days} days")
            except Conflict as err:  # a case opened or a hold was placed meanwhile
                log.info("inactive customer %s not erased: %s", customer_id, err)
                continue
            erased += 1
        return erased


async def _raw_mail(uow: UnitOfWork, cutoff: datetime, now: datetime,
                    limit: int) -> tuple[bool, int]:
    found = await uow.retention.raw_mail_past(cutoff, limit=limit)
    await uow.redactions.release_blobs(await uow.retention.strip_raw_mail(found), at=now)
    return len(found) == limit, len(found)


async def _quarantined(uow: UnitOfWork, cutoff: datetime, now: datetime,
                       limit: int) -> tuple[bool, int]:
    found = await uow.retention.quarantined_past(cutoff, limit=limit)
    keys = await uow.redactions.drop_quarantined_originals(found, why=QUARANTINE_WHY)
    await uow.redactions.release_blobs(keys, at=now)
    return len(found) == limit, len(found)


async def _recordings(uow: UnitOfWork, cutoff: datetime, now: datetime,
                      limit: int) -> tuple[bool, int]:
    found = await uow.retention.recordings_past(cutoff, limit=limit)
    return len(found) == limit, await uow.retention.strip_recordings(found) if found else 0


def _contacts_of(channel: str) -> Batch:
    async def batch(uow: UnitOfWork, cutoff: datetime, now: datetime,
                    limit: int) -> tuple[bool, int]:
        found = await uow.retention.contacts_past(channel, cutoff, limit=limit)
        await uow.redactions.release_blobs(
            await uow.redactions.redact_contacts(found, at=now), at=now)
        return len(found) == limit, len(found)
    return batch


async def _chat_lines(uow: UnitOfWork, cutoff: datetime, now: datetime,
                      limit: int) -> tuple[bool, int]:
    blanked = await uow.retention.blank_chat_lines_past(cutoff, limit=limit)
    return blanked == limit, blanked


async def _closed_cases(uow: UnitOfWork, cutoff: datetime, now: datetime,
                        limit: int) -> tuple[bool, int]:
    # A case brings all its contacts along: fewer cases per transaction.
    cases = max(1, limit // 10)
    found = await uow.retention.closed_cases_past(cutoff, limit=cases)
    after: str | None = None
    while found:
        contacts = await uow.redactions.contact_ids(case_ids=found, after=after, limit=limit)
        await uow.redactions.release_blobs(
            await uow.redactions.redact_contacts(contacts, at=now), at=now)
        if len(contacts) < limit:
            break
        after = contacts[-1]
    await uow.redactions.redact_cases(found, at=now)
    return len(found) == cases, len(found)
