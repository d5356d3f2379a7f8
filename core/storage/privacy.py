"""Legal holds, erasure requests and contact consent in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.errors import AlreadyStored
from core.domain.privacy import (
    Consent,
    ConsentChannel,
    ErasureMatch,
    ErasureRequest,
    ErasureStep,
    LegalHold,
)
from core.storage.tables import contact_consents, erasure_requests, legal_holds


class SqlPrivacy:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    # --- legal holds -----------------------------------------------------------------

    async def add_hold(self, hold: LegalHold) -> None:
        await self._conn.execute(legal_holds.insert().values(**_hold_values(hold)))

    async def save_hold(self, hold: LegalHold) -> None:
        values = _hold_values(hold)
        del values["id"]
        await self._conn.execute(
            legal_holds.update().where(legal_holds.c.id == hold.id).values(**values))

    async def get_hold(self, hold_id: str) -> LegalHold | None:
        row = (await self._conn.execute(
            sa.select(legal_holds).where(legal_holds.c.id == hold_id))).mappings().first()
        return _hold(row) if row else None

    async def holds_for(self, customer_ids: Sequence[str], *,
                        active_only: bool) -> list[LegalHold]:
        if not customer_ids:
            return []
        query = sa.select(legal_holds).where(legal_holds.c.customer_id.in_(customer_ids))
        if active_only:
            query = query.where(legal_holds.c.released_at.is_(None))
        rows = (await self._conn.execute(
            query.order_by(legal_holds.c.placed_at, legal_holds.c.id))).mappings()
        return [_hold(r) for r in rows]

    async def active_holds(self, *, limit: int) -> list[LegalHold]:
        rows = (await self._conn.execute(
            sa.select(legal_holds).where(legal_holds.c.released_at.is_(None))
            .order_by(legal_holds.c.placed_at.desc(), legal_holds.c.id).limit(limit)
        )).mappings()
        return [_hold(r) for r in rows]

    # --- erasure requests ------------------------------------------------------------

    async def add_erasure(self, request: ErasureRequest) -> None:
        try:
            async with self._conn.begin_nested():
                await self._conn.execute(
                    erasure_requests.insert().values(**_erasure_values(request)))
        except IntegrityError as err:
            raise AlreadyStored(f"customer {request.customer_id} has an erasure "
                                "already") from err

    async def save_erasure(self, request: ErasureRequest) -> None:
        values = _erasure_values(request)
        del values["id"]
        await self._conn.execute(erasure_requests.update()
                                 .where(erasure_requests.c.id == request.id).values(**values))

    async def get_erasure(self, request_id: str, *,
                          for_update: bool = False) -> ErasureRequest | None:
        query = sa.select(erasure_requests).where(erasure_requests.c.id == request_id)
        if for_update and self._conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = (await self._conn.execute(query)).mappings().first()
        return _erasure(row) if row else None

    async def erasure_for(self, customer_id: str) -> ErasureRequest | None:
        row = (await self._conn.execute(
            sa.select(erasure_requests).where(
                sa.or_(erasure_requests.c.customer_id == customer_id,
                       # A customer merged into one being erased is erased with it.
                       sa.cast(erasure_requests.c.customer_ids, sa.Text)
                       .contains(f'"{customer_id}"')))
            .order_by(erasure_requests.c.requested_at.desc()).limit(1))).mappings().first()
        return _erasure(row) if row else None

    async def open_erasures(self, *, limit: int) -> list[ErasureRequest]:
        rows = (await self._conn.execute(
            sa.select(erasure_requests).where(erasure_requests.c.completed_at.is_(None))
            .order_by(erasure_requests.c.requested_at).limit(limit))).mappings()
        return [_erasure(r) for r in rows]

    # --- consent ---------------------------------------------------------------------

    async def consents(self, customer_ids: Sequence[str]) -> list[Consent]:
        if not customer_ids:
            return []
        rows = (await self._conn.execute(
            sa.select(contact_consents).where(contact_consents.c.customer_id.in_(customer_ids))
            .order_by(contact_consents.c.changed_at.desc()))).mappings()
        return [Consent(customer_id=r["customer_id"], channel=ConsentChannel(r["channel"]),
                        granted=r["granted"], changed_at=r["changed_at"],
                        changed_by=r["changed_by"], via=r["via"]) for r in rows]

    async def set_consent(self, consent: Consent) -> None:
        insert = pg_insert if self._conn.dialect.name == "postgresql" else sqlite_insert
        values = {"customer_id": consent.customer_id, "channel": consent.channel.value,
                  "granted": consent.granted, "changed_at": consent.changed_at,
                  "changed_by": consent.changed_by, "via": consent.via}
        statement = insert(contact_consents).values(**values)
        await self._conn.execute(statement.on_conflict_do_update(
            index_elements=[contact_consents.c.customer_id, contact_consents.c.channel],
            set_={k: v for k, v in values.items() if k not in ("customer_id", "channel")}))


def _hold_values(h: LegalHold) -> dict[str, Any]:
    return {"id": h.id, "customer_id": h.customer_id, "case_id": h.case_id,
            "reason": h.reason, "placed_by": h.placed_by, "placed_at": h.placed_at,
            "released_by": h.released_by, "released_at": h.released_at,
            "release_reason": h.release_reason}


def _hold(r: sa.RowMapping) -> LegalHold:
    return LegalHold(id=r["id"], customer_id=r["customer_id"], case_id=r["case_id"],
                     reason=r["reason"], placed_by=r["placed_by"], placed_at=r["placed_at"],
                     released_by=r["released_by"], released_at=r["released_at"],
                     release_reason=r["release_reason"])


def _erasure_values(e: ErasureRequest) -> dict[str, Any]:
    return {"id": e.id, "customer_id": e.customer_id, "customer_ids": list(e.customer_ids),
            "requested_by": e.requested_by, "requested_at": e.requested_at,
            "reason": e.reason, "step": e.step.value, "cursor": e.cursor,
            "match": e.match.to_document(), "counts": dict(e.counts),
            "attempts": e.attempts, "last_error": e.last_error,
            "completed_at": e.completed_at}


def _erasure(r: sa.RowMapping) -> ErasureRequest:
    return ErasureRequest(
        id=r["id"], customer_id=r["customer_id"], customer_ids=list(r["customer_ids"]),
        requested_by=r["requested_by"], requested_at=r["requested_at"], reason=r["reason"],
        step=ErasureStep(r["step"]), cursor=r["cursor"],
        match=ErasureMatch.from_document(r["match"]), counts=dict(r["counts"] or {}),
        attempts=r["attempts"], last_error=r["last_error"], completed_at=r["completed_at"])
