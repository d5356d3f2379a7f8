"""API tokens for integrations and agent desktops, made by an admin over the API (the same
as ``switchboard token create``): shown once, stored only as a hash."""

from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web
from pydantic import StringConstraints

from core.domain.workforce import Role
from workers.web.endpoints import Api, Call
from workers.web.keys import SERVICES
from workers.web.schemas import Strict


class TokenIn(Strict):
    role: Role
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                           max_length=200)]
    agent_id: Annotated[str, StringConstraints(max_length=60)] | None = None


def register(api: Api) -> None:
    @api.route("POST", "/api/tokens", summary="Create an API token (shown once)",
               role=Role.ADMIN, tag="operations", body=TokenIn,
               responses={201: "The token, shown this once", 422: "Invalid input"})
    async def create_token(call: Call[TokenIn, Any]) -> web.Response:
        b = call.body
        token = await call.request.app[SERVICES].access.create_token(
            role=b.role, name=b.name, agent_id=b.agent_id)
        return web.json_response({"token": token, "role": b.role.value,
                                  "agent_id": b.agent_id}, status=201)
