"""Identifier verifications (hashed one-time codes) in SQL."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.verification import Verification
from core.storage.tables import phone_verifications as table


class SqlVerifications:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, verification: Verification) -> None:
        await self._conn.execute(table.insert().values(
            id=verification.id, call_sid=verification.reference,
            customer_id=verification.customer_id, phone=verification.phone,
            code_hash=verification.code_hash, sent_to=verification.sent_to,
            attempts=verification.attempts, created_at=verification.created_at,
            expires_at=verification.expires_at, verified_at=verification.verified_at))

    async def save(self, verification: Verification) -> None:
        await self._conn.execute(table.update().where(table.c.id == verification.id).values(
            attempts=verification.attempts, verified_at=verification.verified_at))

    async def latest(self, reference: str) -> Verification | None:
        r = (await self._conn.execute(sa.select(table).where(table.c.call_sid == reference)
                                      .order_by(table.c.created_at.desc()).limit(1)
                                      )).mappings().first()
        if r is None:
            return None
        return Verification(
            id=r["id"], reference=r["call_sid"], customer_id=r["customer_id"],
            phone=r["phone"], code_hash=r["code_hash"], sent_to=r["sent_to"],
            attempts=r["attempts"], created_at=r["created_at"], expires_at=r["expires_at"],
            verified_at=r["verified_at"])

    async def count_since(self, customer_id: str, since: datetime) -> int:
        return int((await self._conn.execute(sa.select(sa.func.count()).where(
            table.c.customer_id == customer_id, table.c.created_at >= since))).scalar_one())
