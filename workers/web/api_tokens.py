"""API tokens for integrations and agent desktops, made by an admin over the API (the same
as ``switchboard token create``): shown once, stored only as a hash; listed by id, name and
role, and revoked by id. Creating and revoking are audited."""

from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web
from pydantic import StringConstraints

from core.domain.workforce import Role
from core.ports import TokenInfo
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
               responses={201: "The token, shown this once, and its id", 422: "Invalid input"})
    async def create_token(call: Call[TokenIn, Any]) -> web.Response:
        b = call.body
        issued = await call.request.app[SERVICES].access.issue_token(
            role=b.role, name=b.name, agent_id=b.agent_id, actor=call.actor)
        return web.json_response({"id": issued.id, "token": issued.token,
                                  "role": b.role.value, "agent_id": b.agent_id}, status=201)

    @api.route("GET", "/api/tokens", summary="API tokens (never the tokens themselves)",
               role=Role.ADMIN, tag="operations", responses={200: "Newest first"})
    async def list_tokens(call: Call[Any, Any]) -> web.Response:
        found = await call.request.app[SERVICES].access.tokens()
        return web.json_response({"items": [_token(t) for t in found]})

    @api.route("DELETE", "/api/tokens/{id}", summary="Revoke an API token at once",
               role=Role.ADMIN, tag="operations",
               responses={204: "Revoked", 404: "No such token, or revoked already"})
    async def revoke_token(call: Call[Any, Any]) -> web.Response:
        await call.request.app[SERVICES].access.revoke_token(call.path("id"),
                                                             actor=call.actor)
        return web.Response(status=204)


def _token(t: TokenInfo) -> dict[str, Any]:
    return {"id": t.id, "name": t.name, "role": t.role.value, "agent_id": t.agent_id,
            "created_at": t.created_at.isoformat(),
            "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None}
