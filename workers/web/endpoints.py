"""A registry of API endpoints: each declares its role, body and query models once, and
that declaration drives parsing, authorisation and the OpenAPI document alike."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from aiohttp import web
from pydantic import BaseModel

from core.domain.audit import Actor
from core.domain.workforce import Role
from core.ports import Principal
from workers.web.actors import request_actor
from workers.web.auth import PRINCIPAL

# Granted to read-only endpoints by name: the auditor stands below every other role.
READ_ONLY = frozenset({Role.AUDITOR})

B = TypeVar("B", bound=BaseModel)
Q = TypeVar("Q", bound=BaseModel)


class NoBody(BaseModel):
    pass


class NoQuery(BaseModel):
    pass


@dataclass(frozen=True, slots=True)
class Call(Generic[B, Q]):
    request: web.Request
    principal: Principal | None
    body: B
    query: Q

    def path(self, name: str) -> str:
        return self.request.match_info[name]

    @property
    def actor(self) -> Actor:
        """The caller as the audit log names them."""
        return request_actor(self.request)


EndpointHandler = Callable[[Call[Any, Any]], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoint:
    method: str
    path: str
    handler: EndpointHandler
    summary: str
    role: Role | None
    also: frozenset[Role]  # roles below ``role`` granted this by name (the auditor)
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    responses: dict[int, str]
    tag: str


@dataclass
class Api:
    title: str
    version: str
    endpoints: list[Endpoint] = field(default_factory=list)

    def route(self, method: str, path: str, *, summary: str, role: Role | None, tag: str,
              body: type[BaseModel] | None = None, query: type[BaseModel] | None = None,
              responses: dict[int, str] | None = None, also: frozenset[Role] = frozenset(),
              ) -> Callable[[EndpointHandler], EndpointHandler]:
        def register(handler: EndpointHandler) -> EndpointHandler:
            self.endpoints.append(Endpoint(
                method=method, path=path, handler=handler, summary=summary, role=role,
                also=also, body=body, query=query, responses=responses or {200: "OK"},
                tag=tag))
            return handler
        return register

    def install(self, app: web.Application) -> None:
        for endpoint in self.endpoints:
            app.router.add_route(endpoint.method, endpoint.path, _bind(endpoint))


def _bind(endpoint: Endpoint) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        principal: Principal | None = request.get(PRINCIPAL)
        if endpoint.role is not None:
            if principal is None:
                raise web.HTTPUnauthorized(text="a bearer token is required",
                                           headers={"WWW-Authenticate": "Bearer"})
            if not (principal.role.at_least(endpoint.role) or principal.role in endpoint.also):
                raise web.HTTPForbidden(
                    text=f"this needs the {endpoint.role.value} role or higher")
        query_model = endpoint.query or NoQuery
        query = query_model.model_validate(dict(request.query))
        body: BaseModel = NoBody()
        if endpoint.body is not None:
            body = endpoint.body.model_validate(await read_json(request))
        return await endpoint.handler(Call(request, principal, body, query))
    handle.__name__ = endpoint.handler.__name__
    return handle


async def read_json(request: web.Request) -> Any:
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(text="send the body as application/json")
    raw = await request.read()
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise web.HTTPBadRequest(text=f"the body is not valid JSON: {err}") from err

