"""Who is calling, set on the request: an API token (``Authorization: Bearer``) or a browser
session (the ``sb_session`` cookie set by ``/login``).

A request authenticated by cookie must prove it comes from our own pages: unsafe methods on
``/api`` carry the session's CSRF token in ``X-CSRF-Token``, and WebSocket upgrades come
from our own Origin (a cookie rides along on cross-site WebSocket upgrades; SameSite does not
cover every browser). Bearer tokens are not sent by browsers on their own, so they need
neither. Authorisation (which role an endpoint needs) is declared per endpoint in
``endpoints.py``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from aiohttp import hdrs, web

from core.ports import Principal
from core.services.access import Access, csrf_matches, token_hash
from workers.web.errors import Handler
from workers.web.keys import SERVICES

PRINCIPAL = web.RequestKey("principal", Principal)
SESSION = web.RequestKey("session", str)  # the session token, when a cookie authenticated
ACCESS = web.AppKey("access", Access)
SESSION_COOKIE = "sb_session"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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
    elif session := request.cookies.get(SESSION_COOKIE):
        principal = await request.app[ACCESS].session_principal(session)
        if principal is not None:
            _check_same_site(request, session)
            request[PRINCIPAL] = principal
            request[SESSION] = session
    return await handler(request)


def _check_same_site(request: web.Request, session: str) -> None:
    if request.headers.get(hdrs.UPGRADE, "").lower() == "websocket":
        if not same_origin(request):
            raise web.HTTPForbidden(text="a WebSocket with a session cookie must come from "
                                         "this site's own pages (Origin)")
    elif (request.method not in _SAFE_METHODS and request.path.startswith("/api/")
          and not csrf_matches(session, request.headers.get(CSRF_HEADER, ""))):
        raise web.HTTPForbidden(text=f"missing or wrong {CSRF_HEADER} header (the page's "
                                     "csrf-token meta tag)")


def own_origins(request: web.Request) -> set[str]:
    """This site's origins as a browser sees them: the Host the request came to and, when
    configured, the public URL (a TLS proxy changes scheme and port)."""
    origins = {f"{request.scheme}://{request.host}".lower()}
    if public := request.app[SERVICES].settings.public_url:
        parts = urlsplit(public)
        origins.add(f"{parts.scheme}://{parts.netloc}".lower())
    return origins


def same_origin(request: web.Request) -> bool:
    origin = request.headers.get(hdrs.ORIGIN)
    return origin is not None and origin.lower() in own_origins(request)


def session_fingerprint(session: str) -> str:
    """Names a session in pushes (e.g. "this session ended") without revealing the token."""
    return token_hash(session)[:16]


def session_channel(session: str) -> str:
    """Where "this session ended" is pushed, for every socket the session opened."""
    return f"session:{session_fingerprint(session)}"
