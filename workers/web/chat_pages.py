"""The chat widget's files and the demo page (``/chat/demo``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib import resources

from aiohttp import web

_STATIC = resources.files("channels.chat") / "static"
_FILES = {name: (_STATIC / name).read_bytes() for name in ("widget.js", "widget.css",
                                                            "demo.html")}
_DEMO_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
             "img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def install(app: web.Application) -> None:
    app.router.add_get("/chat/widget.js", _asset("widget.js", "application/javascript"))
    app.router.add_get("/chat/widget.css", _asset("widget.css", "text/css"))
    app.router.add_get("/chat/demo", demo)


def _asset(name: str,
           content_type: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def serve(request: web.Request) -> web.Response:
        return web.Response(body=_FILES[name], content_type=content_type, headers={
            "Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"})
    return serve


async def demo(request: web.Request) -> web.Response:
    page = _FILES["demo.html"]
    if request.query.get("lang") == "en":
        page = page.replace(b'data-lang="nl"', b'data-lang="en"').replace(
            b'<html lang="nl">', b'<html lang="en">')
    return web.Response(body=page, content_type="text/html", charset="utf-8", headers={
        "Content-Security-Policy": _DEMO_CSP, "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin"})
