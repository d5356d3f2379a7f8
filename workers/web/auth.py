"""Bearer-token authentication for ``/api/*``: who is calling, set on the request.

Authorisation (which role an endpoint needs) is declared per endpoint in ``endpoints.py``.
"""

from __future__ import annotations

from aiohttp import web

from core.ports import Principal
from core.services.access import Access
from workers.web.errors import Handler

PRINCIPAL = web.RequestKey("principal", Principal)
ACCESS = web.AppKey("access", Access)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise web.HTTPUnauthorized(text="use 'Authorization: Bearer <token>'",
                                       headers={"WWW-Authenticate": "Bearer"})
        principal = await request.app[ACCESS].authenticate(token.strip())
        if principal is None:
            raise web.HTTPUnauthorized(text="the token is unknown or revoked",
                                       headers={"WWW-Authenticate": "Bearer"})
        request[PRINCIPAL] = principal
    return await handler(request)
