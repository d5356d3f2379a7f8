"""The ``EventBus`` contract: the in-process bus and Redis Streams behave the same.

At least once per declared group, shared within a group, acknowledged only after the
handler returns, redelivered after a failure, a crash or a stop, and dead-lettered after
``max_deliveries``.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone

import pytest
import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from core.bus.inprocess import InProcessBus
from core.bus.redis_streams import RedisStreamsBus
from core.bus.serialization import MALFORMED_TOPIC, MalformedEnvelope, from_json
from core.domain.events import Envelope
from core.ports import DeadLetter, EnvelopeHandler, EventBus, GroupBacklog
from tests.contract.conftest import (
    MAX_DELIVERIES,
    STOP_WITHIN_S,
    BusFactory,
    Recorder,
    any_dead_letters,
    consuming,
    crash_while_handling,
    envelope,
    eventually,
    nothing_pending,
)

GROUP = "routing"


async def test_every_declared_group_gets_every_envelope_once(bus: EventBus) -> None:
    await bus.declare_groups(["billing", "audit"])
    sent = [envelope(n) for n in range(10)]
    await bus.publish(sent[:4])
    billing, audit = Recorder(), Recorder()
    async with consuming(bus, group="billing", handler=billing), \
            consuming(bus, group="audit", handler=audit):
        await bus.publish(sent[4:])
        await billing.until(lambda r: len(r.handled) == 10)
        await audit.until(lambda r: len(r.handled) == 10)
    expected = {e.id: 1 for e in sent}
    assert billing.handled_ids() == audit.handled_ids() == expected
    assert await bus.pending("billing") == await bus.pending("audit") == 0


async def test_consumers_of_one_group_share_the_work(make_bus: BusFactory) -> None:
    """The first envelope holds one consumer; the other must take the rest meanwhile
    (reclaim is slowed so that the held envelope is not taken over)."""
    bus = await make_bus(reclaim_idle_s=30)
    await bus.declare_groups([GROUP])
    first, rest = envelope(0), [envelope(n) for n in range(1, 6)]
    release, taken = asyncio.Event(), asyncio.Event()
    handled: list[tuple[str, str]] = []

    def handler_for(name: str) -> EnvelopeHandler:
        async def handle(e: Envelope) -> None:
            if e.id == first.id:
                taken.set()
                await release.wait()
            handled.append((name, e.id))
        return handle

    async with consuming(bus, group=GROUP, consumer="c1", handler=handler_for("c1")), \
            consuming(bus, group=GROUP, consumer="c2", handler=handler_for("c2")):
        await bus.publish([first])
        await asyncio.wait_for(taken.wait(), timeout=5)
        await bus.publish(rest)
        await eventually(lambda: len(handled) == 5, what="the free consumer took the rest")
        release.set()
        await eventually(lambda: len(handled) == 6, what="the held envelope finished")
    assert sorted(e_id for _, e_id in handled) == sorted(e.id for e in [first, *rest])
    assert {name for name, _ in handled} == {"c1", "c2"}
    assert await bus.pending(GROUP) == 0


async def test_a_group_misses_what_was_published_before_it_was_declared(bus: EventBus) -> None:
    await bus.declare_groups(["early"])
    before, after = envelope(1), envelope(2)
    await bus.publish([before])
    await bus.declare_groups(["late", "early"])  # re-declaring "early" changes nothing
    await bus.publish([after])
    early, late = Recorder(), Recorder()
    async with consuming(bus, group="early", handler=early), \
            consuming(bus, group="late", handler=late):
        await early.until(lambda r: len(r.handled) == 2)
        await late.until(lambda r: len(r.handled) == 1)
    assert early.handled_ids() == {before.id: 1, after.id: 1}
    assert [e.id for e in late.handled] == [after.id]


async def test_a_handler_that_fails_twice_gets_the_envelope_a_third_time(
        bus: EventBus, caplog: pytest.LogCaptureFixture) -> None:
    await bus.declare_groups([GROUP])
    sent = envelope()
    flaky = Recorder(failures={sent.id: 2})
    with caplog.at_level(logging.WARNING, logger="core.bus"):
        async with consuming(bus, group=GROUP, handler=flaky):
            await bus.publish([sent])
            await flaky.until(lambda r: len(r.handled) == 1)
            await eventually(lambda: nothing_pending(bus, GROUP), what="acknowledged")
    assert [e.id for e in flaky.attempts] == [sent.id] * 3
    assert await bus.dead_letters(GROUP) == []
    logged = [r.levelno for r in caplog.records if r.name.startswith("core.bus") and r.exc_info]
    assert logged == [logging.WARNING] * 2  # each failure, with its traceback


async def test_an_envelope_that_always_fails_becomes_a_dead_letter(bus: EventBus) -> None:
    await bus.declare_groups([GROUP])
    poison, healthy = envelope(1), envelope(2)
    handler = Recorder(failures={poison.id: 1_000})
    async with consuming(bus, group=GROUP, handler=handler):
        await bus.publish([poison])
        await eventually(lambda: any_dead_letters(bus, GROUP), what="dead-lettered")
        await bus.publish([healthy])  # the queue is not stuck behind the poison
        await handler.until(lambda r: len(r.handled) == 1)
    assert await bus.dead_letters(GROUP) == [DeadLetter(
        envelope=poison, group=GROUP, deliveries=MAX_DELIVERIES,
        error=f"RuntimeError: boom {MAX_DELIVERIES}")]
    assert [e.id for e in handler.attempts] == [poison.id] * MAX_DELIVERIES + [healthy.id]
    assert await bus.pending(GROUP) == 0
    assert await bus.dead_letters("someone-else") == []


async def test_an_envelope_held_by_a_dead_consumer_goes_to_another_once(
        bus: EventBus) -> None:
    await bus.declare_groups([GROUP])
    sent = envelope()
    await bus.publish([sent])
    doomed = await crash_while_handling(bus, group=GROUP, consumer="doomed")
    assert await bus.pending(GROUP) == 1  # not acknowledged, not lost

    heir = Recorder()
    async with consuming(bus, group=GROUP, consumer="heir", handler=heir):
        await heir.until(lambda r: len(r.handled) == 1)
        await eventually(lambda: nothing_pending(bus, GROUP), what="acknowledged")
    assert [e.id for e in heir.attempts] == [sent.id]
    assert doomed.handled == []


async def test_an_envelope_whose_consumers_keep_dying_becomes_a_dead_letter(
        bus: EventBus) -> None:
    await bus.declare_groups([GROUP])
    sent = envelope()
    await bus.publish([sent])
    for n in range(MAX_DELIVERIES):
        await crash_while_handling(bus, group=GROUP, consumer=f"doomed{n}")
    survivor = Recorder()
    async with consuming(bus, group=GROUP, consumer="survivor", handler=survivor):
        await eventually(lambda: any_dead_letters(bus, GROUP), what="dead-lettered")
    [dead] = await bus.dead_letters(GROUP)
    assert (dead.envelope, dead.deliveries) == (sent, MAX_DELIVERIES)
    assert "not acknowledged" in dead.error
    assert survivor.attempts == []
    assert await bus.pending(GROUP) == 0


async def test_stop_interrupts_a_handler_without_acknowledging(bus: EventBus) -> None:
    await bus.declare_groups([GROUP])
    sent = envelope()
    await bus.publish([sent])
    hung = Recorder(hold=asyncio.Event())
    async with consuming(bus, group=GROUP, handler=hung) as running:
        await hung.until(lambda r: len(r.attempts) == 1)
        running.stop.set()
        await asyncio.wait_for(running.task, timeout=STOP_WITHIN_S)
    assert hung.handled == []
    assert await bus.pending(GROUP) == 1

    restarted = Recorder()  # the same consumer, back again, picks it up at once
    async with consuming(bus, group=GROUP, handler=restarted):
        await restarted.until(lambda r: len(r.handled) == 1)
        await eventually(lambda: nothing_pending(bus, GROUP), what="acknowledged")
    assert [e.id for e in restarted.attempts] == [sent.id]


async def test_an_idle_consumer_stops_promptly(bus: EventBus) -> None:
    await bus.declare_groups([GROUP])
    received = Recorder()
    async with consuming(bus, group=GROUP, handler=received) as running:
        await bus.publish([envelope()])
        await received.until(lambda r: len(r.handled) == 1)  # running, now waiting again
        running.stop.set()
        await asyncio.wait_for(running.task, timeout=STOP_WITHIN_S)
    already_stopped = asyncio.Event()
    already_stopped.set()
    await asyncio.wait_for(bus.consume(group=GROUP, consumer="c2", handler=Recorder(),
                                       stop=already_stopped), timeout=STOP_WITHIN_S)


async def test_an_envelope_arrives_as_it_was_sent(bus: EventBus) -> None:
    await bus.declare_groups([GROUP])
    sent = Envelope(
        id="evt_0001", topic="contact.received",
        payload={"name": "Zoë 📞", "nested": {"list": [1, 2.5, None, True], "empty": {}}},
        occurred_at=datetime(2024, 5, 1, 12, 30, 15, 123456,
                             tzinfo=timezone(timedelta(hours=2))))
    received = Recorder()
    async with consuming(bus, group=GROUP, handler=received):
        await bus.publish([sent])
        await received.until(lambda r: len(r.handled) == 1)
    [got] = received.handled
    assert got == sent
    assert got.occurred_at.utcoffset() == timedelta(hours=2)


async def test_publishing_a_batch_with_a_naive_time_publishes_none_of_it(
        bus: EventBus) -> None:
    await bus.declare_groups([GROUP])
    naive = Envelope(id="evt_naive", topic="t", payload={},
                     occurred_at=datetime(2024, 5, 1, 12, 0))
    with pytest.raises(ValueError, match="timezone"):
        await bus.publish([envelope(1), naive])
    marker = envelope(2)
    await bus.publish([])
    await bus.publish([marker])
    received = Recorder()
    async with consuming(bus, group=GROUP, handler=received):
        await received.until(lambda r: len(r.handled) == 1)
    assert [e.id for e in received.handled] == [marker.id]


async def test_ping(bus: EventBus) -> None:
    await bus.ping()


@pytest.mark.redis
async def test_malformed_entries_are_dead_lettered_without_blocking(
        redis_bus: RedisStreamsBus, raw_redis: redis.Redis) -> None:
    await redis_bus.declare_groups([GROUP])
    await raw_redis.xadd(redis_bus.stream, {"e": "not json"})
    await raw_redis.xadd(redis_bus.stream, {"something": "else"})
    healthy = envelope()
    await redis_bus.publish([healthy])
    received = Recorder()
    async with consuming(redis_bus, group=GROUP, handler=received):
        await received.until(lambda r: len(r.handled) == 1)
    dead = await redis_bus.dead_letters(GROUP)
    assert [d.envelope.topic for d in dead] == [MALFORMED_TOPIC] * 2
    assert dead[0].envelope.payload == {"raw": "not json"}
    assert dead[0].envelope.occurred_at.tzinfo is not None
    assert all(d.error.startswith("malformed envelope") and d.deliveries == 1 for d in dead)
    assert [e.id for e in received.attempts] == [healthy.id]
    assert await redis_bus.pending(GROUP) == 0


async def test_a_redis_consumer_survives_an_unreachable_server(
        caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = redis.Redis(port=port, retry=Retry(NoBackoff(), 0))
    bus = RedisStreamsBus(client, block_ms=50)
    try:
        with caplog.at_level(logging.WARNING, logger="core.bus"):
            async with consuming(bus, group=GROUP, handler=Recorder()):
                await eventually(lambda: any("unavailable" in r.getMessage()
                                             for r in caplog.records), what="logged")
        with pytest.raises(redis.ConnectionError):
            await bus.ping()
    finally:
        await bus.close()


async def test_closing_the_in_process_bus_ends_its_consumers() -> None:
    bus = InProcessBus()
    await bus.declare_groups([GROUP])
    received = Recorder()
    stop = asyncio.Event()
    task = asyncio.create_task(bus.consume(group=GROUP, consumer="c1", handler=received,
                                           stop=stop))
    await bus.publish([envelope()])
    await received.until(lambda r: len(r.handled) == 1)  # running, now waiting again
    await bus.close()
    await asyncio.wait_for(task, timeout=1)
    await asyncio.wait_for(bus.consume(group=GROUP, consumer="c1", handler=received,
                                       stop=stop), timeout=1)


@pytest.mark.parametrize("raw", [
    "not json", b"\xff\xfe", "[]", '{"id": "x"}', None,
    '{"id": "x", "topic": "t", "payload": [], "occurred_at": "2024-05-01T12:00:00+00:00"}',
    '{"id": "x", "topic": "t", "payload": {}, "occurred_at": "yesterday"}',
    '{"id": "x", "topic": "t", "payload": {}, "occurred_at": "2024-05-01T12:00:00"}',
])
def test_what_is_not_an_envelope_is_malformed(raw: str | bytes | None) -> None:
    with pytest.raises(MalformedEnvelope):
        from_json(raw)


# --- batches: what waits is handed over together -----------------------------------------


class BatchRecorder:
    """A batch handler: records each call's envelopes; raises for a batch holding
    ``poison`` (and for ``poison`` alone, ``poison_failures`` times)."""

    def __init__(self, *, poison: str | None = None, poison_failures: int = 0) -> None:
        self.calls: list[list[str]] = []
        self.done: list[str] = []
        self._poison = poison
        self._poison_failures = poison_failures
        self._changed = asyncio.Condition()

    async def __call__(self, envelopes: list[Envelope]) -> None:
        ids = [e.id for e in envelopes]
        async with self._changed:
            self.calls.append(ids)
            self._changed.notify_all()
        if self._poison in ids and (len(ids) > 1 or self._poison_failures > 0):
            if len(ids) == 1:
                self._poison_failures -= 1
            raise RuntimeError("poison in the batch")
        async with self._changed:
            self.done += ids
            self._changed.notify_all()

    async def until(self, predicate: Callable[[], bool], timeout_s: float = 5.0) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), timeout=timeout_s)


@asynccontextmanager
async def consuming_batches(bus: EventBus, handler: BatchRecorder
                            ) -> AsyncIterator[asyncio.Event]:
    stop = asyncio.Event()
    task = asyncio.create_task(bus.consume_batches(group=GROUP, consumer="c1",
                                                   handler=handler, stop=stop))
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=STOP_WITHIN_S)


async def test_what_is_waiting_is_handed_over_in_one_call(bus: EventBus) -> None:
    await bus.declare_groups([GROUP])
    sent = [envelope(n) for n in range(20)]
    await bus.publish(sent)  # all waiting before anyone consumes
    handler = BatchRecorder()
    async with consuming_batches(bus, handler):
        await handler.until(lambda: len(handler.done) == 20)
        await eventually(lambda: nothing_pending(bus, GROUP), what="all acknowledged")
    assert sorted(handler.done) == sorted(e.id for e in sent)  # each once
    assert len(handler.calls) < 20 and max(len(c) for c in handler.calls) > 1


async def test_a_failed_batch_is_retried_one_by_one_and_only_the_poison_is_lost(
        bus: EventBus) -> None:
    await bus.declare_groups([GROUP])
    sent = [envelope(n) for n in range(6)]
    poison = sent[3].id
    await bus.publish(sent)
    handler = BatchRecorder(poison=poison, poison_failures=1_000)
    async with consuming_batches(bus, handler):
        await handler.until(lambda: len(handler.done) == 5)
        await eventually(lambda: any_dead_letters(bus, GROUP), what="poison dead-lettered")
    assert sorted(handler.done) == sorted(e.id for e in sent if e.id != poison)
    [dead] = await bus.dead_letters(GROUP)
    assert dead.envelope.id == poison
    assert await bus.pending(GROUP) == 0


async def test_the_backlog_counts_what_waits_what_is_in_hand_and_what_was_given_up(
        bus: EventBus) -> None:
    await bus.declare_groups([GROUP, "idle"])
    assert await bus.backlog(GROUP) == GroupBacklog(waiting=0, pending=0, dead_letters=0)
    poison, healthy = envelope(1), envelope(2)
    await bus.publish([poison, healthy])  # nobody consumes yet
    assert await bus.backlog(GROUP) == GroupBacklog(waiting=2, pending=0, dead_letters=0)
    handler = Recorder(failures={poison.id: 1_000})
    async with consuming(bus, group=GROUP, handler=handler):
        await eventually(lambda: any_dead_letters(bus, GROUP), what="dead-lettered")
        await handler.until(lambda r: len(r.handled) == 1)
        await eventually(lambda: nothing_pending(bus, GROUP), what="acknowledged")
    assert await bus.backlog(GROUP) == GroupBacklog(waiting=0, pending=0, dead_letters=1)
    # A group nobody consumes falls behind by everything published since it was declared.
    assert await bus.backlog("idle") == GroupBacklog(waiting=2, pending=0, dead_letters=0)
