"""Finding data past its retention term in SQL, a bounded batch at a time.

Every query leaves out what a legal hold covers: all of a held customer's data, and the
contacts, calls and chats of a held case. Removing what is found is
:class:`core.storage.redaction.SqlRedactions`'s job (or the few statements here that
concern one kind only).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.contact import OPEN_STATUSES, CaseStatus
from core.domain.customer import CustomerStatus
from core.storage.tables import (
    calls,
    cases,
    chat_conversations,
    chat_messages,
    contacts,
    customers,
    erasure_requests,
    legal_holds,
    quarantine,
)

Expr = sa.ColumnElement[bool]


def _not_held(customer_id: sa.ColumnElement[str],
              case_id: sa.ColumnElement[str | None] | None = None) -> Expr:
    active = legal_holds.c.released_at.is_(None)
    free = customer_id.not_in(sa.select(legal_holds.c.customer_id).where(
        active, legal_holds.c.case_id.is_(None)))
    if case_id is None:
        return free
    return sa.and_(free, sa.or_(case_id.is_(None), case_id.not_in(
        sa.select(legal_holds.c.case_id).where(active, legal_holds.c.case_id.is_not(None)))))


class SqlRetention:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def _ids(self, query: sa.Select[tuple[str]]) -> list[str]:
        return [str(r[0]) for r in await self._conn.execute(query)]

    async def raw_mail_past(self, before: datetime, *, limit: int) -> list[str]:
        """Contacts received before ``before`` that still hold their original bytes or a
        returned message."""
        return await self._ids(sa.select(contacts.c.id).where(
            contacts.c.received_at < before,
            sa.or_(contacts.c.raw_ref.is_not(None),
                   contacts.c.metadata["bounce_ref"].as_string().is_not(None)),
            _not_held(contacts.c.customer_id, contacts.c.case_id),
        ).order_by(contacts.c.id).limit(limit))

    async def strip_raw_mail(self, contact_ids: Sequence[str]) -> set[str]:
        rows = (await self._conn.execute(sa.select(
            contacts.c.id, contacts.c.raw_ref, contacts.c.metadata,
        ).where(contacts.c.id.in_(contact_ids)))).all()
        keys: set[str] = set()
        updates = []
        for contact_id, raw_ref, facts in rows:
            facts = dict(facts or {})
            bounce = facts.pop("bounce_ref", None)
            keys |= {k for k in (raw_ref, bounce) if k}
            updates.append({"b_id": contact_id, "b_metadata": facts})
        if updates:
            await self._conn.execute(contacts.update().where(
                contacts.c.id == sa.bindparam("b_id")).values(
                raw_ref=None,
                metadata=sa.bindparam("b_metadata", type_=contacts.c.metadata.type)), updates)
        return keys

    async def quarantined_past(self, before: datetime, *, limit: int) -> list[str]:
        return await self._ids(sa.select(quarantine.c.id).where(
            quarantine.c.raw_ref.is_not(None), quarantine.c.last_failed_at < before,
        ).order_by(quarantine.c.id).limit(limit))

    async def recordings_past(self, before: datetime, *, limit: int) -> list[str]:
        return await self._ids(sa.select(calls.c.sid).where(
            calls.c.recording_url.is_not(None), calls.c.started_at < before,
            sa.or_(calls.c.customer_id.is_(None),
                   _not_held(calls.c.customer_id, calls.c.case_id)),
        ).order_by(calls.c.sid).limit(limit))

    async def strip_recordings(self, call_sids: Sequence[str]) -> int:
        result = await self._conn.execute(calls.update().where(calls.c.sid.in_(call_sids))
                                          .values(recording_url=None))
        rows = (await self._conn.execute(sa.select(contacts.c.id, contacts.c.metadata).where(
            contacts.c.channel == "phone", contacts.c.external_id.in_(call_sids)))).all()
        for contact_id, facts in rows:
            if facts and "recording_url" in facts:
                kept = {k: v for k, v in facts.items() if k != "recording_url"}
                await self._conn.execute(contacts.update().where(contacts.c.id == contact_id)
                                         .values(metadata=kept))
        return int(result.rowcount or 0)

    async def contacts_past(self, channel: str, before: datetime, *,
                            limit: int) -> list[str]:
        """Contacts of one channel received before ``before`` whose content is still there."""
        return await self._ids(sa.select(contacts.c.id).where(
            contacts.c.channel == channel, contacts.c.received_at < before,
            contacts.c.redacted_at.is_(None),
            _not_held(contacts.c.customer_id, contacts.c.case_id),
        ).order_by(contacts.c.id).limit(limit))

    async def blank_chat_lines_past(self, before: datetime, *, limit: int) -> int:
        """Empty up to ``limit`` chat lines said before ``before`` (the lines stay, with
        sender and time: reports read who spoke and when)."""
        conversation = chat_conversations
        due = sa.select(chat_messages.c.conversation_id, chat_messages.c.seq).join(
            conversation, conversation.c.id == chat_messages.c.conversation_id).where(
            chat_messages.c.created_at < before, chat_messages.c.text != "",
            sa.or_(conversation.c.customer_id.is_(None),
                   _not_held(conversation.c.customer_id, conversation.c.case_id)),
        ).order_by(chat_messages.c.conversation_id, chat_messages.c.seq).limit(limit)
        rows = (await self._conn.execute(due)).all()
        if not rows:
            return 0
        await self._conn.execute(chat_messages.update().where(
            chat_messages.c.conversation_id == sa.bindparam("b_conversation"),
            chat_messages.c.seq == sa.bindparam("b_seq")).values(text=""),
            [{"b_conversation": c, "b_seq": s} for c, s in rows])
        await self._conn.execute(conversation.update().where(
            conversation.c.id.in_({c for c, _ in rows}), conversation.c.created_at < before,
        ).values(name=None, claimed_email=None, topic=None))
        return len(rows)

    async def closed_cases_past(self, before: datetime, *, limit: int) -> list[str]:
        """Cases closed before ``before``, or resolved then and untouched since."""
        closed = sa.or_(
            sa.and_(cases.c.status == CaseStatus.CLOSED.value, cases.c.closed_at < before),
            sa.and_(cases.c.status == CaseStatus.RESOLVED.value,
                    cases.c.resolved_at < before, cases.c.updated_at < before))
        return await self._ids(sa.select(cases.c.id).where(
            closed, cases.c.redacted_at.is_(None), _not_held(cases.c.customer_id, cases.c.id),
        ).order_by(cases.c.id).limit(limit))

    async def inactive_customers(self, before: datetime, *, limit: int) -> list[str]:
        """Active customers created before ``before`` with no contact since, no open case,
        no legal hold and no erasure under way."""
        recent = sa.exists().where(contacts.c.customer_id == customers.c.id,
                                   contacts.c.occurred_at >= before)
        open_case = sa.exists().where(
            cases.c.customer_id == customers.c.id,
            cases.c.status.in_([s.value for s in OPEN_STATUSES]))
        held = sa.exists().where(legal_holds.c.customer_id == customers.c.id,
                                 legal_holds.c.released_at.is_(None))
        erasing = sa.exists().where(erasure_requests.c.customer_id == customers.c.id)
        return await self._ids(sa.select(customers.c.id).where(
            customers.c.status == CustomerStatus.ACTIVE.value, customers.c.created_at < before,
            ~recent, ~open_case, ~held, ~erasing,
        ).order_by(customers.c.id).limit(limit))
