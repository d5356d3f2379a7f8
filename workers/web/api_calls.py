"""Calls from the desk: click-to-call (the agent's own phone rings first), a call's facts,
and hanging up (the agent who holds the call, or a supervisor)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from channels.voice.control import NotYourCall
from core.domain.errors import InvalidInput, NotFound
from core.domain.workforce import Role
from workers.web.endpoints import Api, Call
from workers.web.keys import SERVICES
from workers.web.schemas import CallIn


def register(api: Api) -> None:
    @api.route("POST", "/api/calls", summary="Call a customer (click-to-call)",
               role=Role.AGENT, tag="voice", body=CallIn,
               responses={202: "Ringing the agent", 409: "Calling is not configured, "
                          "Twilio refused, or the customer withdrew consent to be called "
                          "(allowed only about an open case of theirs)",
                          422: "No number to call"})
    async def place_call(call: Call[CallIn, Any]) -> web.Response:
        assert call.principal is not None
        agent_id = call.body.agent_id or call.principal.agent_id
        if agent_id is None:
            raise InvalidInput({"agent_id": "whose phone should ring? (an agent token, or "
                                            "agent_id)"})
        if agent_id != call.principal.agent_id and not call.principal.role.at_least(
                Role.SUPERVISOR):
            raise web.HTTPForbidden(text="agents place calls from their own phone")
        placed = await call.request.app[SERVICES].calls.place(
            agent_id=agent_id, number=call.body.number, customer_id=call.body.customer_id)
        return web.json_response({"call_sid": placed.call_sid, "contact_id": placed.contact_id,
                                  "to": placed.to}, status=202)

    @api.route("GET", "/api/calls/{sid}", summary="A phone call: caller, menu path, times",
               role=Role.AGENT, tag="voice", responses={200: "The call", 404: "No such call"})
    async def get_call(call: Call[Any, Any]) -> web.Response:
        async with call.request.app[SERVICES].read_uow() as uow:
            found = await uow.calls.get(call.path("sid"))
        if found is None:
            raise NotFound("call", call.path("sid"))
        return web.json_response({
            "sid": found.sid, "direction": found.direction, "from": found.from_number,
            "to": found.to_number, "status": found.status.value, "language": found.language,
            "customer_id": found.customer_id, "contact_id": found.contact_id,
            "case_id": found.case_id, "path": found.path,
            "outcome": found.outcome.value if found.outcome else None,
            "started_at": found.started_at.isoformat(),
            "enqueued_at": found.enqueued_at.isoformat() if found.enqueued_at else None,
            "answered_at": found.answered_at.isoformat() if found.answered_at else None,
            "ended_at": found.ended_at.isoformat() if found.ended_at else None,
            "duration_s": found.duration_s})

    @api.route("POST", "/api/calls/{sid}/hangup",
               summary="End a live call (the agent who holds it, or a supervisor)",
               role=Role.AGENT, tag="voice",
               responses={202: "Twilio was told to end the call", 403: "Another agent holds it",
                          404: "No such call",
                          409: "The call ended already, calling is not configured, or "
                               "Twilio refused"})
    async def hang_up(call: Call[Any, Any]) -> web.Response:
        assert call.principal is not None
        try:
            ended = await call.request.app[SERVICES].call_control.hang_up(
                call.path("sid"), agent_id=call.principal.agent_id,
                any_call=call.principal.role.at_least(Role.SUPERVISOR))
        except NotYourCall as err:
            raise web.HTTPForbidden(text=str(err)) from err
        # Twilio's status callback records the end, as for any other hang-up.
        return web.json_response({"sid": ended.sid, "status": "ending"}, status=202)
