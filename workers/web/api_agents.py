"""Agents: create, list, read and change (skills, tier, teams, queues, capacities, presence)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from core.domain.workforce import Role, Tier
from core.services.agents import AgentChanges
from workers.notify import agent_channel
from workers.web import serialize
from workers.web.endpoints import Api, Call
from workers.web.keys import SERVICES
from workers.web.schemas import AgentIn, AgentPatch


def register(api: Api) -> None:
    @api.route("POST", "/api/agents", summary="Create an agent", role=Role.ADMIN,
               tag="agents", body=AgentIn,
               responses={201: "The new agent", 409: "Username taken", 422: "Invalid input"})
    async def create_agent(call: Call[AgentIn, Any]) -> web.Response:
        b = call.body
        agent = await call.request.app[SERVICES].agents.create(
            name=b.name, username=b.username, changes=AgentChanges(
                tier=Tier(b.tier), team_ids=b.teams, queue_ids=b.queues, skills=b.skills,
                capacity=b.capacity, phone=b.phone), actor=call.actor)
        return web.json_response(serialize.agent(agent), status=201)

    @api.route("GET", "/api/agents", summary="All agents", role=Role.SUPERVISOR, tag="agents")
    async def list_agents(call: Call[Any, Any]) -> web.Response:
        found = await call.request.app[SERVICES].agents.list()
        return web.json_response({"items": [serialize.agent(a) for a in found]})

    @api.route("GET", "/api/agents/{id}", summary="One agent", role=Role.AGENT, tag="agents",
               responses={200: "The agent", 404: "No such agent"})
    async def get_agent(call: Call[Any, Any]) -> web.Response:
        agent = await call.request.app[SERVICES].agents.get(call.path("id"))
        return web.json_response(serialize.agent(agent))

    @api.route("PATCH", "/api/agents/{id}",
               summary="Change skills, tier, teams, queues, capacity, active, presence or "
               "the phone number calls are put through to",
               role=Role.SUPERVISOR, tag="agents", body=AgentPatch,
               responses={200: "The agent", 404: "No such agent", 422: "Invalid input"})
    async def patch_agent(call: Call[AgentPatch, Any]) -> web.Response:
        b = call.body
        services = call.request.app[SERVICES]
        agent = await services.agents.update(call.path("id"), AgentChanges(
            name=b.name, tier=Tier(b.tier) if b.tier else None, team_ids=b.teams,
            queue_ids=b.queues, skills=b.skills, capacity=b.capacity, active=b.active,
            phone=b.phone), actor=call.actor)
        if b.presence is not None:
            agent = await services.desk.set_presence(agent.id, b.presence, reason="supervisor")
        if b.active is False:
            # Suspended: their tokens and logins stop working at once (core.storage checks
            # the agent is active); open desktops are closed now, not at the next request.
            await services.push.publish(agent_channel(agent.id),
                                        {"type": "session_ended", "all": True})
        return web.json_response(serialize.agent(agent))
