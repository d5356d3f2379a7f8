"""Named leases in SQL: one holder at a time, taken over once the holder stops renewing."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from core.storage.tables import leases


class SqlLeases:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def take(self, name: str, holder: str, *, now: datetime,
                   until: datetime) -> bool:
        """Take or renew ``name`` for ``holder`` until ``until``: True when it is ours now.
        One statement, so two contenders cannot both win: the row is inserted, or updated
        only where it is already ours or has expired."""
        insert = pg_insert if self._conn.dialect.name == "postgresql" else sqlite_insert
        statement = insert(leases).values(name=name, holder=holder, expires_at=until)
        statement = statement.on_conflict_do_update(
            index_elements=[leases.c.name],
            set_={"holder": holder, "expires_at": until},
            where=sa.or_(leases.c.holder == holder, leases.c.expires_at <= now))
        result = await self._conn.execute(statement)
        return bool(result.rowcount)

    async def give_up(self, name: str, holder: str) -> None:
        await self._conn.execute(leases.delete().where(leases.c.name == name,
                                                       leases.c.holder == holder))

    async def holder(self, name: str, *, now: datetime) -> str | None:
        return (await self._conn.execute(sa.select(leases.c.holder).where(
            leases.c.name == name, leases.c.expires_at > now))).scalar()
