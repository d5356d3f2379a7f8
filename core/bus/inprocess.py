"""The in-process event bus: the single-process transport and the fake for tests.

Delivery semantics are those of :class:`core.ports.EventBus`, at least once, per group:

* every declared group has its own FIFO queue; ``publish`` puts one copy of the envelope's
  JSON (:mod:`core.bus.serialization`) in each, so a group declared later never sees it;
* consumers of a group share its queue: each envelope goes to one of them;
* an envelope is acknowledged only when the handler returns. A handler that raises gets it
  again after ``redelivery_delay_s``; after ``max_deliveries`` failed deliveries it is a
  dead letter instead;
* a consumer that stops (``stop`` set, :meth:`InProcessBus.close`) or is cancelled in the
  middle of a handler cancels that handler and puts the envelope back at once: it was not
  acknowledged, so another consumer (or the next ``consume``) gets it.

Nothing survives the process: the transactional outbox is what makes this acceptable for a
single-node deployment.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from core.bus.serialization import from_json, to_json
from core.domain.events import Envelope
from core.log_fields import event_log_fields, log_fields
from core.ports import BatchHandler, DeadLetter, EnvelopeHandler, GroupBacklog

log = logging.getLogger(__name__)


@dataclass(eq=False, slots=True)
class _Entry:
    """One envelope in one group's queue; identity-hashed so it can sit in a set."""

    raw: str
    deliveries: int = 0


@dataclass(slots=True)
class _Group:
    ready: asyncio.Queue[_Entry] = field(default_factory=asyncio.Queue)
    unacked: set[_Entry] = field(default_factory=set)
    dead: list[DeadLetter] = field(default_factory=list)


class _Interrupted:
    """The handler was cancelled because the consumer stopped; nothing was acknowledged."""


INTERRUPTED = _Interrupted()


async def run_handler(handler: EnvelopeHandler, envelope: Envelope,
                      stops: Sequence[asyncio.Event], grace_s: float
                      ) -> Exception | _Interrupted | None:
    """Run the handler until it finishes or one of ``stops`` is set (plus ``grace_s``).

    Returns None on success, the handler's exception on failure, or ``INTERRUPTED`` when
    it was cancelled. If the caller itself is cancelled, the handler is cancelled and
    awaited before the cancellation propagates.
    """
    async def call() -> None:
        await handler(envelope)

    task = asyncio.create_task(call(), name=f"handle {envelope.id}")
    watchers = [asyncio.create_task(stop.wait(), name="stop watcher") for stop in stops]
    try:
        await asyncio.wait([task, *watchers], return_when=asyncio.FIRST_COMPLETED)
        if not task.done() and grace_s > 0:
            await asyncio.wait([task], timeout=grace_s)
    finally:
        await cancel_all([task, *watchers])
    if task.cancelled():
        return INTERRUPTED
    error = task.exception()
    if error is None or isinstance(error, Exception):
        return error
    raise error  # KeyboardInterrupt, SystemExit: not the handler's business to absorb


class InProcessBus:
    """Per-group asyncio queues with redelivery and dead letters; see the module doc."""

    def __init__(self, max_deliveries: int = 5, redelivery_delay_s: float = 0.05) -> None:
        if max_deliveries < 1:
            raise ValueError("max_deliveries must be at least 1")
        self._max_deliveries = max_deliveries
        self._redelivery_delay_s = redelivery_delay_s
        self._groups: dict[str, _Group] = {}
        self._timers: set[asyncio.TimerHandle] = set()
        self._closed = asyncio.Event()

    async def declare_groups(self, groups: Sequence[str]) -> None:
        for group in groups:
            self._groups.setdefault(group, _Group())

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        raws = [to_json(envelope) for envelope in envelopes]  # all or nothing
        for state in self._groups.values():
            for raw in raws:
                state.ready.put_nowait(_Entry(raw))

    async def consume(self, *, group: str, consumer: str, handler: EnvelopeHandler,
                      stop: asyncio.Event) -> None:
        state = self._groups.get(group)
        if state is None:
            raise LookupError(f"consumer group {group!r} was never declared")
        stops = (stop, self._closed)
        while not any(event.is_set() for event in stops):
            entry = await _next(state.ready, stops)
            if entry is None:
                return
            await self._deliver(state, group, entry, handler, stops)

    async def consume_batches(self, *, group: str, consumer: str, handler: BatchHandler,
                              stop: asyncio.Event, max_batch: int = 200) -> None:
        state = self._groups.get(group)
        if state is None:
            raise LookupError(f"consumer group {group!r} was never declared")
        stops = (stop, self._closed)

        async def one(envelope: Envelope) -> None:
            await handler([envelope])

        while not any(event.is_set() for event in stops):
            first = await _next(state.ready, stops)
            if first is None:
                return
            entries = [first]
            while len(entries) < max_batch and not state.ready.empty():
                entries.append(state.ready.get_nowait())
            fresh = [e for e in entries if e.deliveries == 0]
            retries = [e for e in entries if e.deliveries > 0]  # one at a time, as ever
            if len(fresh) > 1:
                await self._deliver_batch(state, group, fresh, handler, one, stops)
            else:
                retries = entries
            for entry in retries:
                await self._deliver(state, group, entry, one, stops)

    async def _deliver_batch(self, state: _Group, group: str, entries: list[_Entry],
                             handler: BatchHandler, one: EnvelopeHandler,
                             stops: Sequence[asyncio.Event]) -> None:
        envelopes = [from_json(entry.raw) for entry in entries]
        state.unacked.update(entries)

        async def call(_: Envelope) -> None:
            await handler(envelopes)

        try:
            outcome = await run_handler(call, envelopes[0], stops, grace_s=0)
        except asyncio.CancelledError:
            for entry in entries:
                state.ready.put_nowait(entry)
            raise
        state.unacked.difference_update(entries)
        if outcome is None:
            return
        if isinstance(outcome, _Interrupted):
            for entry in entries:
                state.ready.put_nowait(entry)
            return
        log.warning("batch handler for group %s failed on %d envelopes; delivering them "
                    "one at a time", group, len(entries), exc_info=outcome)
        for entry in entries:
            await self._deliver(state, group, entry, one, stops)

    async def _deliver(self, state: _Group, group: str, entry: _Entry,
                       handler: EnvelopeHandler, stops: Sequence[asyncio.Event]) -> None:
        envelope = from_json(entry.raw)  # we wrote it ourselves: cannot be malformed
        # What the handler logs, and what is logged of its failure, names the event's case.
        with log_fields(**event_log_fields(envelope.id, envelope.payload)):
            await self._deliver_envelope(state, group, entry, envelope, handler, stops)

    async def _deliver_envelope(self, state: _Group, group: str, entry: _Entry,
                                envelope: Envelope, handler: EnvelopeHandler,
                                stops: Sequence[asyncio.Event]) -> None:
        if entry.deliveries >= self._max_deliveries:  # handlers kept being cancelled
            self._bury(state, group, envelope, entry,
                       f"not acknowledged after {entry.deliveries} deliveries")
            return
        entry.deliveries += 1
        state.unacked.add(entry)
        try:
            outcome = await run_handler(handler, envelope, stops, grace_s=0)
        except asyncio.CancelledError:
            state.ready.put_nowait(entry)
            raise
        if outcome is None:
            state.unacked.discard(entry)
        elif isinstance(outcome, _Interrupted):
            state.ready.put_nowait(entry)
        else:
            log.warning("handler for group %s failed on %s %s (delivery %d of %d)", group,
                        envelope.topic, envelope.id, entry.deliveries, self._max_deliveries,
                        exc_info=outcome)
            if entry.deliveries >= self._max_deliveries:
                self._bury(state, group, envelope, entry, f"{type(outcome).__name__}: {outcome}")
            else:
                self._redeliver_later(state, entry)

    def _bury(self, state: _Group, group: str, envelope: Envelope, entry: _Entry,
              error: str) -> None:
        log.warning("dead-lettering %s of group %s after %d deliveries: %s", envelope.id,
                    group, entry.deliveries, error)
        state.unacked.discard(entry)
        state.dead.append(DeadLetter(envelope=envelope, group=group,
                                     deliveries=entry.deliveries, error=error))

    def _redeliver_later(self, state: _Group, entry: _Entry) -> None:
        def requeue() -> None:
            self._timers.discard(timer)
            state.ready.put_nowait(entry)

        timer = asyncio.get_running_loop().call_later(self._redelivery_delay_s, requeue)
        self._timers.add(timer)

    async def pending(self, group: str) -> int:
        state = self._groups.get(group)
        return len(state.unacked) if state else 0

    async def dead_letters(self, group: str) -> list[DeadLetter]:
        state = self._groups.get(group)
        return list(state.dead) if state else []

    async def backlog(self, group: str) -> GroupBacklog:
        state = self._groups.get(group)
        if state is None:
            return GroupBacklog(waiting=0, pending=0, dead_letters=0)
        return GroupBacklog(waiting=state.ready.qsize(), pending=len(state.unacked),
                            dead_letters=len(state.dead))

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        """Make every running and future ``consume`` return; drop scheduled redeliveries."""
        self._closed.set()
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()


async def _next(ready: asyncio.Queue[_Entry], stops: Sequence[asyncio.Event]
                ) -> _Entry | None:
    """The next entry, or None as soon as one of ``stops`` is set (the entry stays queued)."""
    if not ready.empty():
        return ready.get_nowait()
    getter = asyncio.create_task(ready.get(), name="queue getter")
    watchers = [asyncio.create_task(stop.wait(), name="stop watcher") for stop in stops]
    tasks = [getter, *watchers]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        await cancel_all(tasks)
        if not getter.cancelled():
            ready.put_nowait(getter.result())
        raise
    await cancel_all(tasks)
    got = None if getter.cancelled() else getter.result()
    if got is not None and any(stop.is_set() for stop in stops):
        ready.put_nowait(got)
        return None
    return got


async def cancel_all(tasks: Sequence[asyncio.Task[Any]]) -> None:
    """Cancel the tasks we started and wait until they have all finished unwinding."""
    for task in tasks:
        task.cancel()
    await asyncio.wait(tasks)
