"""Contacts and cases in SQL."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.channels import Channel, ChannelRef, Direction
from core.domain.contact import (
    OPEN_STATUSES,
    AttachmentMeta,
    Case,
    CaseStatus,
    CaseType,
    Contact,
    Priority,
)
from core.domain.errors import AlreadyStored
from core.ports import TimelinePage
from core.storage import cursors
from core.storage.tables import case_number_seq, cases, contacts, counters


class SqlContacts:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, contact_id: str) -> Contact | None:
        row = (await self._conn.execute(
            sa.select(contacts).where(contacts.c.id == contact_id))).mappings().first()
        return _contact(row) if row else None

    async def get_by_ref(self, channel: str, external_id: str) -> Contact | None:
        row = (await self._conn.execute(sa.select(contacts).where(
            contacts.c.channel == channel, contacts.c.external_id == external_id,
        ))).mappings().first()
        return _contact(row) if row else None

    async def add(self, contact: Contact) -> None:
        try:
            await self._insert(contact)
        except IntegrityError as err:
            if "external_id" in str(err.orig) or "uq_contacts" in str(err.orig):
                raise AlreadyStored(f"contact {contact.ref} is already stored") from err
            raise

    async def _insert(self, contact: Contact) -> None:
        await self._conn.execute(contacts.insert().values(
            id=contact.id, channel=contact.ref.channel.value,
            external_id=contact.ref.external_id, direction=contact.direction.value,
            customer_id=contact.customer_id, case_id=contact.case_id,
            occurred_at=contact.occurred_at, received_at=contact.received_at,
            from_name=contact.from_name, from_address=contact.from_address,
            subject=contact.subject, summary=contact.summary, body=contact.body,
            transcript=contact.transcript,
            attachments=[{"id": a.id, "filename": a.filename, "content_type": a.content_type,
                          "size_bytes": a.size_bytes, "storage_key": a.storage_key}
                         for a in contact.attachments],
            raw_ref=contact.raw_ref, metadata=dict(contact.metadata),
        ))

    async def timeline(self, customer_id: str, *, limit: int,
                       cursor: str | None) -> TimelinePage:
        query = sa.select(contacts).where(contacts.c.customer_id == customer_id)
        if cursor:
            at, last_id = cursors.decode(cursor)
            query = query.where(sa.tuple_(contacts.c.occurred_at, contacts.c.id)
                                < sa.tuple_(sa.literal(at, contacts.c.occurred_at.type),
                                            sa.literal(last_id)))
        rows = (await self._conn.execute(
            query.order_by(contacts.c.occurred_at.desc(), contacts.c.id.desc()).limit(limit + 1)
        )).mappings().all()
        page = [_contact(r) for r in rows[:limit]]
        more = len(rows) > limit
        next_cursor = cursors.encode(page[-1].occurred_at, page[-1].id) if more else None
        return TimelinePage(contacts=page, next_cursor=next_cursor)

    async def ids_for_customer(self, customer_id: str) -> list[str]:
        rows = await self._conn.execute(
            sa.select(contacts.c.id).where(contacts.c.customer_id == customer_id))
        return [r[0] for r in rows]

    async def latest_per_channel(self, customer_id: str) -> list[Contact]:
        # One pass over the customer's contacts (ix_contacts_timeline), numbered per channel
        # newest first; both SQLite and PostgreSQL have window functions.
        ranked = sa.select(contacts, sa.func.row_number().over(
            partition_by=contacts.c.channel,
            order_by=(contacts.c.occurred_at.desc(), contacts.c.id.desc()),
        ).label("channel_rank")).where(contacts.c.customer_id == customer_id).subquery()
        rows = (await self._conn.execute(
            sa.select(*[ranked.c[c.name] for c in contacts.columns])
            .where(ranked.c.channel_rank == 1)
            .order_by(ranked.c.occurred_at.desc(), ranked.c.id.desc()))).mappings().all()
        return [_contact(r) for r in rows]

    async def for_case(self, case_id: str, *, limit: int) -> list[Contact]:
        rows = (await self._conn.execute(
            sa.select(contacts).where(contacts.c.case_id == case_id)
            .order_by(contacts.c.occurred_at.desc(), contacts.c.id.desc()).limit(limit)
        )).mappings().all()
        return [_contact(r) for r in rows]

    async def set_transcript(self, contact_id: str, transcript: str) -> None:
        await self._conn.execute(contacts.update().where(contacts.c.id == contact_id)
                                 .values(transcript=transcript))

    async def update_metadata(self, contact_id: str, updates: dict[str, str]) -> None:
        # Read-modify-write inside the caller's transaction: JSON merge operators differ
        # between SQLite and PostgreSQL, and a contact's metadata is a handful of keys.
        current = await self._conn.scalar(
            sa.select(contacts.c.metadata).where(contacts.c.id == contact_id))
        if current is None:
            return
        await self._conn.execute(contacts.update().where(contacts.c.id == contact_id)
                                 .values(metadata={**current, **updates}))

    async def move(self, contact_ids: Sequence[str], to_customer_id: str) -> None:
        if contact_ids:
            await self._conn.execute(contacts.update().where(contacts.c.id.in_(contact_ids))
                                     .values(customer_id=to_customer_id))


class SqlCases:
    """Saving a case writes only the columns changed since this unit of work read it.

    Several processes change the same case at once (the router sets its queue while an
    agent resolves it, the SLA timer raises its priority while an e-mail reopens it); a
    save of the whole row would silently put back what the other one changed.
    """

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn
        self._as_read: dict[str, dict[str, Any]] = {}

    async def get(self, case_id: str, *, for_update: bool = False) -> Case | None:
        query = sa.select(cases).where(cases.c.id == case_id)
        if for_update:
            # PostgreSQL: wait for, then see, a concurrent change of this case. SQLite's
            # write transactions are serial already (BEGIN IMMEDIATE), and the dialect
            # leaves the clause out there.
            query = query.with_for_update()
        row = (await self._conn.execute(query)).mappings().first()
        return self._read(row) if row else None

    async def get_by_number(self, number: int) -> Case | None:
        row = (await self._conn.execute(
            sa.select(cases).where(cases.c.number == number))).mappings().first()
        return self._read(row) if row else None

    async def add(self, case: Case) -> None:
        values = _case_values(case)
        await self._conn.execute(cases.insert().values(id=case.id, **values))
        self._as_read[case.id] = copy.deepcopy(values)

    async def save(self, case: Case) -> None:
        values = _case_values(case)
        del values["number"], values["created_at"]
        before = self._as_read.get(case.id)
        changed = values if before is None else {
            name: value for name, value in values.items() if before.get(name) != value}
        if not changed:
            return
        await self._conn.execute(cases.update().where(cases.c.id == case.id).values(**changed))
        self._as_read[case.id] = {**(before or {}), **copy.deepcopy(changed)}

    def _read(self, row: sa.RowMapping) -> Case:
        case = _case(row)
        # A copy: the domain may change the case's tags or classification in place.
        self._as_read[case.id] = copy.deepcopy(_case_values(case))
        return case

    async def next_number(self) -> int:
        if self._conn.dialect.name == "postgresql":
            return int(await self._conn.scalar(case_number_seq.next_value()))
        value = await self._conn.scalar(
            counters.update().where(counters.c.name == "case_number")
            .values(value=counters.c.value + 1).returning(counters.c.value))
        if value is None:
            await self._conn.execute(counters.insert().values(name="case_number", value=1001))
            return 1001
        return int(value)

    async def page(
        self, *, status: CaseStatus | None, queue_id: str | None, customer_id: str | None,
        limit: int, cursor: str | None, case_type: CaseType | None = None,
    ) -> tuple[list[Case], str | None]:
        query = sa.select(cases)
        if status is not None:
            query = query.where(cases.c.status == status.value)
        if case_type is not None:
            query = query.where(cases.c.type == case_type.value)
        if queue_id is not None:
            query = query.where(cases.c.queue_id == queue_id)
        if customer_id is not None:
            query = query.where(cases.c.customer_id == customer_id)
        if cursor:
            at, last_id = cursors.decode(cursor)
            query = query.where(sa.tuple_(cases.c.created_at, cases.c.id)
                                < sa.tuple_(sa.literal(at, cases.c.created_at.type),
                                            sa.literal(last_id)))
        rows = (await self._conn.execute(
            query.order_by(cases.c.created_at.desc(), cases.c.id.desc()).limit(limit + 1)
        )).mappings().all()
        page = [self._read(r) for r in rows[:limit]]
        more = len(rows) > limit
        return page, (cursors.encode(page[-1].created_at, page[-1].id) if more else None)

    async def open_for_customer(self, customer_id: str) -> list[Case]:
        rows = (await self._conn.execute(
            sa.select(cases).where(cases.c.customer_id == customer_id,
                                   cases.c.status.in_([s.value for s in OPEN_STATUSES]))
            .order_by(cases.c.created_at.desc()))).mappings().all()
        return [self._read(r) for r in rows]

    async def ids_for_customer(self, customer_id: str) -> list[str]:
        rows = await self._conn.execute(
            sa.select(cases.c.id).where(cases.c.customer_id == customer_id))
        return [r[0] for r in rows]

    async def move(self, case_ids: Sequence[str], to_customer_id: str) -> None:
        if case_ids:
            await self._conn.execute(cases.update().where(cases.c.id.in_(case_ids))
                                     .values(customer_id=to_customer_id))


def _contact(r: sa.RowMapping) -> Contact:
    return Contact(
        id=r["id"], ref=ChannelRef(channel=Channel(r["channel"]), external_id=r["external_id"]),
        direction=Direction(r["direction"]), customer_id=r["customer_id"], case_id=r["case_id"],
        occurred_at=r["occurred_at"], received_at=r["received_at"], from_name=r["from_name"],
        from_address=r["from_address"], subject=r["subject"], summary=r["summary"],
        body=r["body"], transcript=r["transcript"],
        attachments=[AttachmentMeta(**a) for a in r["attachments"]], raw_ref=r["raw_ref"],
        metadata=dict(r["metadata"] or {}),
    )


def _case_values(c: Case) -> dict[str, Any]:
    return {
        "number": c.number, "customer_id": c.customer_id, "type": c.type.value,
        "status": c.status.value, "priority": int(c.priority), "subject": c.subject,
        "owner_agent_id": c.owner_agent_id, "queue_id": c.queue_id, "tags": list(c.tags),
        "created_at": c.created_at, "updated_at": c.updated_at,
        "first_response_due_at": c.first_response_due_at,
        "resolution_due_at": c.resolution_due_at, "resolved_at": c.resolved_at,
        "closed_at": c.closed_at, "classification": c.classification,
        "language": c.language, "first_responded_at": c.first_responded_at,
    }


def _case(r: sa.RowMapping) -> Case:
    return Case(
        id=r["id"], number=r["number"], customer_id=r["customer_id"], type=CaseType(r["type"]),
        status=CaseStatus(r["status"]), priority=Priority(r["priority"]), subject=r["subject"],
        owner_agent_id=r["owner_agent_id"], queue_id=r["queue_id"], tags=list(r["tags"]),
        created_at=r["created_at"], updated_at=r["updated_at"],
        first_response_due_at=r["first_response_due_at"],
        resolution_due_at=r["resolution_due_at"], resolved_at=r["resolved_at"],
        closed_at=r["closed_at"], classification=r["classification"], language=r["language"],
        first_responded_at=r["first_responded_at"],
    )
