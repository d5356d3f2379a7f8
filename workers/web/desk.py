"""The agent desktop: ``GET /desk``.

A page shell only; ``static/desk.js`` builds the screen and talks to ``/agent/ws`` (presence,
offers with their screen-pop, accept, decline, wrap-up, transfer, chat) and to the API (the
agent's work, cases, customers, notes, replies, calls). Every text the agent reads, Dutch or
English, lives in the script's dictionary, chosen by ``<html lang>``; customer-supplied text
reaches the page as JSON and is set with ``textContent``, never parsed as HTML.
"""

from __future__ import annotations

from aiohttp import web

from core.domain.workforce import Role
from workers.web.pages import Language, language, page, require_login

_TITLE: dict[Language, str] = {"nl": "Werkplek — Switchboard",
                               "en": "Agent desktop — Switchboard"}
_NOSCRIPT: dict[Language, str] = {
    "nl": "De werkplek heeft JavaScript nodig.",
    "en": "The agent desktop needs JavaScript.",
}


def install(app: web.Application) -> None:
    app.router.add_get("/desk", desk)


async def desk(request: web.Request) -> web.Response:
    require_login(request, Role.AGENT)
    lang = language(request)
    # A stylesheet link is allowed in <body>; a module script is deferred by nature.
    body = f"""<link rel="stylesheet" href="/static/desk.css">
<div id="desk" class="desk" aria-busy="true"></div>
<noscript><p class="alert">{_NOSCRIPT[lang]}</p></noscript>
<script type="module" src="/static/desk.js"></script>"""
    return page(title=_TITLE[lang], lang=lang, body=body, request=request)
