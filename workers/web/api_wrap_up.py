"""Wrap-up over HTTP: the disposition codes an agent may use, starting after-contact work
and wrapping up — the same as the desktop socket's ``start_wrap_up`` and ``wrap_up``, for
desktops and telephony integrations that speak REST (docs/agent-protocol.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from aiohttp import web
from pydantic import AwareDatetime, StringConstraints

from core.domain.errors import InvalidInput
from core.domain.work import WorkItem, WrapUpOutcome
from core.domain.workforce import Role
from core.ports import Principal
from routing.dispositions import dispositions
from workers.web.endpoints import Api, Call
from workers.web.keys import SERVICES
from workers.web.schemas import Short, Strict


class DispositionQuery(Strict):
    queue: Short | None = None


class WrapUpIn(Strict):
    disposition: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    outcome: Annotated[str, StringConstraints(max_length=20)] = WrapUpOutcome.RESOLVED.value
    callback_at: AwareDatetime | None = None


def work_json(item: WorkItem) -> dict[str, Any]:
    """A work item as the desk and the API show it: what it is, where it stands, how it
    ended."""
    at = _at
    return {
        "id": item.id, "kind": item.kind.value, "status": item.status.value,
        "channel": item.channel.value, "queue": item.queue_id,
        "contact_id": item.contact_id, "agent_id": item.assigned_agent_id,
        # A planned callback waits from this moment.
        "waiting_since": at(item.enqueued_at), "accepted_at": at(item.accepted_at),
        "after_contact_work": item.in_after_contact_work,
        "conversation_ended_at": at(item.conversation_ended_at),
        "wrap_up_due_at": at(item.wrap_up_due_at), "completed_at": at(item.completed_at),
        "disposition": item.disposition,
        "outcome": item.outcome.value if item.outcome else None,
        "callback_at": at(item.callback_at),
    }


def _at(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _agent(principal: Principal | None) -> str:
    if principal is None or principal.agent_id is None:
        raise InvalidInput({"agent": "wrap-up is done by the agent holding the work: use an "
                                     "agent's login or token"})
    return principal.agent_id


def register(api: Api) -> None:
    @api.route("GET", "/api/dispositions",
               summary="The disposition codes and outcomes an agent may record at wrap-up",
               role=Role.AGENT, tag="desk", query=DispositionQuery,
               responses={200: "Codes with their Dutch and English labels"})
    async def list_dispositions(call: Call[Any, DispositionQuery]) -> web.Response:
        async with call.request.app[SERVICES].read_uow() as uow:
            found = await dispositions(uow)
        listed = found.for_queue(call.query.queue) if call.query.queue else list(found.items)
        return web.json_response({"items": [d.to_document() for d in listed],
                                  "outcomes": [o.value for o in WrapUpOutcome]})

    @api.route("POST", "/api/cases/{id}/after-contact-work",
               summary="Start after-contact work on the case you hold", role=Role.AGENT,
               tag="desk", responses={200: "The work, in after-contact work",
                                      404: "You hold no work on this case"})
    async def start(call: Call[Any, Any]) -> web.Response:
        item = await call.request.app[SERVICES].desk.wrap_ups.start(
            _agent(call.principal), call.path("id"))
        return web.json_response(work_json(item))

    @api.route("POST", "/api/cases/{id}/wrap-up",
               summary="Wrap up the case you hold: disposition, outcome, callback time",
               role=Role.AGENT, tag="desk", body=WrapUpIn,
               responses={200: "The completed work", 404: "You hold no work on this case",
                          409: "Wrapped up meanwhile",
                          422: "Unknown disposition (the allowed codes are listed), outcome "
                               "or callback time"})
    async def wrap_up(call: Call[WrapUpIn, Any]) -> web.Response:
        b = call.body
        item = await call.request.app[SERVICES].desk.wrap_up(
            _agent(call.principal), call.path("id"), disposition=b.disposition,
            outcome=b.outcome, callback_at=b.callback_at)
        return web.json_response(work_json(item))
