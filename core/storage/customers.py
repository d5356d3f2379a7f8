"""Customers and their identifiers in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.channels import Channel
from core.domain.customer import (
    Customer,
    CustomerKind,
    CustomerStatus,
    Entitlement,
    Household,
    Identifier,
    IdentifierKind,
    Organisation,
)
from core.storage.tables import customers, entitlements, identifiers

Key = tuple[IdentifierKind, str]


class SqlCustomers:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, customer_id: str) -> Customer | None:
        row = (await self._conn.execute(
            sa.select(customers).where(customers.c.id == customer_id))).mappings().first()
        if row is None:
            return None
        loaded = await self._load([row])
        return loaded[0]

    async def merged_into(self, customer_ids: Sequence[str]) -> list[str]:
        rows = await self._conn.execute(sa.select(customers.c.id).where(
            customers.c.merged_into.in_(customer_ids)).order_by(customers.c.id))
        return [str(r) for r in rows.scalars()]

    async def add(self, customer: Customer) -> None:
        await self._conn.execute(customers.insert().values(**_customer_row(customer)))
        if customer.identifiers:
            await self.add_identifiers(customer.id, customer.identifiers)
        if customer.entitlements:
            await self._conn.execute(entitlements.insert(), [
                {"id": e.id, "customer_id": customer.id, "kind": e.kind, "name": e.name,
                 "reference": e.reference, "valid_from": e.valid_from,
                 "valid_until": e.valid_until}
                for e in customer.entitlements
            ])

    async def update_profile(self, customer: Customer) -> None:
        row = _customer_row(customer)
        del row["id"], row["created_at"]
        await self._conn.execute(
            customers.update().where(customers.c.id == customer.id).values(**row))

    async def add_identifiers(self, customer_id: str, new: Sequence[Identifier]) -> None:
        if not new:
            return
        await self._conn.execute(identifiers.insert(), [
            {"id": i.id, "customer_id": customer_id, "kind": i.kind.value, "value": i.value,
             "normalized": i.normalized, "skeleton": i.skeleton, "verified": i.verified,
             "claimed": i.claimed, "source": i.source.value if i.source else None,
             "first_seen_at": i.first_seen_at, "last_seen_at": i.last_seen_at}
            for i in new
        ])

    async def touch_identifiers(self, identifier_ids: Sequence[str], seen_at: datetime) -> None:
        if identifier_ids:
            await self._conn.execute(
                identifiers.update().where(identifiers.c.id.in_(identifier_ids))
                .values(last_seen_at=seen_at))

    async def lock_keys(self, keys: Sequence[Key]) -> None:
        # SQLite: the write transaction (BEGIN IMMEDIATE) already serialises writers.
        # PostgreSQL: transaction-scoped advisory locks, taken in a fixed order (no deadlock).
        if self._conn.dialect.name != "postgresql" or not keys:
            return
        for kind, norm in sorted({(k.value, n) for k, n in keys}):
            await self._conn.execute(
                sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(
                    f"{kind}:{norm}", 0))))

    async def holders(self, keys: Sequence[Key]) -> dict[Key, list[str]]:
        if not keys:
            return {}
        wanted = sa.tuple_(identifiers.c.kind, identifiers.c.normalized).in_(
            [(kind.value, norm) for kind, norm in keys])
        rows = await self._conn.execute(
            sa.select(identifiers.c.kind, identifiers.c.normalized, identifiers.c.customer_id)
            .join(customers, customers.c.id == identifiers.c.customer_id)
            .where(wanted, identifiers.c.claimed.is_(False),
                   customers.c.status == CustomerStatus.ACTIVE.value)
            .order_by(identifiers.c.customer_id))
        found: dict[Key, list[str]] = {}
        for kind, norm, customer_id in rows:
            found.setdefault((IdentifierKind(kind), norm), []).append(customer_id)
        return found

    async def holders_by_skeleton(self, skeletons: Sequence[str]) -> dict[str, list[str]]:
        if not skeletons:
            return {}
        found: dict[str, list[str]] = {}
        for column in (identifiers.c.normalized, identifiers.c.skeleton):
            rows = await self._conn.execute(
                sa.select(column, identifiers.c.customer_id).distinct()
                .join(customers, customers.c.id == identifiers.c.customer_id)
                .where(column.in_(skeletons), identifiers.c.kind == IdentifierKind.EMAIL.value,
                       customers.c.status == CustomerStatus.ACTIVE.value))
            for skeleton, customer_id in rows:
                holders = found.setdefault(skeleton, [])
                if customer_id not in holders:
                    holders.append(customer_id)
        return found

    async def search(
        self, *, email: str | None, phone: str | None, text: str | None, limit: int
    ) -> list[Customer]:
        query = sa.select(customers).where(customers.c.status == CustomerStatus.ACTIVE.value)
        for kind, key in ((IdentifierKind.EMAIL, email), (IdentifierKind.PHONE, phone)):
            if key is not None:
                query = query.where(customers.c.id.in_(
                    sa.select(identifiers.c.customer_id).where(
                        identifiers.c.kind == kind.value, identifiers.c.normalized == key)))
        if text:
            pattern = "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%")\
                .replace("_", "\\_") + "%"
            query = query.where(sa.or_(
                sa.func.lower(customers.c.display_name).like(pattern, escape="\\"),
                customers.c.id.in_(sa.select(identifiers.c.customer_id).where(
                    sa.func.lower(identifiers.c.value).like(pattern, escape="\\"))),
            ))
        rows = (await self._conn.execute(
            query.order_by(customers.c.updated_at.desc(), customers.c.id).limit(limit)
        )).mappings().all()
        return await self._load(rows)

    async def move_identifiers(self, identifier_ids: Sequence[str], to_customer_id: str) -> None:
        if identifier_ids:
            await self._conn.execute(
                identifiers.update().where(identifiers.c.id.in_(identifier_ids))
                .values(customer_id=to_customer_id))

    async def set_status(self, customer_id: str, *, merged_into: str | None,
                         at: datetime) -> None:
        status = CustomerStatus.MERGED if merged_into else CustomerStatus.ACTIVE
        await self._conn.execute(
            customers.update().where(customers.c.id == customer_id)
            .values(status=status.value, merged_into=merged_into, updated_at=at))

    async def _load(self, rows: Sequence[sa.RowMapping]) -> list[Customer]:
        if not rows:
            return []
        ids = [row["id"] for row in rows]
        by_customer: dict[str, list[Identifier]] = {i: [] for i in ids}
        ident_rows = await self._conn.execute(
            sa.select(identifiers).where(identifiers.c.customer_id.in_(ids))
            .order_by(identifiers.c.first_seen_at, identifiers.c.id))
        for r in ident_rows.mappings():
            by_customer[r["customer_id"]].append(_identifier(r))
        ent_by_customer: dict[str, list[Entitlement]] = {i: [] for i in ids}
        ent_rows = await self._conn.execute(
            sa.select(entitlements).where(entitlements.c.customer_id.in_(ids)))
        for r in ent_rows.mappings():
            ent_by_customer[r["customer_id"]].append(Entitlement(
                id=r["id"], kind=r["kind"], name=r["name"], reference=r["reference"],
                valid_from=r["valid_from"], valid_until=r["valid_until"]))
        return [_customer(row, by_customer[row["id"]], ent_by_customer[row["id"]])
                for row in rows]


def _customer_row(c: Customer) -> dict[str, Any]:
    return {
        "id": c.id, "display_name": c.display_name, "kind": c.kind.value,
        "organisation": _as_dict(c.organisation), "household": _as_dict(c.household),
        "segment": c.segment, "value": c.value, "language": c.language,
        "preferred_channel": c.preferred_channel.value if c.preferred_channel else None,
        "status": c.status.value, "merged_into": c.merged_into,
        "created_at": c.created_at, "updated_at": c.updated_at,
    }


def _as_dict(value: Organisation | Household | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {name: getattr(value, name) for name in value.__slots__}


def _customer(row: sa.RowMapping, idents: list[Identifier],
              ents: list[Entitlement]) -> Customer:
    org, household = row["organisation"], row["household"]
    return Customer(
        id=row["id"], display_name=row["display_name"], kind=CustomerKind(row["kind"]),
        organisation=Organisation(**org) if org else None,
        household=Household(**household) if household else None,
        segment=row["segment"], value=row["value"], language=row["language"],
        preferred_channel=Channel(row["preferred_channel"]) if row["preferred_channel"] else None,
        status=CustomerStatus(row["status"]), merged_into=row["merged_into"],
        identifiers=idents, entitlements=ents,
        created_at=row["created_at"], updated_at=row["updated_at"],
    )


def _identifier(r: sa.RowMapping) -> Identifier:
    return Identifier(
        id=r["id"], kind=IdentifierKind(r["kind"]), value=r["value"],
        normalized=r["normalized"], skeleton=r["skeleton"], verified=r["verified"],
        claimed=r["claimed"], source=Channel(r["source"]) if r["source"] else None,
        first_seen_at=r["first_seen_at"], last_seen_at=r["last_seen_at"],
    )
