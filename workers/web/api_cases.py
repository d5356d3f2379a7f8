"""Cases: view with their contacts, list by status/queue, and update."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from core.domain.commands import UpdateCase
from core.domain.errors import InvalidInput
from core.domain.workforce import Role
from workers.web import serialize
from workers.web.api_wrap_up import work_json
from workers.web.endpoints import Api, Call
from workers.web.keys import SERVICES
from workers.web.schemas import PRIORITIES, CaseListQuery, CasePatch


def register(api: Api) -> None:
    @api.route("GET", "/api/cases/{id}", summary="A case with its contacts", role=Role.AGENT,
               tag="cases", responses={200: "The case", 404: "No such case"})
    async def get_case(call: Call[Any, Any]) -> web.Response:
        view = await call.request.app[SERVICES].queries.case(call.path("id"), contact_limit=100)
        return web.json_response({**serialize.case(view.case),
                                  "contacts": [serialize.contact(c) for c in view.contacts],
                                  # What routing holds for it now: waiting, offered, held (in
                                  # after-contact work?), or a callback planned for later.
                                  "work": work_json(view.work) if view.work else None})

    @api.route("GET", "/api/cases", summary="Cases, newest first, filtered", role=Role.AGENT,
               tag="cases", query=CaseListQuery, responses={200: "A page of cases"})
    async def list_cases(call: Call[Any, CaseListQuery]) -> web.Response:
        q = call.query
        if q.held_by is not None:
            return await _held(call)
        if q.reference is not None:
            exact = await call.request.app[SERVICES].queries.case_by_reference(q.reference)
            return web.json_response({"items": [serialize.case(exact)] if exact else [],
                                      "next_cursor": None})
        found, cursor = await call.request.app[SERVICES].queries.cases(
            status=q.status, queue_id=q.queue, customer_id=q.customer, limit=q.limit,
            cursor=q.cursor, case_type=q.type)
        return web.json_response({"items": [serialize.case(c) for c in found],
                                  "next_cursor": cursor})

    @api.route("PATCH", "/api/cases/{id}",
               summary="Change status, priority, owner, type, queue or tags", role=Role.AGENT,
               tag="cases", body=CasePatch,
               responses={200: "The updated case", 404: "No such case",
                          409: "The status change is not allowed", 422: "Invalid input"})
    async def patch_case(call: Call[CasePatch, Any]) -> web.Response:
        b = call.body
        updated = await call.request.app[SERVICES].case_updates.update(UpdateCase(
            case_id=call.path("id"), status=b.status.value if b.status else None,
            priority=PRIORITIES[b.priority] if b.priority else None,
            owner_agent_id=b.owner, clear_owner="owner" in b.model_fields_set and b.owner is None,
            case_type=b.type, queue_id=b.queue,
            tags=tuple(b.tags) if b.tags is not None else None))
        return web.json_response(serialize.case(updated))


async def _held(call: Call[Any, CaseListQuery]) -> web.Response:
    assert call.principal is not None
    agent_id = call.principal.agent_id if call.query.held_by == "me" else call.query.held_by
    if agent_id is None:
        raise InvalidInput({"held_by": "`me` needs an agent's login or token"})
    held = await call.request.app[SERVICES].queries.held(agent_id)
    return web.json_response({"items": [
        {**serialize.case(h.case), "work": work_json(h.item)} for h in held],
        "next_cursor": None})
