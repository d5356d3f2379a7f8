"""The supervisor console: ``GET /console``.

A page shell only; ``static/console.js`` (plain JavaScript modules, no build step) builds a
tabbed screen: the live wallboard over ``/supervisor/ws`` (``docs/supervisor-protocol.md``),
routing (edit the draft rule set, simulate, publish, roll back, read a decision's trace),
management of agents, queues, SLA policies, business hours, the phone menu and web forms,
open complaints with their ages, and reports. Every text the supervisor reads, Dutch or
English, lives in the script's dictionary, chosen by ``<html lang>``; names and texts that
customers or supervisors typed reach the page as JSON and are set with ``textContent`` or
attribute setters, never parsed as HTML. See ``docs/console.md``.
"""

from __future__ import annotations

from aiohttp import web

from core.domain.workforce import Role
from workers.web.pages import Language, language, page, require_login

_TITLE: dict[Language, str] = {"nl": "Supervisorconsole — Switchboard",
                               "en": "Supervisor console — Switchboard"}
_NOSCRIPT: dict[Language, str] = {
    "nl": "De supervisorconsole heeft JavaScript nodig.",
    "en": "The supervisor console needs JavaScript.",
}


def install(app: web.Application) -> None:
    app.router.add_get("/console", console)


async def console(request: web.Request) -> web.Response:
    require_login(request, Role.SUPERVISOR, Role.ADMIN)
    lang = language(request)
    # A stylesheet link is allowed in <body>; a module script is deferred by nature.
    body = f"""<link rel="stylesheet" href="/static/console.css">
<div id="console" class="console" aria-busy="true"></div>
<noscript><p class="alert">{_NOSCRIPT[lang]}</p></noscript>
<script type="module" src="/static/console.js"></script>"""
    return page(title=_TITLE[lang], lang=lang, body=body, request=request)
