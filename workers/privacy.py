"""The privacy worker: finishes erasures that stopped halfway and applies the retention
terms every ``SWITCHBOARD_RETENTION_INTERVAL_S`` (docs/security.md, "Privacy operations").

Any number may run: each erasure is run under its own lease, and retention passes under
the ``privacy:retention`` lease, so one process applies them at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import redis.asyncio as redis

from core.bus.history import NoEventHistory, RedisEventHistory
from core.config import Settings
from core.domain.clock import Clock
from core.domain.privacy import RetainedKind, RetentionTerms
from core.ports import EventHistory, UnitOfWorkFactory
from core.services.consent import Consents
from core.services.erasure import Erasures, ErasureSettings
from core.services.leases import LeaseKeeper
from core.services.legal_holds import LegalHolds
from core.services.privacy import Privacy
from core.services.retention import Retention, RetentionSettings
from workers.services import Services

log = logging.getLogger(__name__)

RETRY_S = 60.0


def retention_terms(settings: Settings) -> RetentionTerms:
    return RetentionTerms(days={
        RetainedKind.RAW_MAIL: settings.retention_raw_mail_days,
        RetainedKind.RECORDINGS: settings.retention_recordings_days,
        RetainedKind.CHAT_TRANSCRIPTS: settings.retention_chat_transcripts_days,
        RetainedKind.CLOSED_CASES: settings.retention_closed_cases_days,
        RetainedKind.WEB_FORMS: settings.retention_web_forms_days,
        RetainedKind.INACTIVE_CUSTOMERS: settings.retention_inactive_customers_days,
    })


def event_history(settings: Settings, client: redis.Redis | None) -> EventHistory:
    if client is None:
        return NoEventHistory()
    return RedisEventHistory(client, stream=settings.redis_stream)


def build_privacy(settings: Settings, *, uow: UnitOfWorkFactory, read_uow: UnitOfWorkFactory,
                  clock: Clock, history: EventHistory, instance: str) -> Privacy:
    erasures = Erasures(uow=uow, clock=clock, history=history,
                        settings=ErasureSettings(holder=instance))
    return Privacy(
        erasures=erasures,
        retention=Retention(uow=uow, clock=clock, erasures=erasures, settings=RetentionSettings(
            terms=retention_terms(settings), batch_size=settings.retention_batch_size)),
        holds=LegalHolds(uow=uow, read_uow=read_uow, clock=clock),
        consents=Consents(uow=uow, read_uow=read_uow, clock=clock))


async def run_privacy(services: Services, stop: asyncio.Event) -> None:
    privacy = services.privacy
    interval_s = services.settings.retention_interval_s
    # Renewed by every pass of the holder; a holder that dies frees it after two intervals.
    lease = LeaseKeeper(name="privacy:retention", holder=services.instance, uow=services.uow,
                        clock=services.clock, ttl_s=max(60.0, interval_s * 2))
    while not stop.is_set():
        pause_s = interval_s
        try:
            await privacy.erasures.finish_open()
            if privacy.retention.enabled and await lease.try_take():
                await privacy.retention.run_once(stop)
        except Exception:
            log.exception("privacy worker: a pass failed; trying again in %.0f s", RETRY_S)
            pause_s = min(interval_s, RETRY_S)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=pause_s)
    with contextlib.suppress(Exception):  # the database may be why we stop
        async with services.uow() as uow:
            await uow.leases.give_up(lease.name, lease.holder)
            await uow.commit()
