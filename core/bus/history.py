"""What the event transport keeps after delivery, and forgetting parts of it (erasure).

A Redis stream keeps past entries up to its ``MAXLEN`` (a million by default: weeks of
events), and dead letters until someone clears them. :class:`RedisEventHistory` deletes
(``XDEL``) the entries of given topics whose payload names an erased customer, in the main
stream and every group's dead-letter stream, reading from the moment the oldest of those
customers was created (stream ids are millisecond timestamps), a chunk at a time.

The in-process bus keeps nothing beyond the process's memory (its queues drain as they are
consumed, and dead letters go with the process): :class:`NoEventHistory`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import redis.asyncio as redis
from redis.exceptions import ResponseError

CHUNK = 500


class NoEventHistory:
    async def forget(self, *, topics: Sequence[str], mentioning: Sequence[str],
                     since: datetime | None) -> int:
        return 0


class RedisEventHistory:
    def __init__(self, client: redis.Redis, *, stream: str) -> None:
        self._client = client
        self._stream = stream

    async def forget(self, *, topics: Sequence[str], mentioning: Sequence[str],
                     since: datetime | None) -> int:
        start = f"{int(since.timestamp() * 1000)}-0" if since is not None else "-"
        forgotten = 0
        for stream in [self._stream, *await self._dead_letter_streams()]:
            forgotten += await self._forget_in(stream, start, set(topics), list(mentioning))
        return forgotten

    async def _dead_letter_streams(self) -> list[str]:
        try:
            groups = await self._client.xinfo_groups(self._stream)
        except ResponseError:  # no stream yet
            return []
        return [f"{self._stream}:dead:{_text(g['name'])}" for g in groups]

    async def _forget_in(self, stream: str, start: str, topics: set[str],
                         mentioning: list[str]) -> int:
        forgotten = 0
        cursor = start
        while True:
            entries: list[Any] = list(await self._client.xrange(
                stream, min=cursor, max="+", count=CHUNK) or [])
            doomed = [entry_id for entry_id, fields in entries
                      if _matches(fields, topics, mentioning)]
            if doomed:
                forgotten += int(await self._client.xdel(stream, *doomed))
            if len(entries) < CHUNK:
                return forgotten
            cursor = "(" + _text(entries[-1][0])  # exclusive: after the last one read


def _matches(fields: dict[Any, Any] | None, topics: set[str], mentioning: list[str]) -> bool:
    fields = fields or {}
    raw = fields.get(b"e", fields.get("e"))
    if raw is None:
        return False
    text = _text(raw)
    if not any(m in text for m in mentioning):  # cheap, before parsing
        return False
    try:
        envelope = json.loads(text)
    except ValueError:
        return False
    return isinstance(envelope, dict) and envelope.get("topic") in topics


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
