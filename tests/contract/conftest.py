"""Fixtures for the contract suite: each test runs against every ``EventBus``.

The Redis variant uses a real server (``SWITCHBOARD_TEST_REDIS_URL``) and a stream of its
own per test, deleted afterwards. Under ``CI=true`` an unreachable Redis fails the test;
elsewhere it is skipped with the reason. Timings are shrunk (reclaim after 0.2 s, block
50 ms) so redelivery and reclaim happen quickly; nothing here sleeps to wait: tests await
events, or poll a condition with a deadline through :func:`eventually`.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import pytest
import redis.asyncio as redis
from redis.exceptions import RedisError

from core.bus.inprocess import InProcessBus
from core.bus.redis_streams import RedisStreamsBus
from core.domain.events import Envelope
from core.ports import EnvelopeHandler, EventBus

IN_CI = os.environ.get("CI") == "true"
REDIS_URL = os.environ.get("SWITCHBOARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

MAX_DELIVERIES = 3
RECLAIM_IDLE_S = 0.2
BLOCK_MS = 50
REDELIVERY_DELAY_S = 0.01
STOP_WITHIN_S = BLOCK_MS / 1000 + 1.0  # "promptly": one blocking read, plus slack for CI


async def connect_redis() -> redis.Redis:
    """A connected client, or a failed (CI) / skipped (elsewhere) test."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (OSError, RedisError) as err:
        await client.aclose()
        message = f"Redis not reachable at {REDIS_URL}: {type(err).__name__}: {err}"
        if IN_CI:
            pytest.fail(message + " (CI=true requires it)")
        pytest.skip(message)
    return client


@asynccontextmanager
async def redis_streams_bus(*, reclaim_idle_s: float = RECLAIM_IDLE_S,
                            max_deliveries: int = MAX_DELIVERIES
                            ) -> AsyncIterator[RedisStreamsBus]:
    stream = f"switchboard-test:{uuid.uuid4().hex}"
    bus = RedisStreamsBus(await connect_redis(), stream=stream, max_deliveries=max_deliveries,
                          reclaim_idle_s=reclaim_idle_s, block_ms=BLOCK_MS,
                          redelivery_delay_s=REDELIVERY_DELAY_S)
    try:
        yield bus
    finally:
        await bus.close()
        cleaner = await connect_redis()
        keys = [key async for key in cleaner.scan_iter(match=f"{stream}*")]
        if keys:
            await cleaner.delete(*keys)
        await cleaner.aclose()


class BusFactory(Protocol):
    async def __call__(self, *, reclaim_idle_s: float = ...,
                       max_deliveries: int = ...) -> EventBus: ...


@pytest.fixture(params=["inprocess", pytest.param("redis", marks=pytest.mark.redis)])
async def make_bus(request: pytest.FixtureRequest) -> AsyncIterator[BusFactory]:
    """Builds buses of this test's kind; ``reclaim_idle_s`` only matters to Redis."""
    async with AsyncExitStack() as owned:
        async def make(*, reclaim_idle_s: float = RECLAIM_IDLE_S,
                       max_deliveries: int = MAX_DELIVERIES) -> EventBus:
            if request.param == "inprocess":
                bus = InProcessBus(max_deliveries=max_deliveries,
                                   redelivery_delay_s=REDELIVERY_DELAY_S)
                owned.push_async_callback(bus.close)
                return bus
            return await owned.enter_async_context(redis_streams_bus(
                reclaim_idle_s=reclaim_idle_s, max_deliveries=max_deliveries))

        yield make


@pytest.fixture
async def bus(make_bus: BusFactory) -> EventBus:
    return await make_bus()


@pytest.fixture
async def redis_bus() -> AsyncIterator[RedisStreamsBus]:
    async with redis_streams_bus() as bus:
        yield bus


@pytest.fixture
async def raw_redis() -> AsyncIterator[redis.Redis]:
    """A plain client, to write what no bus would."""
    client = await connect_redis()
    try:
        yield client
    finally:
        await client.aclose()


def envelope(n: int = 0) -> Envelope:
    return Envelope(id=f"evt_{uuid.uuid4().hex}", topic="test.happened", payload={"n": n},
                    occurred_at=datetime(2024, 5, 1, 12, 0, tzinfo=UTC))


async def eventually(predicate: Callable[[], bool | Awaitable[bool]], timeout_s: float = 5.0,
                     *, what: str = "condition") -> None:
    """Poll ``predicate`` (sync or async) until true; fail after ``timeout_s``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        result = predicate()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError(f"{what} still false after {timeout_s} s")
        await asyncio.sleep(0.01)  # poll interval, not a wait for the outcome


class Recorder:
    """A handler that records every attempt and success, and can fail or hang on demand.

    ``failures`` maps an envelope id to how many of its first attempts raise; ``hold``,
    when given, is awaited before an attempt completes (never set: a hung handler).
    """

    def __init__(self, *, failures: Mapping[str, int] | None = None,
                 hold: asyncio.Event | None = None) -> None:
        self.failures = dict(failures or {})
        self.hold = hold
        self.attempts: list[Envelope] = []
        self.handled: list[Envelope] = []
        self._changed = asyncio.Condition()

    async def __call__(self, envelope: Envelope) -> None:
        await self._record(self.attempts, envelope)
        attempt = sum(1 for seen in self.attempts if seen.id == envelope.id)
        if attempt <= self.failures.get(envelope.id, 0):
            raise RuntimeError(f"boom {attempt}")
        if self.hold is not None:
            await self.hold.wait()
        await self._record(self.handled, envelope)

    async def _record(self, into: list[Envelope], envelope: Envelope) -> None:
        async with self._changed:
            into.append(envelope)
            self._changed.notify_all()

    async def until(self, predicate: Callable[[Recorder], bool], timeout_s: float = 5.0
                    ) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: predicate(self)),
                                   timeout=timeout_s)

    def handled_ids(self) -> Counter[str]:
        return Counter(envelope.id for envelope in self.handled)


@dataclass(frozen=True, slots=True)
class Running:
    task: asyncio.Task[None]
    stop: asyncio.Event


@asynccontextmanager
async def consuming(bus: EventBus, *, group: str, handler: EnvelopeHandler,
                    consumer: str = "c1") -> AsyncIterator[Running]:
    """Run ``bus.consume`` in a task; on exit stop it and require a prompt, clean return."""
    stop = asyncio.Event()
    task = asyncio.create_task(
        bus.consume(group=group, consumer=consumer, handler=handler, stop=stop),
        name=f"consume {group}/{consumer}")
    try:
        yield Running(task, stop)
    finally:
        stop.set()
        if not task.cancelled():
            await asyncio.wait_for(task, timeout=STOP_WITHIN_S)


async def crash_while_handling(bus: EventBus, *, group: str, consumer: str) -> Recorder:
    """A consumer whose handler hangs is cancelled while it holds an envelope: a crash."""
    doomed = Recorder(hold=asyncio.Event())
    task = asyncio.create_task(bus.consume(group=group, consumer=consumer, handler=doomed,
                                           stop=asyncio.Event()))
    await doomed.until(lambda r: len(r.attempts) == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    return doomed


async def nothing_pending(bus: EventBus, group: str) -> bool:
    return await bus.pending(group) == 0


async def any_dead_letters(bus: EventBus, group: str) -> bool:
    return bool(await bus.dead_letters(group))
