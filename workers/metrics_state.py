"""Gauges of the installation as a whole, read when Prometheus scrapes: what waits in each
queue and for how long, what the outbox has not yet published, and how far behind each
consumer group of the bus is.

Web processes report them (each the same values: aggregate with ``max``, not ``sum``).
A read is shared by every scrape within ``max_age_s`` and bounded by ``timeout_s``; when it
fails, the gauges are left out rather than repeated stale, and
``switchboard_state_read_ok`` says 0.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Sequence

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from sqlalchemy.ext.asyncio import AsyncEngine

from core.domain.clock import Clock
from core.ports import EventBus
from core.storage.gauges import outbox_backlog, queue_backlogs
from workers.metrics import StateCollector

log = logging.getLogger(__name__)


class InstallationState(StateCollector):
    def __init__(self, engine: AsyncEngine, bus: EventBus, clock: Clock,
                 groups: Sequence[str], *, max_age_s: float = 1.0, timeout_s: float = 2.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._engine = engine
        self._bus = bus
        self._clock = clock
        self._groups = tuple(groups)
        self._max_age_s = max_age_s
        self._timeout_s = timeout_s
        self._monotonic = monotonic
        self._lock = asyncio.Lock()
        self._read_at: float | None = None
        self._gauges: list[Metric] = []
        self._ok = False

    async def refresh(self) -> None:
        async with self._lock:  # concurrent scrapes wait for one read
            now = self._monotonic()
            if self._read_at is not None and now - self._read_at < self._max_age_s:
                return
            try:
                async with asyncio.timeout(self._timeout_s):
                    self._gauges = await self._read()
                self._ok = True
            except Exception as err:  # noqa: BLE001 - reported as a gauge, and logged
                log.warning("metrics: could not read the installation's state: %s: %s",
                            type(err).__name__, err)
                self._gauges, self._ok = [], False
            self._read_at = now

    def collect(self) -> Iterable[Metric]:
        yield GaugeMetricFamily(
            "switchboard_state_read_ok", "1 when the gauges of queues, outbox and bus "
            "could be read from the database and the bus at the last scrape.",
            value=1 if self._ok else 0)
        yield from self._gauges

    async def _read(self) -> list[Metric]:
        async with self._engine.connect() as conn:
            queues = await queue_backlogs(conn)
            outbox = await outbox_backlog(conn)
        backlogs = [(group, await self._bus.backlog(group)) for group in self._groups]
        now = self._clock.now()

        waiting = GaugeMetricFamily(
            "switchboard_queue_waiting", "Contacts waiting in the queue (queued, or offered "
            "and not yet accepted).", labels=["queue"])
        longest = GaugeMetricFamily(
            "switchboard_queue_longest_wait_seconds", "How long the oldest contact waiting "
            "in the queue has waited (0 when none waits).", labels=["queue"])
        for queue in queues:
            waiting.add_metric([queue.queue_id], queue.waiting)
            age = (0.0 if queue.oldest_enqueued_at is None
                   else (now - queue.oldest_enqueued_at).total_seconds())
            longest.add_metric([queue.queue_id], max(0.0, age))

        unpublished = GaugeMetricFamily(
            "switchboard_outbox_unpublished", "Events committed but not yet published on "
            "the bus (the outbox relay's backlog).", value=outbox.unpublished)
        oldest = 0.0 if outbox.oldest_occurred_at is None else max(
            0.0, (now - outbox.oldest_occurred_at).total_seconds())
        lag = GaugeMetricFamily(
            "switchboard_outbox_lag_seconds", "Age of the oldest unpublished event (0 when "
            "the outbox is empty): grows when no relay runs.", value=oldest)

        bus_waiting = GaugeMetricFamily(
            "switchboard_bus_waiting", "Events published but not yet delivered to the "
            "consumer group: grows when the group's workers are down or too few.",
            labels=["group"])
        pending = GaugeMetricFamily(
            "switchboard_bus_pending", "Events delivered to the group and not yet "
            "acknowledged (in hand, or held by a consumer that died).", labels=["group"])
        dead = GaugeMetricFamily(
            "switchboard_bus_dead_letters", "Events the group gave up on after "
            "SWITCHBOARD_BUS_MAX_DELIVERIES failures; each needs a look.", labels=["group"])
        for group, backlog in backlogs:
            if backlog.waiting is not None:
                bus_waiting.add_metric([group], backlog.waiting)
            pending.add_metric([group], backlog.pending)
            dead.add_metric([group], backlog.dead_letters)
        return [waiting, longest, unpublished, lag, bus_waiting, pending, dead]
