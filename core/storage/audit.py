"""The audit log in SQL. Append-only by construction: this adapter inserts and reads, and has
no way to change or remove an entry (the database's triggers refuse that too)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.audit import Actor, AuditAction, AuditEntry, AuditFilter
from core.storage import cursors
from core.storage.tables import audit_log


class SqlAuditLog:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, entry: AuditEntry) -> None:
        await self._conn.execute(audit_log.insert().values(
            id=entry.id, at=entry.at, actor_id=entry.actor.id, actor_name=entry.actor.name,
            actor_role=entry.actor.role, action=entry.action.value,
            subject_kind=entry.subject_kind, subject_id=entry.subject_id,
            customer_id=entry.customer_id, contact_id=entry.contact_id,
            request_id=entry.actor.request_id, details=entry.details))

    async def page(self, where: AuditFilter, *, limit: int, cursor: str | None,
                   ) -> tuple[list[AuditEntry], str | None]:
        query = _select(where)
        if cursor:
            at, last_id = cursors.decode(cursor)
            query = query.where(sa.tuple_(audit_log.c.at, audit_log.c.id)
                                < sa.tuple_(sa.literal(at, audit_log.c.at.type),
                                            sa.literal(last_id)))
        rows = (await self._conn.execute(
            query.order_by(audit_log.c.at.desc(), audit_log.c.id.desc()).limit(limit + 1)
        )).mappings().all()
        page = [_entry(r) for r in rows[:limit]]
        more = len(rows) > limit
        return page, cursors.encode(page[-1].at, page[-1].id) if more else None

    async def stream(self, where: AuditFilter) -> AsyncIterator[AuditEntry]:
        query = _select(where).order_by(audit_log.c.at, audit_log.c.id)
        # A server-side cursor on PostgreSQL, row batches on SQLite: never the whole log.
        result = await self._conn.stream(query.execution_options(yield_per=500))
        async for row in result.mappings():
            yield _entry(row)


def _select(where: AuditFilter) -> sa.Select[Any]:
    c = audit_log.c
    query = sa.select(audit_log)
    if where.actor_id is not None:
        query = query.where(c.actor_id == where.actor_id)
    if where.action is not None:
        query = query.where(c.action == where.action.value)
    if where.subject_kind is not None:
        query = query.where(c.subject_kind == where.subject_kind)
    if where.subject_id is not None:
        query = query.where(c.subject_id == where.subject_id)
    if where.customer_ids:
        query = query.where(sa.or_(
            c.customer_id.in_(where.customer_ids),
            sa.and_(c.subject_kind == "customer", c.subject_id.in_(where.customer_ids))))
    if where.since is not None:
        query = query.where(c.at >= where.since)
    if where.until is not None:
        query = query.where(c.at < where.until)
    return query


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        id=row["id"], at=row["at"],
        actor=Actor(id=row["actor_id"], name=row["actor_name"], role=row["actor_role"],
                    request_id=row["request_id"]),
        action=AuditAction(row["action"]), subject_kind=row["subject_kind"],
        subject_id=row["subject_id"], customer_id=row["customer_id"],
        contact_id=row["contact_id"], details=dict(row["details"] or {}))
