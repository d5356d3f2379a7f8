"""Internal notes on cases in SQL."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.notes import Note
from core.storage.tables import case_notes


class SqlNotes:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, note: Note) -> None:
        await self._conn.execute(case_notes.insert().values(
            id=note.id, case_id=note.case_id, text=note.text, author=note.author,
            author_id=note.author_id, agent_id=note.agent_id, created_at=note.created_at))

    async def get(self, note_id: str) -> Note | None:
        row = (await self._conn.execute(
            sa.select(case_notes).where(case_notes.c.id == note_id))).mappings().first()
        return _note(row) if row else None

    async def for_case(self, case_id: str, *, limit: int) -> list[Note]:
        rows = (await self._conn.execute(
            sa.select(case_notes).where(case_notes.c.case_id == case_id)
            .order_by(case_notes.c.created_at, case_notes.c.id).limit(limit))).mappings()
        return [_note(r) for r in rows]

    async def latest_for_case(self, case_id: str, *, limit: int) -> list[Note]:
        rows = (await self._conn.execute(
            sa.select(case_notes).where(case_notes.c.case_id == case_id)
            .order_by(case_notes.c.created_at.desc(), case_notes.c.id.desc())
            .limit(limit))).mappings()
        return [_note(r) for r in rows]

    async def count_for_case(self, case_id: str) -> int:
        return int((await self._conn.execute(
            sa.select(sa.func.count()).select_from(case_notes)
            .where(case_notes.c.case_id == case_id))).scalar_one())

    async def delete(self, note_id: str) -> bool:
        result = await self._conn.execute(case_notes.delete().where(case_notes.c.id == note_id))
        return bool(result.rowcount)


def _note(r: sa.RowMapping) -> Note:
    return Note(id=r["id"], case_id=r["case_id"], text=r["text"], author=r["author"],
                author_id=r["author_id"], agent_id=r["agent_id"], created_at=r["created_at"])
