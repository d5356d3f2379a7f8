"""What every page of the agent desktop and supervisor console shares: a strict
Content-Security-Policy, the page language (Dutch or English), the logged-in user, and the
static files under ``/static/``.

The pages are plain HTML with their own JavaScript files: no inline script or style (the CSP
forbids both), no build step. Everything customer-supplied reaches a page as JSON and is set
with ``textContent``, never parsed as HTML.
"""

from __future__ import annotations

import html
from importlib import resources
from typing import Literal
from urllib.parse import quote

from aiohttp import web

from core.domain.workforce import Role
from core.ports import Principal
from core.services.access import csrf_token
from workers.web.auth import PRINCIPAL, SESSION

Language = Literal["nl", "en"]

PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; frame-src 'self'; font-src 'self'; base-uri 'none'; "
            "form-action 'self'; frame-ancestors 'none'")
PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_CSP, "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin", "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}
_STATIC = resources.files("workers.web") / "static"
_TYPES = {".js": "application/javascript", ".css": "text/css", ".svg": "image/svg+xml",
          ".html": "text/html"}


def install(app: web.Application) -> None:
    app.router.add_get("/static/{name}", static_file)


async def static_file(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    suffix = name[name.rfind("."):] if "." in name else ""
    if "/" in name or name.startswith(".") or suffix not in _TYPES:
        raise web.HTTPNotFound(text="no such file")
    resource = _STATIC / name
    if not resource.is_file():
        raise web.HTTPNotFound(text="no such file")
    return web.Response(body=resource.read_bytes(), content_type=_TYPES[suffix], headers={
        "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})


def language(request: web.Request) -> Language:
    """``?lang=`` first, then the browser's preference; Dutch unless English comes first."""
    asked = request.query.get("lang") or request.cookies.get("sb_lang")
    if asked in ("nl", "en"):
        return asked  # type: ignore[return-value]
    for part in request.headers.get("Accept-Language", "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("nl"):
            return "nl"
        if tag.startswith("en"):
            return "en"
    return "nl"


def page(*, title: str, lang: Language, body: str, scripts: tuple[str, ...] = (),
         request: web.Request | None = None, status: int = 200) -> web.Response:
    """A whole page around ``body`` (already escaped HTML). The session's CSRF token and the
    user go into meta tags for the page's scripts."""
    meta = ""
    if request is not None and (session := request.get(SESSION)) is not None:
        meta += f'<meta name="csrf-token" content="{csrf_token(session)}">\n'
    if request is not None and (principal := request.get(PRINCIPAL)) is not None:
        meta += (f'<meta name="user" content="{html.escape(principal.name)}" '
                 f'data-role="{principal.role.value}">\n')
    tags = "".join(f'<script src="/static/{html.escape(s)}" defer></script>\n'
                   for s in scripts)
    document = f"""<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
{meta}<link rel="stylesheet" href="/static/app.css">
{tags}</head>
<body>
{body}
</body>
</html>
"""
    return web.Response(text=document, content_type="text/html", charset="utf-8",
                        headers=PAGE_HEADERS, status=status)


def home_of(principal: Principal) -> str:
    return "/desk" if principal.role is Role.AGENT else "/console"


def require_login(request: web.Request, *roles: Role) -> Principal:
    """The logged-in user of a page, or a redirect to the login page (and back after)."""
    principal: Principal | None = request.get(PRINCIPAL)
    if principal is None:
        raise web.HTTPSeeOther(f"/login?next={quote(request.path_qs, safe='')}")
    if roles and principal.role not in roles:
        raise web.HTTPForbidden(text="this page is not for your role")
    return principal
