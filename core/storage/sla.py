"""SLA clocks in SQL; ``next_deadline`` is denormalised so the timer finds due clocks by index."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.sla import SlaClock, SlaKind
from core.storage.tables import sla_clocks


class SqlSla:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add_clock(self, clock: SlaClock) -> None:
        await self._conn.execute(sla_clocks.insert().values(id=clock.id, **_values(clock)))

    async def save_clock(self, clock: SlaClock) -> None:
        await self._conn.execute(sla_clocks.update().where(
            sla_clocks.c.id == clock.id).values(**_values(clock)))

    async def clocks_for_case(self, case_id: str) -> list[SlaClock]:
        rows = (await self._conn.execute(sa.select(sla_clocks).where(
            sla_clocks.c.case_id == case_id).order_by(sla_clocks.c.started_at,
                                                      sla_clocks.c.id))).mappings()
        return [_clock(r) for r in rows]

    async def clocks_for_cases(self, case_ids: Sequence[str]) -> list[SlaClock]:
        if not case_ids:
            return []
        rows = (await self._conn.execute(sa.select(sla_clocks).where(
            sla_clocks.c.case_id.in_(list(case_ids))).order_by(
            sla_clocks.c.case_id, sla_clocks.c.started_at, sla_clocks.c.id))).mappings()
        return [_clock(r) for r in rows]

    async def due(self, now: datetime, *, limit: int) -> list[SlaClock]:
        rows = (await self._conn.execute(sa.select(sla_clocks).where(
            sla_clocks.c.next_deadline <= now).order_by(sla_clocks.c.next_deadline).limit(
            limit))).mappings()
        return [_clock(r) for r in rows]

    async def next_deadline(self) -> datetime | None:
        value: datetime | None = await self._conn.scalar(
            sa.select(sa.func.min(sla_clocks.c.next_deadline)))
        return value


def _values(c: SlaClock) -> dict[str, Any]:
    return {
        "case_id": c.case_id, "kind": c.kind.value, "policy_id": c.policy_id,
        "calendar_id": c.calendar_id, "target_s": c.target_s,
        "warn_at_fraction": c.warn_at_fraction, "started_at": c.started_at,
        "consumed_s": c.consumed_s, "running_since": c.running_since,
        "paused_at": c.paused_at, "stopped_at": c.stopped_at, "due_at": c.due_at,
        "warn_at": c.warn_at, "warned": c.warned, "breached": c.breached,
        "next_deadline": c.next_deadline,
    }


def _clock(r: sa.RowMapping) -> SlaClock:
    return SlaClock(
        id=r["id"], case_id=r["case_id"], kind=SlaKind(r["kind"]), policy_id=r["policy_id"],
        calendar_id=r["calendar_id"], target_s=r["target_s"],
        warn_at_fraction=r["warn_at_fraction"], started_at=r["started_at"],
        consumed_s=r["consumed_s"], running_since=r["running_since"],
        paused_at=r["paused_at"], stopped_at=r["stopped_at"], due_at=r["due_at"],
        warn_at=r["warn_at"], warned=r["warned"], breached=r["breached"])
