"""The few aggregate reads behind the operator's gauges (``workers/metrics_state.py``).

Each is one statement over an index made for it — waiting work through
``ix_work_items_waiting`` (status first), the outbox backlog through the partial
``ix_outbox_unpublished`` — so a scrape costs the size of the backlog, never of the
history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.work import WorkStatus
from core.storage.tables import outbox, queues, work_items

# As the wallboard counts them: an offer not yet accepted still waits.
_WAITING = (WorkStatus.QUEUED.value, WorkStatus.OFFERED.value)


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueBacklog:
    queue_id: str
    waiting: int
    oldest_enqueued_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxBacklog:
    unpublished: int
    oldest_occurred_at: datetime | None


async def queue_backlogs(conn: AsyncConnection) -> list[QueueBacklog]:
    """Every queue, also the empty ones (a gauge that vanishes cannot alert)."""
    w = work_items.c
    waiting = (sa.select(w.queue_id, sa.func.count().label("n"),
                         sa.func.min(w.enqueued_at).label("oldest"))
               .where(w.status.in_(_WAITING))
               .group_by(w.queue_id)
               .subquery())
    rows = await conn.execute(
        sa.select(queues.c.id, waiting.c.n, waiting.c.oldest)
        .select_from(queues.outerjoin(waiting, waiting.c.queue_id == queues.c.id))
        .order_by(queues.c.id))
    return [QueueBacklog(queue_id=r.id, waiting=int(r.n or 0), oldest_enqueued_at=r.oldest)
            for r in rows]


async def outbox_backlog(conn: AsyncConnection) -> OutboxBacklog:
    o = outbox.c
    unpublished = o.published_at.is_(None)
    count = await conn.scalar(sa.select(sa.func.count()).select_from(outbox)
                              .where(unpublished))
    oldest = await conn.scalar(sa.select(o.occurred_at).where(unpublished)
                               .order_by(o.seq).limit(1))
    return OutboxBacklog(unpublished=int(count or 0), oldest_occurred_at=oldest)
