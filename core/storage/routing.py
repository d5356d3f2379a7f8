"""Routing configuration (documents, rule set versions, activations) and decisions in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.errors import Conflict
from core.domain.routing import (
    Activation,
    ActivationKind,
    ConfigDocument,
    RoutingDecision,
    RuleSetVersion,
)
from core.storage.tables import (
    config_documents,
    routing_decisions,
    rule_set_activations,
    rule_set_versions,
)


class SqlRoutingRecords:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get_document(self, key: str) -> ConfigDocument | None:
        r = (await self._conn.execute(sa.select(config_documents).where(
            config_documents.c.key == key))).mappings().first()
        if r is None:
            return None
        return ConfigDocument(key=r["key"], document=r["document"], revision=r["revision"],
                              updated_by=r["updated_by"], updated_at=r["updated_at"])

    async def get_documents(self, keys: Sequence[str]) -> dict[str, ConfigDocument]:
        rows = (await self._conn.execute(sa.select(config_documents).where(
            config_documents.c.key.in_(list(keys))))).mappings().all()
        return {r["key"]: ConfigDocument(key=r["key"], document=r["document"],
                                         revision=r["revision"], updated_by=r["updated_by"],
                                         updated_at=r["updated_at"]) for r in rows}

    async def put_document(self, key: str, document: object, *, expected_revision: int | None,
                           by: str, at: datetime) -> ConfigDocument:
        current = await self.get_document(key)
        if expected_revision is not None and (current.revision if current else 0) \
                != expected_revision:
            raise Conflict(f"{key} was changed by someone else (now at revision "
                           f"{current.revision if current else 0}); reload and retry")
        if current is None:
            await self._conn.execute(config_documents.insert().values(
                key=key, document=document, revision=1, updated_by=by, updated_at=at))
            revision = 1
        else:
            revision = current.revision + 1
            updated = await self._conn.execute(config_documents.update().where(
                config_documents.c.key == key,
                config_documents.c.revision == current.revision,
            ).values(document=document, revision=revision, updated_by=by, updated_at=at))
            if updated.rowcount != 1:
                raise Conflict(f"{key} was changed concurrently; reload and retry")
        return ConfigDocument(key=key, document=document, revision=revision, updated_by=by,
                              updated_at=at)

    async def add_version(self, *, document: dict[str, object], author: str, comment: str,
                          at: datetime) -> RuleSetVersion:
        latest = await self._conn.scalar(sa.select(sa.func.max(rule_set_versions.c.number)))
        number = int(latest or 0) + 1
        # The primary key makes a concurrent save of the same number fail rather than
        # silently overwrite; the caller sees a Conflict and retries.
        try:
            await self._conn.execute(rule_set_versions.insert().values(
                number=number, document=document, author=author, comment=comment,
                created_at=at))
        except sa.exc.IntegrityError as err:
            raise Conflict("another version was saved at the same moment; retry") from err
        return RuleSetVersion(number=number, document=document, author=author, comment=comment,
                              created_at=at)

    async def get_version(self, number: int) -> RuleSetVersion | None:
        r = (await self._conn.execute(sa.select(rule_set_versions).where(
            rule_set_versions.c.number == number))).mappings().first()
        return _version(r) if r else None

    async def latest_version(self) -> RuleSetVersion | None:
        r = (await self._conn.execute(sa.select(rule_set_versions).order_by(
            rule_set_versions.c.number.desc()).limit(1))).mappings().first()
        return _version(r) if r else None

    async def versions(self, *, limit: int) -> list[RuleSetVersion]:
        rows = (await self._conn.execute(sa.select(rule_set_versions).order_by(
            rule_set_versions.c.number.desc()).limit(limit))).mappings()
        return [_version(r) for r in rows]

    async def add_activation(self, activation: Activation) -> None:
        await self._conn.execute(rule_set_activations.insert().values(
            id=activation.id, version=activation.version, action=activation.action.value,
            by=activation.by, comment=activation.comment, at=activation.at))

    async def activations(self, *, limit: int) -> list[Activation]:
        rows = (await self._conn.execute(sa.select(rule_set_activations).order_by(
            rule_set_activations.c.at.desc(), rule_set_activations.c.id.desc(),
        ).limit(limit))).mappings()
        return [Activation(id=r["id"], version=r["version"], action=ActivationKind(r["action"]),
                           by=r["by"], comment=r["comment"], at=r["at"]) for r in rows]

    async def add_decision(self, decision: RoutingDecision) -> None:
        await self._conn.execute(routing_decisions.insert().values(
            id=decision.id, case_id=decision.case_id, contact_id=decision.contact_id,
            work_item_id=decision.work_item_id, rule_set_version=decision.rule_set_version,
            facts=decision.facts, classification=decision.classification,
            outcome=decision.outcome, decided_at=decision.decided_at))

    async def decisions_for_case(self, case_id: str) -> list[RoutingDecision]:
        rows = (await self._conn.execute(sa.select(routing_decisions).where(
            routing_decisions.c.case_id == case_id).order_by(
            routing_decisions.c.decided_at, routing_decisions.c.id))).mappings()
        return [_decision(r) for r in rows]

    async def recent_decisions(self, *, limit: int) -> list[RoutingDecision]:
        rows = (await self._conn.execute(sa.select(routing_decisions).order_by(
            routing_decisions.c.decided_at.desc(), routing_decisions.c.id.desc(),
        ).limit(limit))).mappings()
        return [_decision(r) for r in rows]


def _version(r: sa.RowMapping) -> RuleSetVersion:
    return RuleSetVersion(number=r["number"], document=r["document"], author=r["author"],
                          comment=r["comment"], created_at=r["created_at"])


def _decision(r: sa.RowMapping) -> RoutingDecision:
    return RoutingDecision(
        id=r["id"], case_id=r["case_id"], contact_id=r["contact_id"],
        work_item_id=r["work_item_id"], rule_set_version=r["rule_set_version"],
        facts=r["facts"], classification=r["classification"], outcome=r["outcome"],
        decided_at=r["decided_at"])
