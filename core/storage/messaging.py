"""Blobs, channel cursors, quarantine, message references and outbound messages in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.channels import Direction
from core.domain.clock import Clock
from core.domain.ids import new_id
from core.domain.messaging import (
    DeliveryState,
    MessageRef,
    OutboundKind,
    OutboundMessage,
    QuarantinedItem,
    QuarantineStatus,
    content_key,
)
from core.storage.tables import (
    blobs,
    channel_cursors,
    message_refs,
    outbound_messages,
    quarantine,
)


def _insert(conn: AsyncConnection, table: sa.Table) -> Any:
    return (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(table)


class SqlBlobs:
    def __init__(self, conn: AsyncConnection, clock: Clock) -> None:
        self._conn = conn
        self._clock = clock

    async def put(self, content: bytes) -> str:
        key = content_key(content)
        await self._conn.execute(_insert(self._conn, blobs).values(
            key=key, size=len(content), content=content, created_at=self._clock.now(),
        ).on_conflict_do_nothing())
        return key

    async def get(self, key: str) -> bytes | None:
        content: bytes | None = await self._conn.scalar(
            sa.select(blobs.c.content).where(blobs.c.key == key))
        return content


class SqlChannelCursors:
    def __init__(self, conn: AsyncConnection, clock: Clock) -> None:
        self._conn = conn
        self._clock = clock

    async def get(self, source: str) -> tuple[int, int] | None:
        row = (await self._conn.execute(sa.select(
            channel_cursors.c.validity, channel_cursors.c.position,
        ).where(channel_cursors.c.source == source))).first()
        return (int(row.validity), int(row.position)) if row else None

    async def save(self, source: str, validity: int, position: int) -> None:
        statement = _insert(self._conn, channel_cursors).values(
            source=source, validity=validity, position=position, updated_at=self._clock.now())
        await self._conn.execute(statement.on_conflict_do_update(
            index_elements=[channel_cursors.c.source],
            set_={"validity": validity, "position": position,
                  "updated_at": statement.excluded.updated_at}))


class SqlQuarantine:
    def __init__(self, conn: AsyncConnection, clock: Clock) -> None:
        self._conn = conn
        self._clock = clock

    async def record_failure(self, *, channel: str, source: str, item_ref: str,
                             raw_ref: str | None, reason: str, give_up: bool,
                             max_attempts: int) -> QuarantinedItem:
        now = self._clock.now()
        item = await self.find(source, item_ref)
        if item is None:
            item = QuarantinedItem(
                id=new_id("qua"), channel=channel, source=source, item_ref=item_ref,
                raw_ref=raw_ref, reason=reason, attempts=0,
                status=QuarantineStatus.RETRYING, first_failed_at=now, last_failed_at=now)
            await self._conn.execute(quarantine.insert().values(**_quarantine_values(item)))
        item.attempts += 1
        item.reason = reason
        item.raw_ref = raw_ref or item.raw_ref
        item.last_failed_at = now
        if give_up or item.attempts >= max_attempts:
            item.status = QuarantineStatus.QUARANTINED
        await self._conn.execute(quarantine.update().where(quarantine.c.id == item.id)
                                 .values(**_quarantine_values(item)))
        return item

    async def find(self, source: str, item_ref: str) -> QuarantinedItem | None:
        row = (await self._conn.execute(sa.select(quarantine).where(
            quarantine.c.source == source, quarantine.c.item_ref == item_ref,
        ))).mappings().first()
        return _quarantined(row) if row else None

    async def get(self, item_id: str) -> QuarantinedItem | None:
        row = (await self._conn.execute(
            sa.select(quarantine).where(quarantine.c.id == item_id))).mappings().first()
        return _quarantined(row) if row else None

    async def page(self, *, status: QuarantineStatus | None, limit: int,
                   ) -> list[QuarantinedItem]:
        query = sa.select(quarantine).order_by(quarantine.c.last_failed_at.desc(),
                                               quarantine.c.id).limit(limit)
        if status is not None:
            query = query.where(quarantine.c.status == status.value)
        return [_quarantined(r) for r in (await self._conn.execute(query)).mappings()]

    async def set_status(self, item_id: str, status: QuarantineStatus) -> None:
        await self._conn.execute(quarantine.update().where(quarantine.c.id == item_id)
                                 .values(status=status.value))


def _quarantine_values(item: QuarantinedItem) -> dict[str, Any]:
    return {"id": item.id, "channel": item.channel, "source": item.source,
            "item_ref": item.item_ref, "raw_ref": item.raw_ref, "reason": item.reason,
            "attempts": item.attempts, "status": item.status.value,
            "first_failed_at": item.first_failed_at, "last_failed_at": item.last_failed_at}


def _quarantined(r: sa.RowMapping) -> QuarantinedItem:
    return QuarantinedItem(
        id=r["id"], channel=r["channel"], source=r["source"], item_ref=r["item_ref"],
        raw_ref=r["raw_ref"], reason=r["reason"], attempts=r["attempts"],
        status=QuarantineStatus(r["status"]), first_failed_at=r["first_failed_at"],
        last_failed_at=r["last_failed_at"])


class SqlMessageRefs:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, refs: Sequence[MessageRef]) -> None:
        if not refs:
            return
        await self._conn.execute(_insert(self._conn, message_refs).values([
            {"channel": r.channel, "message_id": r.message_id, "contact_id": r.contact_id,
             "case_id": r.case_id, "customer_id": r.customer_id,
             "direction": r.direction.value} for r in refs
        ]).on_conflict_do_nothing())

    async def find(self, channel: str, message_ids: Sequence[str]) -> list[MessageRef]:
        if not message_ids:
            return []
        rows = (await self._conn.execute(sa.select(message_refs).where(
            message_refs.c.channel == channel,
            message_refs.c.message_id.in_(list(message_ids)),
        ))).mappings()
        return [_ref(r) for r in rows]

    async def for_case(self, channel: str, case_id: str) -> list[MessageRef]:
        rows = (await self._conn.execute(sa.select(message_refs).where(
            message_refs.c.channel == channel, message_refs.c.case_id == case_id,
        ))).mappings()
        return [_ref(r) for r in rows]


def _ref(r: sa.RowMapping) -> MessageRef:
    return MessageRef(channel=r["channel"], message_id=r["message_id"],
                      contact_id=r["contact_id"], case_id=r["case_id"],
                      customer_id=r["customer_id"], direction=Direction(r["direction"]))


class SqlOutboundMessages:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, message: OutboundMessage) -> None:
        await self._conn.execute(outbound_messages.insert().values(
            id=message.id, channel=message.channel, contact_id=message.contact_id,
            case_id=message.case_id, message_id=message.message_id,
            recipient=message.recipient, envelope=message.envelope,
            created_at=message.created_at, **_outcome(message)))

    async def get(self, message_id: str) -> OutboundMessage | None:
        return await self._one(outbound_messages.c.message_id == message_id)

    async def for_contact(self, contact_id: str) -> OutboundMessage | None:
        return await self._one(outbound_messages.c.contact_id == contact_id)

    async def _one(self, where: sa.ColumnElement[bool]) -> OutboundMessage | None:
        row = (await self._conn.execute(
            sa.select(outbound_messages).where(where))).mappings().first()
        return _outbound(row) if row else None

    async def due(self, now: datetime, *, limit: int) -> list[OutboundMessage]:
        rows = (await self._conn.execute(sa.select(outbound_messages).where(
            outbound_messages.c.state == DeliveryState.QUEUED.value,
            outbound_messages.c.next_attempt_at <= now,
            sa.or_(outbound_messages.c.held_until.is_(None),
                   outbound_messages.c.held_until <= now),
        ).order_by(outbound_messages.c.next_attempt_at).limit(limit))).mappings()
        return [_outbound(r) for r in rows]

    async def claim(self, message_id: str, *, until: datetime, now: datetime) -> bool:
        result = await self._conn.execute(outbound_messages.update().where(
            outbound_messages.c.message_id == message_id,
            outbound_messages.c.state == DeliveryState.QUEUED.value,
            sa.or_(outbound_messages.c.held_until.is_(None),
                   outbound_messages.c.held_until <= now),
        ).values(held_until=until))
        return bool(result.rowcount)

    async def save(self, message: OutboundMessage) -> None:
        await self._conn.execute(outbound_messages.update().where(
            outbound_messages.c.id == message.id).values(held_until=None, **_outcome(message)))

    async def next_due(self) -> datetime | None:
        value: datetime | None = await self._conn.scalar(sa.select(
            sa.func.min(sa.func.coalesce(outbound_messages.c.held_until,
                                         outbound_messages.c.next_attempt_at)),
        ).where(outbound_messages.c.state == DeliveryState.QUEUED.value))
        return value

    async def count_recent(self, *, recipient: str, kind: OutboundKind,
                           since: datetime) -> int:
        value = await self._conn.scalar(sa.select(sa.func.count()).where(
            outbound_messages.c.recipient == recipient,
            outbound_messages.c.kind == kind.value,
            outbound_messages.c.created_at >= since))
        return int(value or 0)


def _outcome(m: OutboundMessage) -> dict[str, Any]:
    return {"kind": m.kind.value, "state": m.state.value, "attempts": m.attempts,
            "next_attempt_at": m.next_attempt_at, "last_error": m.last_error,
            "sent_at": m.sent_at}


def _outbound(r: sa.RowMapping) -> OutboundMessage:
    return OutboundMessage(
        id=r["id"], channel=r["channel"], kind=OutboundKind(r["kind"]),
        contact_id=r["contact_id"], case_id=r["case_id"], message_id=r["message_id"],
        recipient=r["recipient"], envelope=dict(r["envelope"]),
        state=DeliveryState(r["state"]), attempts=r["attempts"],
        next_attempt_at=r["next_attempt_at"], last_error=r["last_error"],
        created_at=r["created_at"], sent_at=r["sent_at"])
