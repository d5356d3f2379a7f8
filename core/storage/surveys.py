"""Satisfaction surveys in SQL: invitations, responses, and per customer the frequency cap
and opt-out (``survey_subjects``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.channels import Channel
from core.domain.surveys import (
    Invitation,
    SurveyKind,
    SurveyResponse,
    SurveySubject,
    SurveySummary,
)
from core.storage import cursors
from core.storage.tables import survey_invitations as invitations
from core.storage.tables import survey_responses as responses
from core.storage.tables import survey_subjects as subjects


class SqlSurveys:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    # --- invitations ---------------------------------------------------------------

    async def add_invitation(self, invitation: Invitation) -> None:
        await self._conn.execute(invitations.insert().values(
            id=invitation.id, token_hash=invitation.token_hash,
            customer_id=invitation.customer_id, case_id=invitation.case_id,
            contact_id=invitation.contact_id, channel=invitation.channel.value,
            kind=invitation.kind.value, language=invitation.language,
            reference=invitation.reference, created_at=invitation.created_at,
            expires_at=invitation.expires_at, answered_at=invitation.answered_at))

    async def get_invitation(self, invitation_id: str) -> Invitation | None:
        return await self._one(invitations.c.id == invitation_id)

    async def invitation_by_token(self, token_hash: str) -> Invitation | None:
        return await self._one(invitations.c.token_hash == token_hash)

    async def invitation_for_case(self, case_id: str) -> Invitation | None:
        return await self._one(invitations.c.case_id == case_id)

    async def open_invitation(self, channel: str, reference: str, *,
                              now: datetime) -> Invitation | None:
        return await self._one(invitations.c.channel == channel,
                               invitations.c.reference == reference,
                               invitations.c.answered_at.is_(None),
                               invitations.c.expires_at > now)

    async def _one(self, *where: sa.ColumnElement[bool]) -> Invitation | None:
        row = (await self._conn.execute(
            sa.select(invitations).where(*where)
            .order_by(invitations.c.created_at.desc(), invitations.c.id.desc()).limit(1)
        )).mappings().first()
        return _invitation(row) if row else None

    async def mark_answered(self, invitation_id: str, at: datetime) -> bool:
        result = await self._conn.execute(
            invitations.update().where(invitations.c.id == invitation_id,
                                       invitations.c.answered_at.is_(None))
            .values(answered_at=at))
        return bool(result.rowcount)

    # --- the cap and the opt-out ---------------------------------------------------

    async def subject(self, customer_id: str) -> SurveySubject | None:
        row = (await self._conn.execute(
            sa.select(subjects).where(subjects.c.customer_id == customer_id)
        )).mappings().first()
        if row is None:
            return None
        return SurveySubject(customer_id=row["customer_id"],
                             last_invited_at=row["last_invited_at"],
                             opted_out_at=row["opted_out_at"],
                             opted_out_via=row["opted_out_via"])

    async def claim(self, customer_id: str, *, now: datetime, not_after: datetime) -> bool:
        await self._ensure_subject(customer_id)
        # One conditional UPDATE: on PostgreSQL a concurrent claim waits for this row and
        # then re-reads it, sees the new last_invited_at and updates nothing.
        result = await self._conn.execute(
            subjects.update().where(
                subjects.c.customer_id == customer_id,
                subjects.c.opted_out_at.is_(None),
                sa.or_(subjects.c.last_invited_at.is_(None),
                       subjects.c.last_invited_at <= not_after))
            .values(last_invited_at=now))
        return bool(result.rowcount)

    async def set_opt_out(self, customer_id: str, *, at: datetime | None,
                          via: str | None) -> None:
        await self._ensure_subject(customer_id)
        await self._conn.execute(subjects.update().where(
            subjects.c.customer_id == customer_id).values(opted_out_at=at, opted_out_via=via))

    async def _ensure_subject(self, customer_id: str) -> None:
        insert = pg_insert if self._conn.dialect.name == "postgresql" else sqlite_insert
        await self._conn.execute(insert(subjects).values(customer_id=customer_id)
                                 .on_conflict_do_nothing())

    # --- responses -----------------------------------------------------------------

    async def add_response(self, response: SurveyResponse) -> None:
        await self._conn.execute(responses.insert().values(
            id=response.id, invitation_id=response.invitation_id,
            customer_id=response.customer_id, case_id=response.case_id,
            contact_id=response.contact_id, channel=response.channel.value,
            kind=response.kind.value, score=response.score, nps=response.nps,
            comment=response.comment, language=response.language,
            answered_at=response.answered_at))

    async def response_for(self, invitation_id: str) -> SurveyResponse | None:
        row = (await self._conn.execute(
            sa.select(responses).where(responses.c.invitation_id == invitation_id)
        )).mappings().first()
        return _response(row) if row else None

    async def responses_for_customer(self, customer_id: str, *,
                                     limit: int) -> list[SurveyResponse]:
        rows = (await self._conn.execute(
            sa.select(responses).where(responses.c.customer_id == customer_id)
            .order_by(responses.c.answered_at.desc(), responses.c.id.desc()).limit(limit)
        )).mappings().all()
        return [_response(r) for r in rows]

    async def responses_for_contacts(self, contact_ids: Sequence[str]
                                     ) -> list[SurveyResponse]:
        if not contact_ids:
            return []
        rows = (await self._conn.execute(
            sa.select(responses).where(responses.c.contact_id.in_(list(contact_ids)))
        )).mappings().all()
        return [_response(r) for r in rows]

    async def responses_between(self, *, since: datetime | None, until: datetime | None,
                                limit: int, cursor: str | None,
                                ) -> tuple[list[SurveyResponse], str | None]:
        query = sa.select(responses)
        if since is not None:
            query = query.where(responses.c.answered_at >= since)
        if until is not None:
            query = query.where(responses.c.answered_at < until)
        if cursor:
            at, last_id = cursors.decode(cursor)
            query = query.where(sa.tuple_(responses.c.answered_at, responses.c.id)
                                < sa.tuple_(sa.literal(at, responses.c.answered_at.type),
                                            sa.literal(last_id)))
        rows = (await self._conn.execute(
            query.order_by(responses.c.answered_at.desc(), responses.c.id.desc())
            .limit(limit + 1))).mappings().all()
        page = [_response(r) for r in rows[:limit]]
        more = len(rows) > limit
        return page, cursors.encode(page[-1].answered_at, page[-1].id) if more else None

    async def summary_between(self, *, since: datetime | None,
                              until: datetime | None) -> SurveySummary:
        c = responses.c
        query = sa.select(
            sa.func.count(), sa.func.count(c.score), sa.func.avg(c.score),
            sa.func.sum(sa.case((c.score >= 4, 1), else_=0)), sa.func.count(c.nps),
            sa.func.sum(sa.case((c.nps >= 9, 1), else_=0)),
            sa.func.sum(sa.case((c.nps <= 6, 1), else_=0)))
        if since is not None:
            query = query.where(c.answered_at >= since)
        if until is not None:
            query = query.where(c.answered_at < until)
        total, scores, average, satisfied, npss, promoters, detractors = (
            await self._conn.execute(query)).one()
        return SurveySummary(
            responses=int(total), csat_count=int(scores),
            csat_average=round(float(average), 2) if scores else None,
            csat_satisfied_pct=round(100 * int(satisfied or 0) / scores, 1) if scores else None,
            nps_count=int(npss),
            nps=round(100 * (int(promoters or 0) - int(detractors or 0)) / npss, 1)
            if npss else None)


def _invitation(r: sa.RowMapping) -> Invitation:
    return Invitation(
        id=r["id"], token_hash=r["token_hash"], customer_id=r["customer_id"],
        case_id=r["case_id"], contact_id=r["contact_id"], channel=Channel(r["channel"]),
        kind=SurveyKind(r["kind"]), language=r["language"], reference=r["reference"],
        created_at=r["created_at"], expires_at=r["expires_at"], answered_at=r["answered_at"])


def _response(r: sa.RowMapping) -> SurveyResponse:
    return SurveyResponse(
        id=r["id"], invitation_id=r["invitation_id"], customer_id=r["customer_id"],
        case_id=r["case_id"], contact_id=r["contact_id"], channel=Channel(r["channel"]),
        kind=SurveyKind(r["kind"]), score=r["score"], nps=r["nps"], comment=r["comment"],
        language=r["language"], answered_at=r["answered_at"])
