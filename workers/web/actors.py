"""Who is acting in a request, as the audit log names them: the caller's principal and the
request id (which the server log carries too)."""

from __future__ import annotations

from aiohttp import web

from core.domain.audit import Actor
from core.services.access import actor_of
from workers.web.auth import PRINCIPAL
from workers.web.errors import REQUEST_ID


def request_actor(request: web.Request) -> Actor:
    principal = request.get(PRINCIPAL)
    request_id = request.get(REQUEST_ID)
    if principal is None:
        return Actor(id=None, name="anonymous", role=None, request_id=request_id)
    return actor_of(principal, request_id=request_id)
