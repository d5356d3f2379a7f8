"""The transactional outbox (events leave only with their commit) and the consumer inbox.

Writers append envelopes in the same transaction as the change they describe. The relay
(``workers/relay.py``) claims unpublished rows, hands them to the bus and marks them
published in one transaction; on PostgreSQL the claim uses ``FOR UPDATE SKIP LOCKED`` so
several relays share the work without blocking. A crash between publish and mark means the
envelope is published again: every consumer is idempotent on the envelope id (the inbox).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.clock import Clock
from core.domain.events import Envelope, Event
from core.domain.ids import new_id
from core.storage.tables import inbox, outbox


class OutboxWriter:
    """Buffers events during a unit of work; ``flush`` writes them just before commit."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._pending: list[Event] = []

    def add(self, events: Sequence[Event]) -> None:
        self._pending.extend(events)

    async def flush(self, conn: AsyncConnection) -> int:
        if not self._pending:
            return 0
        now = self._clock.now()
        await conn.execute(outbox.insert(), [
            {"id": new_id("evt"), "topic": e.topic, "payload": e.payload(), "occurred_at": now}
            for e in self._pending
        ])
        count = len(self._pending)
        self._pending.clear()
        return count


class SqlInbox:
    def __init__(self, conn: AsyncConnection, clock: Clock) -> None:
        self._conn = conn
        self._clock = clock

    async def first_delivery(self, group: str, envelope_id: str) -> bool:
        values = {"consumer_group": group, "envelope_id": envelope_id,
                  "processed_at": self._clock.now()}
        insert = pg_insert if self._conn.dialect.name == "postgresql" else sqlite_insert
        result = await self._conn.execute(
            insert(inbox).values(**values).on_conflict_do_nothing())
        return bool(result.rowcount)


async def claim_unpublished(conn: AsyncConnection, limit: int) -> list[tuple[int, Envelope]]:
    query = (sa.select(outbox).where(outbox.c.published_at.is_(None))
             .order_by(outbox.c.seq).limit(limit))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = (await conn.execute(query)).mappings().all()
    return [(r["seq"], Envelope(id=r["id"], topic=r["topic"], payload=r["payload"],
                                occurred_at=r["occurred_at"])) for r in rows]


async def mark_published(conn: AsyncConnection, seqs: Sequence[int], at: datetime) -> None:
    await conn.execute(outbox.update().where(outbox.c.seq.in_(seqs)).values(published_at=at))


async def unpublished_count(conn: AsyncConnection) -> int:
    return int(await conn.scalar(
        sa.select(sa.func.count()).select_from(outbox).where(outbox.c.published_at.is_(None)))
        or 0)


async def prune(conn: AsyncConnection, *, older_than: datetime,
                keep_inbox: timedelta = timedelta(days=7)) -> None:
    """Forget published events and old inbox marks; the redelivery window is far shorter."""
    await conn.execute(outbox.delete().where(outbox.c.published_at < older_than))
    await conn.execute(inbox.delete().where(inbox.c.processed_at < older_than - keep_inbox))
