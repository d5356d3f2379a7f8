"""Satisfaction survey results: per customer (agents), over a period (supervisors), and a
customer's opt-out. The survey pages customers answer are in ``surveys.py``."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from aiohttp import web
from pydantic import AwareDatetime, Field, StringConstraints

from core.domain.workforce import Role
from core.services.surveys import CustomerSurveys
from workers.services import Services
from workers.web import serialize
from workers.web.endpoints import Api, Call
from workers.web.keys import SERVICES
from workers.web.schemas import Strict

CUSTOMER_VIEW_RESPONSES = 5


class CustomerSurveysQuery(Strict):
    limit: int = Field(default=20, ge=1, le=100)


class OptOutIn(Strict):
    opted_out: bool = Field(description="true: ask this customer no more surveys; false: "
                                        "ask again (within the frequency cap)")


class SurveyListQuery(Strict):
    from_: AwareDatetime | date | None = Field(
        default=None, alias="from", description="answered at or after (a date: its start, UTC)")
    to: AwareDatetime | date | None = Field(
        default=None, description="answered before (a date: up to the end of that day, UTC)")
    limit: int = Field(default=50, ge=1, le=200)
    cursor: Annotated[str, StringConstraints(max_length=200)] | None = None


def register(api: Api) -> None:
    @api.route("GET", "/api/customers/{id}/surveys",
               summary="A customer's survey answers, summary, opt-out and frequency cap",
               role=Role.AGENT, tag="surveys", query=CustomerSurveysQuery,
               responses={200: "Answers, newest first", 404: "No such customer"})
    async def customer_surveys(call: Call[Any, CustomerSurveysQuery]) -> web.Response:
        found = await call.request.app[SERVICES].surveys.for_customer(
            call.path("id"), limit=call.query.limit)
        return web.json_response(customer_surveys_json(found))

    @api.route("PUT", "/api/customers/{id}/surveys/opt-out",
               summary="Opt a customer out of surveys (or back in)", role=Role.AGENT,
               tag="surveys", body=OptOutIn,
               responses={200: "The customer's survey state", 404: "No such customer"})
    async def opt_out(call: Call[OptOutIn, Any]) -> web.Response:
        assert call.principal is not None
        surveys = call.request.app[SERVICES].surveys
        await surveys.set_opt_out(call.path("id"), opted_out=call.body.opted_out,
                                  via=f"api ({call.principal.name})"[:40], actor=call.actor)
        found = await surveys.for_customer(call.path("id"), limit=CUSTOMER_VIEW_RESPONSES)
        return web.json_response(customer_surveys_json(found))

    @api.route("GET", "/api/surveys",
               summary="Survey answers in a period with CSAT and NPS over all of it",
               role=Role.SUPERVISOR, tag="surveys", query=SurveyListQuery,
               responses={200: "Answers, newest first, and the period's summary",
                          422: "Invalid period or cursor"})
    async def list_surveys(call: Call[Any, SurveyListQuery]) -> web.Response:
        q = call.query
        since, until = period_start(q.from_), period_end(q.to)
        surveys = call.request.app[SERVICES].surveys
        found, cursor = await surveys.between(since=since, until=until, limit=q.limit,
                                              cursor=q.cursor)
        summary = await surveys.summary(since=since, until=until)
        return web.json_response({
            "from": since.isoformat() if since else None,
            "to": until.isoformat() if until else None,
            "summary": serialize.survey_summary(summary),
            "items": [serialize.survey_response(r) for r in found], "next_cursor": cursor})


def customer_surveys_json(found: CustomerSurveys) -> dict[str, Any]:
    return {"customer_id": found.customer_id, "opted_out": found.opted_out,
            "opted_out_via": found.opted_out_via,
            "last_invited_at": found.last_invited_at.isoformat()
            if found.last_invited_at else None,
            "next_allowed_at": found.next_allowed_at.isoformat()
            if found.next_allowed_at else None,
            "summary": serialize.survey_summary(found.summary),
            "items": [serialize.survey_response(r) for r in found.responses]}


async def with_survey_results(services: Services, customer_id: str,
                              view: dict[str, Any]) -> dict[str, Any]:
    """A customer view with its survey results, and each rated contact on its timeline
    with the answer."""
    found = await services.surveys.for_customer(customer_id, limit=CUSTOMER_VIEW_RESPONSES)
    view["surveys"] = customer_surveys_json(found)
    timeline = view.get("timeline")
    if isinstance(timeline, dict):
        await with_contact_surveys(services, timeline.get("items") or [])
    return view


async def with_contact_surveys(services: Services, contacts: list[dict[str, Any]]) -> None:
    """Add ``survey`` (the answer rating the contact, or null) to serialised contacts."""
    rated = await services.surveys.for_contacts([str(c["id"]) for c in contacts])
    for contact in contacts:
        answer = rated.get(str(contact["id"]))
        contact["survey"] = serialize.survey_response(answer) if answer else None


def period_start(value: datetime | date | None) -> datetime | None:
    """A period's first moment: a time as given, a date's start (UTC)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value, time(), tzinfo=UTC)


def period_end(value: datetime | date | None) -> datetime | None:
    """A period's end, excluded: a time as given, or the end of that day (UTC)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value + timedelta(days=1), time(), tzinfo=UTC)
