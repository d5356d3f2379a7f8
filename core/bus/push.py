"""Push fan-out: in-process queues by default, Redis pub/sub across processes.

Each subscription owns a bounded queue; a listener too slow to keep up loses the oldest
messages rather than holding the publisher or growing without limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import redis.asyncio as redis

log = logging.getLogger(__name__)

QUEUE_SIZE = 256
PREFIX = "switchboard:push:"


def _offer(queue: asyncio.Queue[dict[str, object]], message: dict[str, object]) -> None:
    if queue.full():
        with contextlib.suppress(asyncio.QueueEmpty):
            queue.get_nowait()
    queue.put_nowait(message)


async def _drain(queue: asyncio.Queue[dict[str, object]]) -> AsyncIterator[dict[str, object]]:
    while True:
        yield await queue.get()


class InProcessPush:
    def __init__(self) -> None:
        self._listeners: defaultdict[str, set[asyncio.Queue[dict[str, object]]]] = \
            defaultdict(set)

    async def publish(self, channel: str, message: dict[str, object]) -> None:
        for queue in list(self._listeners.get(channel, ())):
            _offer(queue, message)

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[dict[str, object]]]:
        queue: asyncio.Queue[dict[str, object]] = asyncio.Queue(QUEUE_SIZE)
        self._listeners[channel].add(queue)
        try:
            yield _drain(queue)
        finally:
            self._listeners[channel].discard(queue)
            if not self._listeners[channel]:
                del self._listeners[channel]

    async def close(self) -> None:
        self._listeners.clear()


class RedisPush:
    def __init__(self, client: redis.Redis) -> None:
        self._client = client

    async def publish(self, channel: str, message: dict[str, object]) -> None:
        await self._client.publish(PREFIX + channel, json.dumps(message, default=str))

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[dict[str, object]]]:
        pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(PREFIX + channel)
        queue: asyncio.Queue[dict[str, object]] = asyncio.Queue(QUEUE_SIZE)
        reader = asyncio.create_task(self._read(pubsub, queue), name=f"push-{channel}")
        try:
            yield _drain(queue)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
            await pubsub.unsubscribe()
            await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py lacks hints

    async def _read(self, pubsub: Any, queue: asyncio.Queue[dict[str, object]]) -> None:
        async for raw in pubsub.listen():
            try:
                message = json.loads(raw["data"])
            except (TypeError, ValueError):
                log.warning("ignoring a push message that is not JSON")
                continue
            if isinstance(message, dict):
                _offer(queue, message)

    async def close(self) -> None:
        await self._client.aclose()
