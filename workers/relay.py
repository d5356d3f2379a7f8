"""The outbox relay: moves committed events from SQL onto the bus.

Woken by every local commit that queued events (no slow timer on the hot path), and polls
at ``poll_interval_s`` for rows other processes wrote. Each batch is claimed, published and
marked in one transaction, so a crash re-publishes at most that batch (consumers are
idempotent) and never loses one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from core.domain.clock import Clock
from core.domain.events import Envelope
from core.ports import EventBus
from core.storage import outbox
from core.storage.engine import WRITE
from workers.waiting import wait_any

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(self, engine: AsyncEngine, bus: EventBus, clock: Clock, *,
                 signal: asyncio.Event, batch_size: int = 500, poll_interval_s: float = 0.5,
                 retry_delay_s: float = 1.0, keep_published: timedelta = timedelta(hours=1),
                 on_published: Callable[[Sequence[Envelope], datetime], None] | None = None,
                 ) -> None:
        self._engine = engine
        self._bus = bus
        self._clock = clock
        self._signal = signal
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._retry_delay_s = retry_delay_s
        self._keep_published = keep_published
        self._on_published = on_published  # told of each batch once it is committed

    async def run(self, stop: asyncio.Event) -> None:
        batches = 0
        while not stop.is_set():
            self._signal.clear()
            delay = self._poll_interval_s
            try:
                await self.drain()
                batches += 1
                if batches % 1000 == 0:
                    await self.prune()
            except Exception:  # the database or bus is down: keep going, nothing is lost
                log.exception("outbox relay failed; retrying in %.1f s", self._retry_delay_s)
                delay = self._retry_delay_s
            await wait_any((self._signal, stop), timeout_s=delay)
        log.info("outbox relay stopped")

    async def drain(self) -> int:
        """Publish everything unpublished now; returns how many envelopes were published."""
        total = 0
        while True:
            async with self._engine.connect() as conn:
                if conn.dialect.name == "sqlite":
                    conn = await conn.execution_options(**WRITE)
                async with conn.begin():
                    claimed = await outbox.claim_unpublished(conn, self._batch_size)
                    if not claimed:
                        return total
                    await self._bus.publish([envelope for _, envelope in claimed])
                    await outbox.mark_published(conn, [seq for seq, _ in claimed],
                                                self._clock.now())
            total += len(claimed)
            if self._on_published is not None:
                self._on_published([envelope for _, envelope in claimed], self._clock.now())

    async def prune(self) -> None:
        async with self._engine.begin() as conn:
            await outbox.prune(conn, older_than=self._clock.now() - self._keep_published)
