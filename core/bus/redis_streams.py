"""The event bus on a Redis stream with one consumer group per subscriber.

Delivery semantics (at least once, per group; handlers are idempotent on ``Envelope.id``):

* ``publish`` appends each envelope's JSON (:mod:`core.bus.serialization`) as field ``e``
  with approximate ``MAXLEN`` trimming; ``declare_groups`` creates each group at ``$``
  (``XGROUP CREATE ... MKSTREAM``), so a group sees what is published after it exists;
* a consumer ``XACK``s an entry only after its handler returned, and shields that ack
  from cancellation (as arq does) so a handled envelope is not handled twice needlessly;
* a handler that raises leaves the entry pending; the same consumer re-reads its own
  pending entries (``XREADGROUP ... 0``) ``redelivery_delay_s`` later;
* on ``stop`` a running handler gets ``block_ms`` to finish, then is cancelled;
* entries of a consumer that died, or stopped in the middle of a handler, stay pending and
  any consumer of the group takes them over with ``XAUTOCLAIM`` once they have been idle
  for ``reclaim_idle_s``; a restarted consumer with the same name picks them up at once;
* the delivery count is Redis's own (``XPENDING`` ``times_delivered``, incremented by every
  read and claim): after ``max_deliveries`` the entry is copied to
  ``{stream}:dead:{group}`` with the count and the last error, and acknowledged, in one
  ``MULTI``. Entries that are not envelopes are dead-lettered on first sight.

Expects the client's default RESP2 replies. Connection errors inside ``consume`` are logged
and retried after an exponential, jittered pause; the client's own ``Retry`` policy (see
``workers.bootstrap``) handles the short blips before that. Other Redis errors (a group
that was never declared: ``NOGROUP``) are configuration errors and propagate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core.bus.inprocess import run_handler
from core.bus.serialization import MALFORMED_TOPIC, MalformedEnvelope, from_json, to_json
from core.domain.events import Envelope
from core.log_fields import event_log_fields, log_fields
from core.ports import BatchHandler, DeadLetter, EnvelopeHandler, GroupBacklog

log = logging.getLogger(__name__)

_Entry = tuple[str, dict[str, Any]]  # stream id, fields with text keys


@dataclass(frozen=True, slots=True)
class _Delivery:
    entry_id: str
    raw: bytes | str | None  # the ``e`` field, None when the entry has none
    deliveries: int  # including this one


@dataclass(slots=True)
class _Consumer:
    group: str
    name: str
    handler: EnvelopeHandler
    stop: asyncio.Event
    retry_at: float | None  # loop time to re-read our own pending entries, if any
    reclaim_from: str = "0-0"  # XAUTOCLAIM cursor, kept across iterations
    batch: BatchHandler | None = None  # set: fresh entries are handed over together


class RedisStreamsBus:
    """Consumer groups on one Redis stream; see the module doc. ``close`` closes the client."""

    def __init__(self, client: redis.Redis, *, stream: str = "switchboard:events",
                 max_deliveries: int = 5, reclaim_idle_s: float = 30.0, block_ms: int = 1000,
                 batch_size: int = 100, maxlen: int = 1_000_000,
                 redelivery_delay_s: float = 0.05) -> None:
        if max_deliveries < 1 or block_ms < 1 or batch_size < 1:
            raise ValueError("max_deliveries, block_ms and batch_size must be positive")
        self._client = client
        self._stream = stream
        self._max_deliveries = max_deliveries
        self._reclaim_idle_ms = max(1, round(reclaim_idle_s * 1000))
        self._block_ms = block_ms
        self._batch_size = batch_size
        self._maxlen = maxlen
        self._redelivery_delay_s = redelivery_delay_s
        self._backoff = ExponentialWithJitterBackoff(cap=5.0, base=0.1)

    @property
    def stream(self) -> str:
        return self._stream

    def dead_letter_stream(self, group: str) -> str:
        return f"{self._stream}:dead:{group}"

    async def declare_groups(self, groups: Sequence[str]) -> None:
        for group in groups:
            try:
                await self._client.xgroup_create(self._stream, group, id="$", mkstream=True)
            except ResponseError as err:
                if "BUSYGROUP" not in str(err):  # BUSYGROUP: it exists, keep its position
                    raise

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        raws = [to_json(envelope) for envelope in envelopes]  # fail before sending any
        if not raws:
            return
        async with self._client.pipeline(transaction=False) as pipe:
            for raw in raws:
                pipe.xadd(self._stream, {"e": raw}, maxlen=self._maxlen, approximate=True)
            await pipe.execute()

    async def consume(self, *, group: str, consumer: str, handler: EnvelopeHandler,
                      stop: asyncio.Event, batch: BatchHandler | None = None) -> None:
        loop = asyncio.get_running_loop()
        me = _Consumer(group, consumer, handler, stop, retry_at=loop.time(), batch=batch)
        failures = 0
        while not stop.is_set():
            try:
                await self._step(me)
            except (RedisConnectionError, RedisTimeoutError) as err:
                failures += 1
                pause_s = self._backoff.compute(failures)
                log.warning("consumer %s/%s: Redis unavailable (%s); retrying in %.2f s",
                            group, consumer, err, pause_s, exc_info=True)
                me.retry_at = loop.time()  # redo whatever we read but did not finish
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=pause_s)
            else:
                failures = 0

    async def consume_batches(self, *, group: str, consumer: str, handler: BatchHandler,
                              stop: asyncio.Event) -> None:
        async def one(envelope: Envelope) -> None:
            await handler([envelope])

        await self.consume(group=group, consumer=consumer, handler=one, stop=stop,
                           batch=handler)

    async def _step(self, me: _Consumer) -> None:
        """Own retries first, then abandoned entries, then new ones (blocking if idle)."""
        batch = await self._own_pending(me) + await self._reclaim(me)
        fresh = await self._read_new(me, block=not batch)
        if me.batch is not None and len(fresh) > 1:
            fresh = await self._handle_batch(me, fresh)
        batch += fresh
        seen: set[str] = set()
        for delivery in batch:
            if me.stop.is_set():
                return  # the rest stay pending: ours on restart, anyone's after the idle
            if delivery.entry_id not in seen:
                seen.add(delivery.entry_id)
                await self._handle(me, delivery)

    async def _own_pending(self, me: _Consumer) -> list[_Delivery]:
        if me.retry_at is None or asyncio.get_running_loop().time() < me.retry_at:
            return []
        me.retry_at = None
        entries = await self._read(me, "0", block_ms=None)
        trimmed = [entry_id for entry_id, fields in entries if not fields]
        if trimmed:  # pending entries that MAXLEN trimmed away: nothing left to deliver
            await self._client.xack(self._stream, me.group, *trimmed)
        return await self._with_counts(me, [entry for entry in entries if entry[1]])

    async def _reclaim(self, me: _Consumer) -> list[_Delivery]:
        # XAUTOCLAIM also drops trimmed entries from the PEL (Redis >= 7.0).
        next_id, claimed, *_ = await self._client.xautoclaim(
            self._stream, me.group, me.name, min_idle_time=self._reclaim_idle_ms,
            start_id=me.reclaim_from, count=self._batch_size)
        me.reclaim_from = _text(next_id)
        entries = [(_text(entry_id), _fields(fields)) for entry_id, fields in claimed
                   if entry_id is not None]
        return await self._with_counts(me, entries)

    async def _read_new(self, me: _Consumer, *, block: bool) -> list[_Delivery]:
        block_ms: int | None = None
        if block:
            block_ms = self._block_ms
            if me.retry_at is not None:  # wake up in time for our own retries
                wait_ms = math.ceil((me.retry_at - asyncio.get_running_loop().time()) * 1000)
                block_ms = max(1, min(block_ms, wait_ms))  # BLOCK 0 would mean forever
        entries = await self._read(me, ">", block_ms=block_ms)
        return [_Delivery(entry_id, fields.get("e"), 1) for entry_id, fields in entries]

    async def _read(self, me: _Consumer, start: str, *, block_ms: int | None) -> list[_Entry]:
        # RESP2: [[stream, [(id, fields), ...]]], or None after a BLOCK that timed out.
        reply: Any = await self._client.xreadgroup(
            me.group, me.name, {self._stream: start}, count=self._batch_size, block=block_ms)
        return [(_text(entry_id), _fields(fields))
                for _stream, entries in reply or [] for entry_id, fields in entries]

    async def _with_counts(self, me: _Consumer, entries: list[_Entry]) -> list[_Delivery]:
        """Attach Redis's delivery count; entries no longer pending (acked meanwhile) drop."""
        if not entries:
            return []
        async with self._client.pipeline(transaction=False) as pipe:
            for entry_id, _ in entries:
                pipe.xpending_range(self._stream, me.group, min=entry_id, max=entry_id,
                                    count=1)
            replies = await pipe.execute()
        return [_Delivery(entry_id, fields.get("e"), int(reply[0]["times_delivered"]))
                for (entry_id, fields), reply in zip(entries, replies, strict=True) if reply]

    async def _handle(self, me: _Consumer, delivery: _Delivery) -> None:
        try:
            envelope = from_json(delivery.raw)
        except MalformedEnvelope as err:
            await self._bury(me.group, delivery, delivery.deliveries,
                             f"malformed envelope: {err}")
            return
        # What the handler logs, and what is logged of its failure, names the event's case.
        with log_fields(**event_log_fields(envelope.id, envelope.payload)):
            await self._handle_envelope(me, delivery, envelope)

    async def _handle_envelope(self, me: _Consumer, delivery: _Delivery,
                               envelope: Envelope) -> None:
        if delivery.deliveries > self._max_deliveries:  # its consumers kept dying
            previous = delivery.deliveries - 1
            await self._bury(me.group, delivery, previous,
                             f"not acknowledged after {previous} deliveries")
            return
        grace_s = self._block_ms / 1000
        outcome = await run_handler(me.handler, envelope, [me.stop], grace_s=grace_s)
        if outcome is None:
            await asyncio.shield(self._client.xack(self._stream, me.group, delivery.entry_id))
        elif isinstance(outcome, Exception):
            log.warning("handler for group %s failed on %s %s (delivery %d of %d)", me.group,
                        envelope.topic, envelope.id, delivery.deliveries,
                        self._max_deliveries, exc_info=outcome)
            if delivery.deliveries >= self._max_deliveries:
                await self._bury(me.group, delivery, delivery.deliveries,
                                 f"{type(outcome).__name__}: {outcome}")
            elif me.retry_at is None:
                me.retry_at = asyncio.get_running_loop().time() + self._redelivery_delay_s
        # else interrupted by ``stop``: not acknowledged, stays pending for a redelivery

    async def _handle_batch(self, me: _Consumer, deliveries: list[_Delivery]
                            ) -> list[_Delivery]:
        """Hand first deliveries over in one call; what is left to do one at a time (all
        of them when the batch failed, none when it succeeded)."""
        assert me.batch is not None
        envelopes: list[Envelope] = []
        for delivery in deliveries:
            try:
                envelopes.append(from_json(delivery.raw))
            except MalformedEnvelope:
                return deliveries  # the one-at-a-time path dead-letters it
        handler = me.batch

        async def call(_: Envelope) -> None:
            await handler(envelopes)

        outcome = await run_handler(call, envelopes[0], [me.stop],
                                    grace_s=self._block_ms / 1000)
        if outcome is None:
            await asyncio.shield(self._client.xack(
                self._stream, me.group, *[d.entry_id for d in deliveries]))
            return []
        if isinstance(outcome, Exception):
            log.warning("batch handler for group %s failed on %d envelopes; delivering "
                        "them one at a time", me.group, len(envelopes), exc_info=outcome)
            return deliveries
        return []  # interrupted by ``stop``: all stay pending for a redelivery

    async def _bury(self, group: str, delivery: _Delivery, deliveries: int,
                    error: str) -> None:
        """Copy the entry to the group's dead letters and acknowledge it, atomically."""
        log.warning("dead-lettering entry %s of group %s after %d deliveries: %s",
                    delivery.entry_id, group, deliveries, error)

        async def move() -> None:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.xadd(self.dead_letter_stream(group), {
                    "e": delivery.raw if delivery.raw is not None else "",
                    "entry_id": delivery.entry_id,
                    "deliveries": deliveries,
                    "error": error,
                })
                pipe.xack(self._stream, group, delivery.entry_id)
                await pipe.execute()

        await asyncio.shield(move())

    async def pending(self, group: str) -> int:
        try:
            summary = await self._client.xpending(self._stream, group)
        except ResponseError as err:
            if "NOGROUP" in str(err):
                return 0
            raise
        return int(summary["pending"])

    async def dead_letters(self, group: str) -> list[DeadLetter]:
        entries = await self._client.xrange(self.dead_letter_stream(group)) or []
        return [_dead_letter(group, _fields(fields)) for _entry_id, fields in entries]

    async def backlog(self, group: str) -> GroupBacklog:
        async with self._client.pipeline(transaction=False) as pipe:
            pipe.xinfo_groups(self._stream)
            pipe.xlen(self.dead_letter_stream(group))
            groups, dead = await pipe.execute(raise_on_error=False)
        if isinstance(groups, ResponseError):  # no stream yet: nothing was ever published
            if "no such key" not in str(groups).lower():
                raise groups
            groups = []
        for info in groups:
            fields = _fields(info)
            if _text(fields.get("name") or "") == group:
                # "lag" (Redis 7): entries not yet delivered to the group; nil when the
                # stream was trimmed past what the group has read, so it cannot be known.
                lag = fields.get("lag")
                return GroupBacklog(waiting=None if lag is None else int(lag),
                                    pending=int(fields["pending"]), dead_letters=int(dead))
        return GroupBacklog(waiting=0, pending=0, dead_letters=int(dead))

    async def ping(self) -> None:
        await self._client.ping()

    async def close(self) -> None:
        await self._client.aclose()


def _dead_letter(group: str, fields: dict[str, Any]) -> DeadLetter:
    raw, entry_id = fields.get("e"), _text(fields["entry_id"])
    try:
        envelope = from_json(raw)
    except MalformedEnvelope:  # describe the bad bytes instead, keyed by the stream entry
        millis = int(entry_id.split("-", 1)[0])
        envelope = Envelope(id=entry_id, topic=MALFORMED_TOPIC,
                            payload={"raw": _text(raw) if raw is not None else None},
                            occurred_at=datetime.fromtimestamp(millis / 1000, UTC))
    return DeadLetter(envelope=envelope, group=group,
                      deliveries=int(_text(fields["deliveries"])),
                      error=_text(fields["error"]))


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _fields(fields: dict[Any, Any] | None) -> dict[str, Any]:
    return {_text(key): value for key, value in (fields or {}).items()}
