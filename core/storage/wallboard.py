"""The wallboard's read queries in SQL: what waits where, who holds what, which clocks count.

Each is one statement. Waiting and held work are read through ``ix_work_items_waiting``
(status first). Clocks are narrowed in SQL to the few the board can count or show (answered
today, in trouble now), so a large backlog of open cases costs a scan, not a transfer; the
board's own rules (``routing.wallboard``) then decide on each.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.channels import Channel
from core.domain.contact import CaseStatus
from core.domain.work import WorkStatus
from core.ports import BoardClock, HeldWork, WaitingWork
from core.storage.sla import _clock
from core.storage.tables import cases, offers, sla_clocks, work_items

_WAITING = (WorkStatus.QUEUED.value, WorkStatus.OFFERED.value)
_HELD = (WorkStatus.OFFERED.value, WorkStatus.ASSIGNED.value)
_FIRST_RESPONSE = "first_response"  # SlaKind.FIRST_RESPONSE as stored


class SqlWallboard:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def waiting_work(self, *, now: datetime | None = None) -> list[WaitingWork]:
        w = work_items.c
        query = sa.select(w.queue_id, w.channel, w.status, sa.func.count().label("n"),
                          sa.func.min(w.enqueued_at).label("oldest")).where(
            w.status.in_(_WAITING))
        if now is not None:  # a callback planned for later is not waiting yet
            query = query.where(w.enqueued_at <= now)
        rows = await self._conn.execute(
            query
            .group_by(w.queue_id, w.channel, w.status)
            .order_by(w.queue_id, w.channel, w.status))
        return [WaitingWork(queue_id=r.queue_id, channel=Channel(r.channel),
                            status=WorkStatus(r.status), count=int(r.n),
                            oldest_enqueued_at=r.oldest) for r in rows]

    async def held_work(self) -> list[HeldWork]:
        w, o = work_items.c, offers.c
        rows = await self._conn.execute(
            sa.select(w.id, w.case_id, w.channel, w.queue_id, w.status, w.assigned_agent_id,
                      w.conversation_ended_at, w.wrap_up_due_at,
                      cases.c.number, o.agent_id.label("offered_to"),
                      o.created_at.label("offered_at"), o.answered_at, o.expires_at)
            .select_from(work_items
                         .outerjoin(cases, cases.c.id == w.case_id)
                         .outerjoin(offers, o.id == w.offer_id))
            .where(w.status.in_(_HELD))
            .order_by(w.enqueued_at, w.id))
        held: list[HeldWork] = []
        for r in rows:
            status = WorkStatus(r.status)
            offered = status is WorkStatus.OFFERED
            held.append(HeldWork(
                work_item_id=r.id, case_id=r.case_id, case_number=r.number,
                channel=Channel(r.channel), queue_id=r.queue_id, status=status,
                agent_id=r.offered_to if offered else r.assigned_agent_id,
                since=r.offered_at if offered else r.answered_at,
                expires_at=r.expires_at if offered else None,
                after_contact_work_since=None if offered else r.conversation_ended_at,
                wrap_up_due_at=None if offered else r.wrap_up_due_at))
        return held

    async def board_clocks(self, *, since: datetime, now: datetime) -> list[BoardClock]:
        rows = (await self._conn.execute(board_clocks_query(since=since, now=now))).mappings()
        return [BoardClock(clock=_clock(r), case_number=r["case_number"],
                           queue_id=r["board_queue_id"], case_status=CaseStatus(r["case_status"]),
                           first_responded_at=r["first_responded_at"],
                           resolved_at=r["resolved_at"], closed_at=r["closed_at"])
                for r in rows]


def board_clocks_query(*, since: datetime, now: datetime) -> sa.Select[Any]:
    c, k = sla_clocks.c, cases.c
    first_response = c.kind == _FIRST_RESPONSE
    answered_today = sa.and_(first_response, c.stopped_at >= since)
    in_trouble = sa.and_(  # alerts, and overdue today
        c.stopped_at.is_(None), c.paused_at.is_(None),
        sa.or_(c.warned.is_(True), c.breached.is_(True), c.warn_at <= now, c.due_at <= now))
    answered_not_yet_stopped = sa.and_(  # the SLA follower has not caught up yet
        first_response, c.stopped_at.is_(None),
        sa.or_(k.first_responded_at >= since, k.resolved_at >= since, k.closed_at >= since))
    newest_item_queue = (
        sa.select(work_items.c.queue_id)
        .where(work_items.c.case_id == c.case_id)
        .order_by(work_items.c.created_at.desc(), work_items.c.id.desc())
        .limit(1)
        .scalar_subquery())
    return (
        sa.select(sla_clocks, k.number.label("case_number"),
                  sa.func.coalesce(newest_item_queue, k.queue_id).label("board_queue_id"),
                  k.status.label("case_status"), k.first_responded_at, k.resolved_at,
                  k.closed_at)
        .select_from(sla_clocks.join(cases, k.id == c.case_id))
        .where(sa.or_(answered_today, in_trouble, answered_not_yet_stopped))
        .order_by(c.id))
