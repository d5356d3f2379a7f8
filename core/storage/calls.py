"""Calls and their once-only status events in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.calls import Call, CallOutcome, CallStatus
from core.domain.clock import Clock
from core.storage.tables import call_events, calls, contacts


class SqlCalls:
    def __init__(self, conn: AsyncConnection, clock: Clock) -> None:
        self._conn = conn
        self._clock = clock

    async def add(self, call: Call) -> bool:
        """Store a new call; False when it was already stored (a retried webhook)."""
        insert = pg_insert if self._conn.dialect.name == "postgresql" else sqlite_insert
        result = await self._conn.execute(insert(calls).values(
            sid=call.sid, **_values(call)).on_conflict_do_nothing())
        return bool(result.rowcount)

    async def get(self, sid: str) -> Call | None:
        row = (await self._conn.execute(
            sa.select(calls).where(calls.c.sid == sid))).mappings().first()
        return _call(row) if row else None

    async def active_for_case(self, case_id: str) -> Call | None:
        row = (await self._conn.execute(sa.select(calls).where(
            calls.c.case_id == case_id, calls.c.direction == "inbound",
            calls.c.ended_at.is_(None)).order_by(calls.c.started_at.desc()).limit(1)
        )).mappings().first()
        return _call(row) if row else None

    async def for_customers(self, customer_ids: Sequence[str]) -> list[Call]:
        # A merge moves contacts, not calls: a call is theirs by its customer or contact.
        theirs = sa.select(contacts.c.id).where(contacts.c.customer_id.in_(customer_ids))
        rows = (await self._conn.execute(sa.select(calls).where(sa.or_(
            calls.c.customer_id.in_(customer_ids), calls.c.contact_id.in_(theirs)))
            .order_by(calls.c.started_at, calls.c.sid))).mappings()
        return [_call(r) for r in rows]

    async def save(self, call: Call) -> None:
        await self._conn.execute(calls.update().where(calls.c.sid == call.sid)
                                 .values(**_values(call)))

    async def first_event(self, sid: str, event: str) -> bool:
        insert = pg_insert if self._conn.dialect.name == "postgresql" else sqlite_insert
        result = await self._conn.execute(insert(call_events).values(
            sid=sid, event=event, received_at=self._clock.now()).on_conflict_do_nothing())
        return bool(result.rowcount)


def _values(c: Call) -> dict[str, Any]:
    return {"direction": c.direction, "from_number": c.from_number, "to_number": c.to_number,
            "status": c.status.value, "language": c.language, "customer_id": c.customer_id,
            "contact_id": c.contact_id, "case_id": c.case_id, "path": list(c.path),
            "outcome": c.outcome.value if c.outcome else None,
            "recording_url": c.recording_url, "started_at": c.started_at,
            "enqueued_at": c.enqueued_at, "answered_at": c.answered_at,
            "ended_at": c.ended_at, "duration_s": c.duration_s}


def _call(r: sa.RowMapping) -> Call:
    return Call(sid=r["sid"], direction=r["direction"], from_number=r["from_number"],
                to_number=r["to_number"], status=CallStatus(r["status"]),
                language=r["language"], customer_id=r["customer_id"],
                contact_id=r["contact_id"], case_id=r["case_id"], path=list(r["path"]),
                outcome=CallOutcome(r["outcome"]) if r["outcome"] else None,
                recording_url=r["recording_url"], started_at=r["started_at"],
                enqueued_at=r["enqueued_at"], answered_at=r["answered_at"],
                ended_at=r["ended_at"], duration_s=r["duration_s"])
