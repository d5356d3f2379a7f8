"""Possible duplicates and merge records in SQL."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.customer import Merge, PossibleDuplicate
from core.storage.tables import merges, possible_duplicates


class SqlIdentityRecords:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add_duplicate(self, duplicate: PossibleDuplicate) -> bool:
        low, high = sorted((duplicate.customer_id, duplicate.other_customer_id))
        exists = await self._conn.scalar(sa.select(possible_duplicates.c.id).where(
            possible_duplicates.c.pair_low == low, possible_duplicates.c.pair_high == high))
        if exists:
            return False
        await self._conn.execute(possible_duplicates.insert().values(
            id=duplicate.id, customer_id=duplicate.customer_id,
            other_customer_id=duplicate.other_customer_id, pair_low=low, pair_high=high,
            reason=duplicate.reason, contact_id=duplicate.contact_id,
            created_at=duplicate.created_at, dismissed=duplicate.dismissed))
        return True

    async def duplicates_of(self, customer_id: str) -> list[PossibleDuplicate]:
        rows = (await self._conn.execute(
            sa.select(possible_duplicates).where(sa.or_(
                possible_duplicates.c.pair_low == customer_id,
                possible_duplicates.c.pair_high == customer_id))
            .order_by(possible_duplicates.c.created_at.desc()))).mappings().all()
        result = []
        for r in rows:
            # Present the pair from the asking customer's side.
            other = r["pair_high"] if r["pair_low"] == customer_id else r["pair_low"]
            result.append(PossibleDuplicate(
                id=r["id"], customer_id=customer_id, other_customer_id=other,
                reason=r["reason"], contact_id=r["contact_id"], created_at=r["created_at"],
                dismissed=r["dismissed"]))
        return result

    async def add_merge(self, merge: Merge) -> None:
        await self._conn.execute(merges.insert().values(
            id=merge.id, survivor_id=merge.survivor_id, merged_id=merge.merged_id,
            moved_identifier_ids=merge.moved_identifier_ids,
            moved_contact_ids=merge.moved_contact_ids, moved_case_ids=merge.moved_case_ids,
            merged_by=merge.merged_by, merged_at=merge.merged_at))

    async def get_merge(self, merge_id: str) -> Merge | None:
        r = (await self._conn.execute(
            sa.select(merges).where(merges.c.id == merge_id))).mappings().first()
        if r is None:
            return None
        return Merge(
            id=r["id"], survivor_id=r["survivor_id"], merged_id=r["merged_id"],
            moved_identifier_ids=list(r["moved_identifier_ids"]),
            moved_contact_ids=list(r["moved_contact_ids"]),
            moved_case_ids=list(r["moved_case_ids"]), merged_by=r["merged_by"],
            merged_at=r["merged_at"], undone_at=r["undone_at"], undone_by=r["undone_by"])

    async def mark_merge_undone(self, merge_id: str, *, by: str, at: datetime) -> None:
        await self._conn.execute(merges.update().where(merges.c.id == merge_id)
                                 .values(undone_at=at, undone_by=by))
