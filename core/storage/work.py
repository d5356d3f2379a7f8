"""Work items, offers and agent occupancy in SQL, saved conditionally on their version."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.channels import Channel
from core.domain.errors import Conflict
from core.domain.work import (
    AgentLoad,
    Offer,
    OfferStatus,
    WorkItem,
    WorkKind,
    WorkStatus,
    WrapUpOutcome,
)
from core.domain.workforce import Tier
from core.storage.tables import agent_loads, offers, work_items

LIVE = (WorkStatus.QUEUED.value, WorkStatus.OFFERED.value, WorkStatus.ASSIGNED.value)


# PostgreSQL: lock_not_available (lock_timeout) and deadlock_detected.
_LOST_RACE_STATES = frozenset({"55P03", "40P01"})
LOCK_TIMEOUT_MS = 200


def _sqlstate(err: sa.exc.DBAPIError) -> str | None:
    for cause in (err.orig, getattr(err.orig, "__cause__", None)):
        state = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
        if state:
            return str(state)
    return None


@asynccontextmanager
async def _race_is_conflict(what: str) -> AsyncIterator[None]:
    try:
        yield
    except sa.exc.DBAPIError as err:
        if _sqlstate(err) in _LOST_RACE_STATES:
            raise Conflict(f"{what} is held by another dispatcher") from err
        raise


class SqlWork:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def fail_fast_on_locks(self) -> None:
        # SQLite has no row locks: its writers queue for the one database lock instead.
        if self._conn.dialect.name == "postgresql":
            await self._conn.execute(sa.text(f"SET LOCAL lock_timeout = {LOCK_TIMEOUT_MS}"))

    async def add_item(self, item: WorkItem) -> None:
        await self._conn.execute(work_items.insert().values(id=item.id, **_item_values(item)))

    async def get_item(self, item_id: str) -> WorkItem | None:
        r = (await self._conn.execute(sa.select(work_items).where(
            work_items.c.id == item_id))).mappings().first()
        return _item(r) if r else None

    async def item_for_case(self, case_id: str) -> WorkItem | None:
        r = (await self._conn.execute(sa.select(work_items).where(
            work_items.c.case_id == case_id, work_items.c.status.in_(LIVE),
        ).order_by(work_items.c.created_at.desc()).limit(1))).mappings().first()
        return _item(r) if r else None

    async def live_in_queue(self, queue_id: str) -> int:
        return int((await self._conn.execute(sa.select(sa.func.count()).where(
            work_items.c.queue_id == queue_id, work_items.c.status.in_(LIVE)))).scalar_one())

    async def save_item(self, item: WorkItem) -> None:
        values = _item_values(item)
        values["version"] = item.version + 1
        async with _race_is_conflict(f"work item {item.id}"):
            result = await self._conn.execute(work_items.update().where(
                work_items.c.id == item.id,
                work_items.c.version == item.version).values(**values))
        if result.rowcount != 1:
            raise Conflict(f"work item {item.id} was changed by another dispatcher")
        item.version += 1

    async def waiting(self, *, limit: int, now: datetime | None = None) -> list[WorkItem]:
        query = sa.select(work_items).where(work_items.c.status == WorkStatus.QUEUED.value)
        if now is not None:  # a planned callback waits from its time
            query = query.where(work_items.c.enqueued_at <= now)
        rows = (await self._conn.execute(query.order_by(
            work_items.c.enqueued_at, work_items.c.id).limit(limit))).mappings()
        return [_item(r) for r in rows]

    async def next_scheduled(self, now: datetime) -> datetime | None:
        value: datetime | None = await self._conn.scalar(sa.select(
            sa.func.min(work_items.c.enqueued_at)).where(
            work_items.c.status == WorkStatus.QUEUED.value, work_items.c.enqueued_at > now))
        return value

    async def wrap_ups_due(self, now: datetime, *, limit: int) -> list[WorkItem]:
        rows = (await self._conn.execute(sa.select(work_items).where(
            work_items.c.status == WorkStatus.ASSIGNED.value,
            work_items.c.wrap_up_due_at <= now,
        ).order_by(work_items.c.wrap_up_due_at).limit(limit))).mappings()
        return [_item(r) for r in rows]

    async def next_wrap_up_due(self) -> datetime | None:
        value: datetime | None = await self._conn.scalar(sa.select(
            sa.func.min(work_items.c.wrap_up_due_at)).where(
            work_items.c.status == WorkStatus.ASSIGNED.value))
        return value

    async def assigned_to(self, agent_id: str) -> list[WorkItem]:
        rows = (await self._conn.execute(sa.select(work_items).where(
            work_items.c.assigned_agent_id == agent_id,
            work_items.c.status == WorkStatus.ASSIGNED.value,
        ).order_by(work_items.c.enqueued_at))).mappings()
        return [_item(r) for r in rows]

    async def last_agent_for_customer(self, customer_id: str) -> str | None:
        agent: str | None = await self._conn.scalar(sa.select(work_items.c.assigned_agent_id)
            .where(work_items.c.customer_id == customer_id,
                   work_items.c.assigned_agent_id.is_not(None))
            .order_by(work_items.c.created_at.desc()).limit(1))
        return agent

    async def add_offer(self, offer: Offer, trace: dict[str, object]) -> None:
        await self._conn.execute(offers.insert().values(
            id=offer.id, work_item_id=offer.work_item_id, agent_id=offer.agent_id,
            case_id=offer.case_id, channel=offer.channel.value, created_at=offer.created_at,
            expires_at=offer.expires_at, status=offer.status.value,
            answered_at=offer.answered_at, trace=trace))

    async def get_offer(self, offer_id: str) -> Offer | None:
        r = (await self._conn.execute(sa.select(offers).where(
            offers.c.id == offer_id))).mappings().first()
        return _offer(r) if r else None

    async def save_offer(self, offer: Offer) -> None:
        # Only a pending offer can change: an accept racing a timeout has one winner.
        result = await self._conn.execute(offers.update().where(
            offers.c.id == offer.id, offers.c.status == OfferStatus.PENDING.value,
        ).values(status=offer.status.value, answered_at=offer.answered_at))
        if result.rowcount != 1:
            raise Conflict(f"offer {offer.id} was already answered or withdrawn")

    async def pending_offers(self, *, agent_id: str | None = None) -> list[Offer]:
        query = sa.select(offers).where(offers.c.status == OfferStatus.PENDING.value)
        if agent_id is not None:
            query = query.where(offers.c.agent_id == agent_id)
        rows = (await self._conn.execute(query.order_by(offers.c.created_at))).mappings()
        return [_offer(r) for r in rows]

    async def expired_offers(self, now: datetime, *, limit: int) -> list[Offer]:
        rows = (await self._conn.execute(sa.select(offers).where(
            offers.c.status == OfferStatus.PENDING.value, offers.c.expires_at <= now,
        ).order_by(offers.c.expires_at).limit(limit))).mappings()
        return [_offer(r) for r in rows]

    async def next_offer_expiry(self) -> datetime | None:
        # min() keeps the column's type, so the value comes back as aware UTC.
        value: datetime | None = await self._conn.scalar(sa.select(
            sa.func.min(offers.c.expires_at)).where(
            offers.c.status == OfferStatus.PENDING.value))
        return value

    async def offers_for_case(self, case_id: str) -> list[tuple[Offer, dict[str, object]]]:
        rows = (await self._conn.execute(sa.select(offers).where(
            offers.c.case_id == case_id).order_by(offers.c.created_at))).mappings()
        return [(_offer(r), dict(r["trace"])) for r in rows]

    async def get_load(self, agent_id: str) -> AgentLoad | None:
        return (await self.loads([agent_id])).get(agent_id)

    async def loads(self, agent_ids: Sequence[str]) -> dict[str, AgentLoad]:
        found: dict[str, AgentLoad] = {}
        # Chunked: SQLite caps bound parameters, and a queue may have thousands of agents.
        for start in range(0, len(agent_ids), 500):
            chunk = list(agent_ids[start:start + 500])
            rows = (await self._conn.execute(sa.select(agent_loads).where(
                agent_loads.c.agent_id.in_(chunk)))).mappings()
            for r in rows:
                found[r["agent_id"]] = AgentLoad(
                    agent_id=r["agent_id"],
                    load={Channel(k): int(v) for k, v in r["load"].items()},
                    idle_since=r["idle_since"], missed_offers=r["missed_offers"],
                    version=r["version"])
        return found

    async def save_load(self, load: AgentLoad) -> None:
        values: dict[str, Any] = {
            "load": {c.value: n for c, n in load.load.items() if n},
            "idle_since": load.idle_since, "missed_offers": load.missed_offers,
            "version": load.version + 1,
        }
        if load.version == 0:
            exists = await self._conn.scalar(sa.select(agent_loads.c.version).where(
                agent_loads.c.agent_id == load.agent_id))
            if exists is None:
                try:
                    async with self._conn.begin_nested():
                        await self._conn.execute(agent_loads.insert().values(
                            agent_id=load.agent_id, **values))
                except sa.exc.IntegrityError as err:
                    raise Conflict(f"agent {load.agent_id} load changed concurrently") from err
                except sa.exc.DBAPIError as err:
                    if _sqlstate(err) in _LOST_RACE_STATES:
                        raise Conflict(f"agent {load.agent_id} is held elsewhere") from err
                    raise
                load.version += 1
                return
        async with _race_is_conflict(f"agent {load.agent_id}"):
            result = await self._conn.execute(agent_loads.update().where(
                agent_loads.c.agent_id == load.agent_id,
                agent_loads.c.version == load.version).values(**values))
        if result.rowcount != 1:
            raise Conflict(f"agent {load.agent_id} load changed concurrently")
        load.version += 1


def _item_values(item: WorkItem) -> dict[str, Any]:
    return {
        "case_id": item.case_id, "contact_id": item.contact_id,
        "customer_id": item.customer_id, "channel": item.channel.value,
        "queue_id": item.queue_id, "priority": item.priority, "skills": dict(item.skills),
        "tier": int(item.tier), "preferred_agent_ids": list(item.preferred_agent_ids),
        "preferred_team_id": item.preferred_team_id,
        "excluded_agent_ids": list(item.excluded_agent_ids), "status": item.status.value,
        "enqueued_at": item.enqueued_at, "created_at": item.created_at,
        "assigned_agent_id": item.assigned_agent_id, "offer_id": item.offer_id,
        "attempts": item.attempts, "version": item.version, "kind": item.kind.value,
        "accepted_at": item.accepted_at, "conversation_ended_at": item.conversation_ended_at,
        "wrap_up_due_at": item.wrap_up_due_at, "completed_at": item.completed_at,
        "disposition": item.disposition,
        "outcome": item.outcome.value if item.outcome else None,
        "callback_at": item.callback_at,
    }


def _item(r: sa.RowMapping) -> WorkItem:
    return WorkItem(
        id=r["id"], case_id=r["case_id"], contact_id=r["contact_id"],
        customer_id=r["customer_id"], channel=Channel(r["channel"]), queue_id=r["queue_id"],
        priority=r["priority"], skills={k: int(v) for k, v in r["skills"].items()},
        tier=Tier(r["tier"]), preferred_agent_ids=tuple(r["preferred_agent_ids"]),
        preferred_team_id=r["preferred_team_id"],
        excluded_agent_ids=tuple(r["excluded_agent_ids"]), status=WorkStatus(r["status"]),
        enqueued_at=r["enqueued_at"], created_at=r["created_at"],
        assigned_agent_id=r["assigned_agent_id"], offer_id=r["offer_id"],
        attempts=r["attempts"], version=r["version"], kind=WorkKind(r["kind"]),
        accepted_at=r["accepted_at"], conversation_ended_at=r["conversation_ended_at"],
        wrap_up_due_at=r["wrap_up_due_at"], completed_at=r["completed_at"],
        disposition=r["disposition"],
        outcome=WrapUpOutcome(r["outcome"]) if r["outcome"] else None,
        callback_at=r["callback_at"])


def _offer(r: sa.RowMapping) -> Offer:
    return Offer(
        id=r["id"], work_item_id=r["work_item_id"], agent_id=r["agent_id"],
        case_id=r["case_id"], channel=Channel(r["channel"]), created_at=r["created_at"],
        expires_at=r["expires_at"], status=OfferStatus(r["status"]),
        answered_at=r["answered_at"])
