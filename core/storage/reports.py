"""Reporting in SQL: what happened to the contacts received in a period, aggregated by the
database, on SQLite and PostgreSQL alike. Every figure is defined in docs/reports.md.

One query shape serves the aggregates and the CSV export, so they cannot disagree: a
*base* row per contact joins what each channel stored about it (its case, the work item
routing made of it with its accept, conversation end and wrap-up, the accepted offer, the
call, the chat, the first-response SLA clock), a *derived* layer turns those timestamps
into seconds and verdicts, and the aggregates group the derived rows. All lookups go by
primary key or an existing index; only the period filters scan (see docs/reports.md for
the indexes that would spare that).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from core.ports import CallTally, ContactLine, VolumeCount, WorkTally, WrapUpTally
from core.storage.tables import (
    calls,
    cases,
    chat_conversations,
    chat_messages,
    contacts,
    customers,
    offers,
    sla_clocks,
    survey_responses,
    work_items,
)

Expr = sa.ColumnElement[Any]
Sub = sa.Subquery


class SqlReports:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._sqlite = conn.dialect.name == "sqlite"

    async def volumes(self, start: datetime, end: datetime) -> list[VolumeCount]:
        inner = sa.select(
            self._hour(contacts.c.received_at).label("hour"), contacts.c.channel,
            contacts.c.direction, cases.c.type.label("case_type"),
        ).select_from(contacts.outerjoin(cases, cases.c.id == contacts.c.case_id)).where(
            *_received(start, end)).subquery()
        rows = await self._conn.execute(sa.select(
            inner.c.hour, inner.c.channel, inner.c.direction, inner.c.case_type,
            sa.func.count().label("contacts"),
        ).group_by(inner.c.hour, inner.c.channel, inner.c.direction, inner.c.case_type))
        return [VolumeCount(hour=datetime.fromtimestamp(int(r.hour) * 3600, UTC),
                            channel=r.channel, direction=r.direction, case_type=r.case_type,
                            contacts=int(r.contacts)) for r in rows]

    async def calls(self, start: datetime, end: datetime, *,
                    answer_within_s: int) -> list[CallTally]:
        b = _base(start, end).where(calls.c.enqueued_at.is_not(None),
                                     calls.c.direction == "inbound").subquery()
        answered = b.c.call_answered_at.is_not(None)
        waited_s = self._seconds(b.c.call_enqueued_at, b.c.call_answered_at)
        rows = await self._conn.execute(sa.select(
            b.c.queue_id, sa.func.count().label("entered"),
            _count(sa.and_(~answered, b.c.call_ended_at.is_(None),
                           b.c.call_outcome.is_(None))).label("waiting"),
            _count(answered).label("answered"),
            _count(sa.and_(answered, waited_s <= answer_within_s)).label("within"),
            _count(sa.and_(~answered, b.c.call_outcome == "abandoned")).label("abandoned"),
            _count(b.c.call_outcome == "callback").label("callbacks"),
        ).group_by(b.c.queue_id))
        return [CallTally(queue_id=r.queue_id, entered=int(r.entered), waiting=int(r.waiting),
                          answered=int(r.answered), answered_within_target=int(r.within),
                          abandoned=int(r.abandoned), callbacks=int(r.callbacks))
                for r in rows]

    async def work(self, start: datetime, end: datetime, *, now: datetime) -> list[WorkTally]:
        d = self._derived(_base(start, end).where(work_items.c.id.is_not(None)).subquery(),
                          now=now)
        accepted = d.c.first_accept_at.is_not(None)
        rows = await self._conn.execute(sa.select(
            d.c.channel, d.c.queue_id, d.c.agent_id, sa.func.count().label("routed"),
            _count(accepted).label("accepted"),
            _sum(sa.case((accepted, d.c.wait_s))).label("answer_wait_s"),
            _count(d.c.handle_s.is_not(None)).label("handled"),
            _sum(d.c.handle_s).label("handle_s"), _sum(d.c.talk_s).label("talk_s"),
            _sum(d.c.acw_s).label("acw_s"),
            _count(d.c.first_response_s.is_not(None)).label("responded"),
            _sum(d.c.first_response_s).label("first_response_s"),
            _count(d.c.sla == "met").label("sla_met"),
            _count(d.c.sla == "missed").label("sla_missed"),
            _count(d.c.sla == "pending").label("sla_pending"),
            _count(d.c.chat_id.is_not(None)).label("chats"),
            _count(d.c.chat_outcome == "answered").label("chats_answered"),
            _count(d.c.chat_outcome == "abandoned").label("chats_abandoned"),
        ).group_by(d.c.channel, d.c.queue_id, d.c.agent_id))
        return [WorkTally(
            channel=r.channel, queue_id=r.queue_id, agent_id=r.agent_id,
            routed=int(r.routed), accepted=int(r.accepted),
            answer_wait_s=float(r.answer_wait_s), handled=int(r.handled),
            handle_s=float(r.handle_s), talk_s=float(r.talk_s),
            after_contact_work_s=float(r.acw_s), responded=int(r.responded),
            first_response_s=float(r.first_response_s), sla_met=int(r.sla_met),
            sla_missed=int(r.sla_missed), sla_pending=int(r.sla_pending),
            chats=int(r.chats), chats_answered=int(r.chats_answered),
            chats_abandoned=int(r.chats_abandoned)) for r in rows]

    async def wrap_ups(self, start: datetime, end: datetime) -> list[WrapUpTally]:
        b = _base(start, end).where(work_items.c.outcome.is_not(None)).subquery()
        others = contacts.alias("case_contacts")
        inbound = sa.select(sa.func.count()).where(
            others.c.case_id == b.c.case_id, others.c.direction == "inbound",
        ).scalar_subquery()
        first_contact = sa.and_(b.c.item_outcome == "resolved", inbound == 1)
        rows = await self._conn.execute(sa.select(
            b.c.channel, b.c.queue_id, b.c.agent_id, b.c.item_outcome, b.c.item_disposition,
            sa.func.count().label("wrapped_up"), _count(first_contact).label("first_contact"),
            _count(b.c.item_disposition == "auto").label("automatic"),
        ).group_by(b.c.channel, b.c.queue_id, b.c.agent_id, b.c.item_outcome,
                   b.c.item_disposition))
        return [WrapUpTally(channel=r.channel, queue_id=r.queue_id, agent_id=r.agent_id,
                            outcome=r.item_outcome, disposition=r.item_disposition,
                            wrapped_up=int(r.wrapped_up), first_contact=int(r.first_contact),
                            automatic=int(r.automatic)) for r in rows]

    async def contact_lines(self, start: datetime, end: datetime, *,
                            now: datetime) -> AsyncIterator[ContactLine]:
        d = self._derived(_base(start, end).subquery(), now=now)
        csat = (sa.select(survey_responses.c.score)
                .where(survey_responses.c.contact_id == d.c.contact_id,
                       survey_responses.c.score.is_not(None))
                .order_by(survey_responses.c.answered_at.desc()).limit(1).scalar_subquery())
        query = sa.select(d, csat.label("csat")).order_by(d.c.received_at, d.c.contact_id)
        # A server-side cursor on PostgreSQL, row batches on SQLite: never the whole period.
        result = await self._conn.stream(query.execution_options(yield_per=500))
        async for r in result:
            yield ContactLine(
                contact_id=r.contact_id, received_at=r.received_at, channel=r.channel,
                direction=r.direction, customer_id=r.customer_id,
                customer_name=r.customer_name, case_number=r.case_number,
                case_type=r.case_type, case_status=r.case_status, queue_id=r.queue_id,
                wait_s=_float(r.wait_s), handle_s=_float(r.handle_s),
                first_response_s=_float(r.first_response_s),
                sla_met=None if r.sla in (None, "pending") else r.sla == "met",
                outcome=r.item_outcome, csat=r.csat, talk_s=_float(r.talk_s),
                after_contact_work_s=_float(r.acw_s), disposition=r.item_disposition,
                channel_outcome=r.channel_outcome)

    # --- the derived layer ---------------------------------------------------------------

    def _derived(self, b: Sub, *, now: datetime) -> Sub:
        """Seconds and verdicts from a base row's timestamps (docs/reports.md)."""
        accepted = b.c.first_accept_at.is_not(None)
        queue_call = sa.and_(b.c.call_enqueued_at.is_not(None), b.c.call_direction == "inbound")
        wait_s = sa.case(
            (queue_call, self._seconds(b.c.call_enqueued_at,
                                       sa.func.coalesce(b.c.call_answered_at,
                                                        b.c.call_ended_at))),
            (sa.and_(b.c.item_id.is_not(None), accepted),
             self._seconds(b.c.item_created_at, b.c.first_accept_at)))
        # Stored by the desk (older work has no wrap-up times and is not measured).
        handled = sa.and_(b.c.item_accepted_at.is_not(None),
                          b.c.item_completed_at.is_not(None))
        handle_s = sa.case((handled, self._seconds(b.c.item_accepted_at,
                                                   b.c.item_completed_at)))
        talk_s = sa.case((handled, self._seconds(b.c.item_accepted_at, b.c.item_ended_at)))
        acw_s = sa.case((handled, self._seconds(b.c.item_ended_at, b.c.item_completed_at)))
        first_response_s = sa.case(
            (sa.and_(b.c.item_id.is_not(None), b.c.case_first_responded_at.is_not(None)),
             self._seconds(b.c.case_created_at, b.c.case_first_responded_at)))
        sla = sa.case(
            (b.c.fr_id.is_(None), sa.null()),
            (sa.and_(b.c.fr_stopped_at.is_not(None), b.c.fr_consumed_s <= b.c.fr_target_s),
             "met"),
            (sa.or_(b.c.fr_stopped_at.is_not(None), b.c.fr_breached == sa.true(),
                    sa.and_(b.c.fr_paused_at.is_(None), b.c.fr_due_at <= now)), "missed"),
            else_="pending")
        chat_answered = sa.or_(
            b.c.chat_agent_spoke == sa.true(),
            sa.and_(accepted, sa.or_(b.c.chat_ended_at.is_(None),
                                     b.c.first_accept_at <= b.c.chat_ended_at)))
        chat_outcome = sa.case(
            (b.c.chat_id.is_(None), sa.null()), (chat_answered, "answered"),
            (b.c.chat_ended_at.is_not(None), "abandoned"), else_="waiting")
        return sa.select(
            b.c.contact_id, b.c.received_at, b.c.channel, b.c.direction, b.c.customer_id,
            b.c.customer_name, b.c.case_number, b.c.case_type, b.c.case_status, b.c.queue_id,
            b.c.agent_id, b.c.first_accept_at, b.c.chat_id,
            b.c.item_outcome, b.c.item_disposition,
            wait_s.label("wait_s"), handle_s.label("handle_s"), talk_s.label("talk_s"),
            acw_s.label("acw_s"), first_response_s.label("first_response_s"),
            sla.label("sla"), chat_outcome.label("chat_outcome"),
            sa.func.coalesce(b.c.call_outcome, chat_outcome).label("channel_outcome"),
        ).subquery()

    def _seconds(self, start: Expr, end: Expr) -> Expr:
        """Seconds from ``start`` to ``end`` (NULL when either is)."""
        if self._sqlite:
            # Stored as text; julianday reads it to the millisecond.
            return sa.func.round(
                (sa.func.julianday(end) - sa.func.julianday(start)) * 86400.0, 3)
        return sa.cast(sa.extract("epoch", end) - sa.extract("epoch", start), sa.Float)

    def _hour(self, moment: Expr) -> Expr:
        """The UTC hour a moment falls in, as whole hours since the epoch."""
        if self._sqlite:
            return sa.cast(sa.func.strftime("%s", moment), sa.Integer) // 3600
        return sa.cast(sa.func.floor(sa.extract("epoch", moment) / 3600), sa.BigInteger)


def _base(start: datetime, end: datetime) -> sa.Select[Any]:
    """One row per contact received in ``[start, end)`` with what each channel stored."""
    accepted = sa.and_(offers.c.work_item_id == work_items.c.id, offers.c.status == "accepted")
    first_accept = sa.select(sa.func.min(offers.c.answered_at)).where(
        accepted).scalar_subquery()
    accepting_agent = sa.select(offers.c.agent_id).where(accepted).order_by(
        offers.c.answered_at, offers.c.id).limit(1).scalar_subquery()
    in_chat = chat_messages.c.conversation_id == chat_conversations.c.id
    agent_left = sa.select(sa.func.min(chat_messages.c.created_at)).where(
        in_chat, chat_messages.c.event == "agent_left").scalar_subquery()
    agent_spoke = sa.exists().where(in_chat, chat_messages.c.sender == "agent")
    joined = (
        contacts.join(customers, customers.c.id == contacts.c.customer_id)
        .outerjoin(cases, cases.c.id == contacts.c.case_id)
        # Routing makes one work item per case, of the contact that opened it (a callback
        # planned at wrap-up is work of its own on that case, not another contact's).
        .outerjoin(work_items, sa.and_(work_items.c.case_id == contacts.c.case_id,
                                       work_items.c.contact_id == contacts.c.id,
                                       work_items.c.kind == "contact"))
        # A call's contact carries the call's sid as its external id.
        .outerjoin(calls, sa.and_(contacts.c.channel == "phone",
                                  calls.c.sid == contacts.c.external_id))
        .outerjoin(chat_conversations, sa.and_(
            chat_conversations.c.case_id == contacts.c.case_id,
            chat_conversations.c.contact_id == contacts.c.id))
        .outerjoin(sla_clocks, sa.and_(sla_clocks.c.case_id == work_items.c.case_id,
                                       sla_clocks.c.kind == "first_response")))
    return sa.select(
        contacts.c.id.label("contact_id"), contacts.c.received_at, contacts.c.channel,
        contacts.c.direction, contacts.c.customer_id, contacts.c.case_id,
        customers.c.display_name.label("customer_name"),
        cases.c.number.label("case_number"), cases.c.type.label("case_type"),
        cases.c.status.label("case_status"), cases.c.created_at.label("case_created_at"),
        cases.c.resolved_at.label("case_resolved_at"),
        cases.c.first_responded_at.label("case_first_responded_at"),
        sa.func.coalesce(work_items.c.queue_id, cases.c.queue_id).label("queue_id"),
        work_items.c.id.label("item_id"), work_items.c.created_at.label("item_created_at"),
        work_items.c.status.label("item_status"),
        work_items.c.accepted_at.label("item_accepted_at"),
        work_items.c.conversation_ended_at.label("item_ended_at"),
        work_items.c.completed_at.label("item_completed_at"),
        work_items.c.outcome.label("item_outcome"),
        work_items.c.disposition.label("item_disposition"),
        first_accept.label("first_accept_at"), accepting_agent.label("agent_id"),
        calls.c.sid.label("call_sid"), calls.c.direction.label("call_direction"),
        calls.c.enqueued_at.label("call_enqueued_at"),
        calls.c.answered_at.label("call_answered_at"), calls.c.ended_at.label("call_ended_at"),
        calls.c.outcome.label("call_outcome"),
        chat_conversations.c.id.label("chat_id"),
        chat_conversations.c.ended_at.label("chat_ended_at"),
        agent_left.label("chat_agent_left_at"), agent_spoke.label("chat_agent_spoke"),
        sla_clocks.c.id.label("fr_id"), sla_clocks.c.stopped_at.label("fr_stopped_at"),
        sla_clocks.c.consumed_s.label("fr_consumed_s"),
        sla_clocks.c.target_s.label("fr_target_s"), sla_clocks.c.breached.label("fr_breached"),
        sla_clocks.c.paused_at.label("fr_paused_at"), sla_clocks.c.due_at.label("fr_due_at"),
    ).select_from(joined).where(*_received(start, end))


def _received(start: datetime, end: datetime) -> tuple[Expr, Expr]:
    return contacts.c.received_at >= start, contacts.c.received_at < end


def _count(condition: Expr) -> Expr:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def _sum(value: Expr) -> Expr:
    return sa.func.coalesce(sa.func.sum(value), 0.0)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)
