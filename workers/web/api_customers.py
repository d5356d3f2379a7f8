"""The unified customer record: search, view with timeline, duplicates, merge and undo."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from core.domain.workforce import Role
from core.services.profiles import FieldNotAllowed, ProfileChanges
from workers.web import serialize
from workers.web.api_surveys import with_contact_surveys, with_survey_results
from workers.web.endpoints import Api, Call
from workers.web.keys import SERVICES
from workers.web.schemas import CustomerPatch, CustomerSearch, DuringContact, MergeIn, Page


def register(api: Api) -> None:
    @api.route("GET", "/api/customers", summary="Find customers by e-mail, phone or text",
               role=Role.AGENT, tag="customers", query=CustomerSearch,
               responses={200: "Matching customers", 422: "No or invalid search terms"})
    async def search(call: Call[Any, CustomerSearch]) -> web.Response:
        q = call.query
        found = await call.request.app[SERVICES].queries.search(
            email=q.email, phone=q.phone, text=q.q, limit=q.limit)
        return web.json_response({"items": [serialize.customer(c) for c in found]})

    @api.route("GET", "/api/customers/{id}",
               summary="A customer with identifiers, open cases, survey results and the first "
               "timeline page",
               role=Role.AGENT, tag="customers", query=Page,
               responses={200: "The customer", 404: "No such customer"})
    async def get_customer(call: Call[Any, Page]) -> web.Response:
        services = call.request.app[SERVICES]
        view = await services.queries.customer(
            call.path("id"), timeline_limit=call.query.limit, cursor=call.query.cursor)
        return web.json_response(await with_survey_results(
            services, view.customer.id, serialize.customer_view(view)))

    @api.route("PATCH", "/api/customers/{id}",
               summary="Correct or complete a customer's profile", role=Role.AGENT,
               tag="customers", body=CustomerPatch, query=DuringContact,
               responses={200: "The updated customer", 403: "A field needs a higher role",
                          404: "No such customer", 409: "The customer was merged"})
    async def patch_customer(call: Call[CustomerPatch, DuringContact]) -> web.Response:
        assert call.principal is not None
        values = call.body.model_dump(include=call.body.model_fields_set, mode="json")
        try:
            updated = await call.request.app[SERVICES].profiles.update(
                call.path("id"), ProfileChanges(values=values), role=call.principal.role,
                actor=call.actor, via="api", contact_id=call.query.contact)
        except FieldNotAllowed as err:
            raise web.HTTPForbidden(text=str(err)) from err
        return web.json_response(serialize.customer(updated))

    @api.route("GET", "/api/customers/{id}/timeline",
               summary="Every contact across all channels, newest first", role=Role.AGENT,
               tag="customers", query=Page,
               responses={200: "A page of contacts", 404: "No such customer"})
    async def timeline(call: Call[Any, Page]) -> web.Response:
        services = call.request.app[SERVICES]
        page = await services.queries.timeline(
            call.path("id"), limit=call.query.limit, cursor=call.query.cursor)
        items = [serialize.contact(c) for c in page.contacts]
        await with_contact_surveys(services, items)
        return web.json_response({"items": items, "next_cursor": page.next_cursor})

    @api.route("GET", "/api/customers/{id}/duplicates",
               summary="Customers that may be the same person", role=Role.AGENT,
               tag="customers", responses={200: "Possible duplicates", 404: "No such customer"})
    async def duplicates(call: Call[Any, Any]) -> web.Response:
        found = await call.request.app[SERVICES].queries.duplicates(call.path("id"))
        return web.json_response({"items": [serialize.duplicate(d) for d in found]})

    @api.route("POST", "/api/customers/{id}/merge",
               summary="Merge another customer into this one", role=Role.SUPERVISOR,
               tag="customers", body=MergeIn,
               responses={200: "Merged", 404: "No such customer",
                          409: "One of them was merged already"})
    async def merge(call: Call[MergeIn, Any]) -> web.Response:
        assert call.principal is not None
        done = await call.request.app[SERVICES].merges.merge(
            call.path("id"), call.body.other_id, actor=call.actor)
        return web.json_response(_merge(done))

    @api.route("POST", "/api/merges/{id}/undo", summary="Undo a merge", role=Role.SUPERVISOR,
               tag="customers",
               responses={200: "Undone", 404: "No such merge", 409: "Cannot be undone now"})
    async def undo(call: Call[Any, Any]) -> web.Response:
        assert call.principal is not None
        done = await call.request.app[SERVICES].merges.undo(call.path("id"),
                                                            actor=call.actor)
        return web.json_response(_merge(done))


def _merge(m: Any) -> dict[str, Any]:
    return {"id": m.id, "survivor_id": m.survivor_id, "merged_id": m.merged_id,
            "moved": {"identifiers": m.moved_identifier_ids, "contacts": m.moved_contact_ids,
                      "cases": m.moved_case_ids},
            "merged_by": m.merged_by, "merged_at": m.merged_at.isoformat(),
            "undone_at": m.undone_at.isoformat() if m.undone_at else None,
            "undone_by": m.undone_by}
