"""Teams and queues: what agents belong to and what routing rules send work to.

A queue is removed by archiving it (``DELETE /api/queues/{id}``): refused with 409 while
work waits in it or is held from it, or the published rules, the phone menu, a web form or
the desk's documents name it; otherwise it disappears from every list and choice, and its
agents stop serving it, while past contacts and reports keep its name."""

from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web
from pydantic import Field, StringConstraints

from core.domain.workforce import Queue, Role, Team
from core.services.agents import KEEP, QueueChanges
from workers.web.endpoints import Api, Call
from workers.web.keys import SERVICES
from workers.web.schemas import QueueIn, QueuePatch, Strict, TeamIn


class QueuesQuery(Strict):
    archived: bool = Field(default=False, description="include removed (archived) queues")


class TeamPatch(Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                           max_length=200)]


def register(api: Api) -> None:
    @api.route("GET", "/api/queues", summary="Teams and queues", role=Role.AGENT,
               tag="agents", query=QueuesQuery)
    async def list_queues(call: Call[Any, QueuesQuery]) -> web.Response:
        teams, queues = await call.request.app[SERVICES].agents.teams_and_queues(
            archived=call.query.archived)
        return web.json_response({
            "teams": [{"id": t.id, "name": t.name} for t in teams],
            "queues": [_queue(q) for q in queues]})

    @api.route("POST", "/api/queues", summary="Create a queue", role=Role.SUPERVISOR,
               tag="agents", body=QueueIn,
               responses={201: "The new queue", 409: "The id is taken",
                          422: "Invalid input or unknown team"})
    async def create_queue(call: Call[QueueIn, Any]) -> web.Response:
        b = call.body
        queue = await call.request.app[SERVICES].agents.create_queue(
            Queue(id=b.id, name=b.name, team_id=b.team, description=b.description),
            actor=call.actor)
        call.request.app[SERVICES].wakeups.dispatch.set()
        return web.json_response(_queue(queue), status=201)

    @api.route("PATCH", "/api/queues/{id}",
               summary="Rename a queue, move it to another team or change its description",
               role=Role.SUPERVISOR, tag="agents", body=QueuePatch,
               responses={200: "The queue", 404: "No such queue",
                          422: "Invalid input or unknown team"})
    async def patch_queue(call: Call[QueuePatch, Any]) -> web.Response:
        b = call.body
        given = b.model_fields_set
        queue = await call.request.app[SERVICES].agents.update_queue(
            call.path("id"), QueueChanges(
                name=b.name, team_id=b.team if "team" in given else KEEP,
                description=b.description if "description" in given else KEEP),
            actor=call.actor)
        return web.json_response(_queue(queue))

    @api.route("DELETE", "/api/queues/{id}",
               summary="Remove a queue (archived: past contacts and reports keep its name)",
               role=Role.SUPERVISOR, tag="agents",
               responses={200: "The archived queue and the agents taken off it",
                          404: "No such queue (or removed already)",
                          409: "Still in use: the reason names what refers to it"})
    async def remove_queue(call: Call[Any, Any]) -> web.Response:
        queue, detached = await call.request.app[SERVICES].agents.remove_queue(
            call.path("id"), actor=call.actor)
        return web.json_response({**_queue(queue), "agents_removed": list(detached)})

    @api.route("PATCH", "/api/teams/{id}", summary="Rename a team", role=Role.SUPERVISOR,
               tag="agents", body=TeamPatch,
               responses={200: "The team", 404: "No such team",
                          409: "Another team has that name", 422: "Invalid input"})
    async def rename_team(call: Call[TeamPatch, Any]) -> web.Response:
        team = await call.request.app[SERVICES].agents.rename_team(
            call.path("id"), call.body.name, actor=call.actor)
        return web.json_response({"id": team.id, "name": team.name})

    @api.route("POST", "/api/teams", summary="Create a team", role=Role.SUPERVISOR,
               tag="agents", body=TeamIn,
               responses={201: "The new team", 409: "The id is taken", 422: "Invalid input"})
    async def create_team(call: Call[TeamIn, Any]) -> web.Response:
        team = await call.request.app[SERVICES].agents.create_team(
            Team(id=call.body.id, name=call.body.name), actor=call.actor)
        return web.json_response({"id": team.id, "name": team.name}, status=201)


def _queue(queue: Queue) -> dict[str, Any]:
    return {"id": queue.id, "name": queue.name, "team": queue.team_id,
            "description": queue.description,
            "archived_at": queue.archived_at.isoformat() if queue.archived_at else None}
