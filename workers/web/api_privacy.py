"""Privacy operations over HTTP: erasure, legal holds and the customer's contact consent.

Who may do what (docs/security.md, "Privacy operations"): erasing a customer and releasing
a legal hold need an admin (both can end in data destroyed for good, across every team's
records); supervisors place holds and follow erasures; agents record what a customer says
about being called or mailed.
"""

from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web
from pydantic import StringConstraints

from core.domain.audit import Actor
from core.domain.privacy import MAX_REASON, Consent, ConsentChannel, ErasureRequest, LegalHold
from core.domain.workforce import Role
from workers.web.endpoints import Api, Call
from workers.web.errors import REQUEST_ID
from workers.web.keys import SERVICES
from workers.web.schemas import Strict

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3,
                                          max_length=MAX_REASON)]
Via = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]


class EraseIn(Strict):
    reason: Reason  # e.g. "data subject request of 3 March, ticket SW-1234"


class HoldIn(Strict):
    reason: Reason


class ReleaseIn(Strict):
    reason: Reason


class ConsentIn(Strict):
    granted: bool
    via: Via  # how the customer told us: phone, email, letter, in person, …


def actor(call: Call[Any, Any]) -> Actor:
    principal = call.principal
    assert principal is not None
    return Actor(id=principal.id, name=principal.name, role=principal.role.value,
                 request_id=call.request.get(REQUEST_ID))


def register(api: Api) -> None:
    _erasure(api)
    _holds(api)
    _consent(api)


def _erasure(api: Api) -> None:
    @api.route("POST", "/api/customers/{id}/erase",
               summary="Erase a customer's personal data across every channel", role=Role.ADMIN,
               tag="privacy", body=EraseIn,
               responses={200: "Erased (also when it was erased before)",
                          202: "Another process is erasing it; look again",
                          404: "No such customer",
                          409: "A legal hold, open cases, or the customer was merged",
                          422: "No reason given"})
    async def erase(call: Call[EraseIn, Any]) -> web.Response:
        privacy = call.request.app[SERVICES].privacy
        done = await privacy.erasures.erase(call.path("id"), actor=actor(call),
                                            reason=call.body.reason)
        return web.json_response(erasure_view(done), status=200 if done.done else 202)

    @api.route("GET", "/api/customers/{id}/erasure", summary="How a customer's erasure went",
               role=Role.SUPERVISOR, tag="privacy",
               responses={200: "The erasure", 404: "The customer was never erased"})
    async def erasure(call: Call[Any, Any]) -> web.Response:
        found = await call.request.app[SERVICES].privacy.erasures.get(call.path("id"))
        if found is None:
            raise web.HTTPNotFound(text=f"customer {call.path('id')!r} was never erased")
        return web.json_response(erasure_view(found))


def _holds(api: Api) -> None:
    @api.route("POST", "/api/customers/{id}/holds",
               summary="Put a customer under legal hold (nothing of theirs is erased)",
               role=Role.SUPERVISOR, tag="privacy", body=HoldIn,
               responses={201: "The hold", 404: "No such customer",
                          409: "The customer was erased"})
    async def hold_customer(call: Call[HoldIn, Any]) -> web.Response:
        hold = await call.request.app[SERVICES].privacy.holds.place(
            customer_id=call.path("id"), reason=call.body.reason, actor=actor(call))
        return web.json_response(hold_view(hold), status=201)

    @api.route("POST", "/api/cases/{id}/holds",
               summary="Put a case under legal hold (its customer cannot be erased)",
               role=Role.SUPERVISOR, tag="privacy", body=HoldIn,
               responses={201: "The hold", 404: "No such case",
                          409: "The customer was erased"})
    async def hold_case(call: Call[HoldIn, Any]) -> web.Response:
        hold = await call.request.app[SERVICES].privacy.holds.place(
            case_id=call.path("id"), reason=call.body.reason, actor=actor(call))
        return web.json_response(hold_view(hold), status=201)

    @api.route("GET", "/api/customers/{id}/holds",
               summary="Legal holds on a customer and their cases, released ones too",
               role=Role.SUPERVISOR, tag="privacy",
               responses={200: "The holds, oldest first", 404: "No such customer"})
    async def customer_holds(call: Call[Any, Any]) -> web.Response:
        holds = await call.request.app[SERVICES].privacy.holds.for_customer(call.path("id"))
        return web.json_response({"items": [hold_view(h) for h in holds]})

    @api.route("GET", "/api/holds", summary="Every active legal hold, newest first",
               role=Role.SUPERVISOR, tag="privacy", responses={200: "The holds"})
    async def active_holds(call: Call[Any, Any]) -> web.Response:
        holds = await call.request.app[SERVICES].privacy.holds.active(limit=1000)
        return web.json_response({"items": [hold_view(h) for h in holds]})

    @api.route("POST", "/api/holds/{id}/release", summary="Release a legal hold",
               role=Role.ADMIN, tag="privacy", body=ReleaseIn,
               responses={200: "Released", 404: "No such hold", 409: "Released already"})
    async def release(call: Call[ReleaseIn, Any]) -> web.Response:
        hold = await call.request.app[SERVICES].privacy.holds.release(
            call.path("id"), reason=call.body.reason, actor=actor(call))
        return web.json_response(hold_view(hold))


def _consent(api: Api) -> None:
    @api.route("GET", "/api/customers/{id}/consent",
               summary="Whether the customer may be called and mailed by us",
               role=Role.AGENT, tag="privacy",
               responses={200: "Per channel", 404: "No such customer"})
    async def consent(call: Call[Any, Any]) -> web.Response:
        found = await call.request.app[SERVICES].privacy.consents.of(call.path("id"))
        return web.json_response(consent_view(found))

    @api.route("PUT", "/api/customers/{id}/consent/{channel}",
               summary="Record the customer withdrawing (or giving again) consent to be "
               "called or mailed", role=Role.AGENT, tag="privacy", body=ConsentIn,
               responses={200: "Per channel", 404: "No such customer or channel",
                          409: "The customer was merged or erased"})
    async def set_consent(call: Call[ConsentIn, Any]) -> web.Response:
        try:
            channel = ConsentChannel(call.path("channel"))
        except ValueError:
            raise web.HTTPNotFound(text="consent is recorded for phone and email") from None
        consents = call.request.app[SERVICES].privacy.consents
        await consents.set(call.path("id"), channel, granted=call.body.granted,
                           via=call.body.via, actor=actor(call))
        return web.json_response(consent_view(await consents.of(call.path("id"))))


def erasure_view(e: ErasureRequest) -> dict[str, Any]:
    return {"id": e.id, "customer_id": e.customer_id, "customer_ids": e.customer_ids,
            "state": "completed" if e.done else "in_progress", "step": e.step.value,
            "requested_by": e.requested_by, "requested_at": e.requested_at.isoformat(),
            "reason": e.reason, "removed": e.counts, "attempts": e.attempts,
            "last_error": e.last_error,
            "completed_at": e.completed_at.isoformat() if e.completed_at else None}


def hold_view(h: LegalHold) -> dict[str, Any]:
    return {"id": h.id, "customer_id": h.customer_id, "case_id": h.case_id,
            "reason": h.reason, "active": h.active, "placed_by": h.placed_by,
            "placed_at": h.placed_at.isoformat(), "released_by": h.released_by,
            "released_at": h.released_at.isoformat() if h.released_at else None,
            "release_reason": h.release_reason}


def consent_view(consents: list[Consent]) -> dict[str, Any]:
    """Every channel, granted unless recorded otherwise."""
    recorded = {c.channel: c for c in consents}
    view: dict[str, Any] = {}
    for channel in ConsentChannel:
        c = recorded.get(channel)
        view[channel.value] = {"granted": True, "changed_at": None, "changed_by": None,
                               "via": None} if c is None else {
            "granted": c.granted, "changed_at": c.changed_at.isoformat(),
            "changed_by": c.changed_by, "via": c.via}
    return view
