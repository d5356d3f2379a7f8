"""Scripts and knowledge snippets for the screen-pop, kept by supervisors (docs/scripts.md).

Each is one configuration document, revisioned like the routing configuration: a PUT
replaces the whole list, names the revision it read (409 when someone saved since), and
answers 422 with one reason per place (``scripts.2.text``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web
from pydantic import Field

from core.domain.audit import AuditAction
from core.domain.routing import ConfigDocument
from core.domain.workforce import Role
from core.services import audit
from core.services.screen_pop import KNOWLEDGE_KEY, PLACEHOLDERS, SCRIPTS_KEY
from routing.scripts import Knowledge, Scripts, check_knowledge, check_scripts
from workers.web.endpoints import Api, Call
from workers.web.keys import SERVICES

REVISION = Field(default=None, ge=0,
                 description="The revision you read; refused (409) if it moved on.")


class ScriptsIn(Scripts):
    revision: int | None = REVISION


class KnowledgeIn(Knowledge):
    revision: int | None = REVISION


def register(api: Api) -> None:
    @api.route("GET", "/api/scripts", summary="The screen-pop's scripts",
               role=Role.SUPERVISOR, tag="desk")
    async def get_scripts(call: Call[Any, Any]) -> web.Response:
        stored = await _read(call, SCRIPTS_KEY)
        return web.json_response({**_meta(stored), "scripts": _list(stored, "scripts"),
                                  "placeholders": dict(PLACEHOLDERS)})

    @api.route("PUT", "/api/scripts", summary="Replace the screen-pop's scripts",
               role=Role.SUPERVISOR, tag="desk", body=ScriptsIn,
               responses={200: "Stored", 409: "Changed by someone else since you read it",
                          422: "What is wrong, script by script"})
    async def put_scripts(call: Call[ScriptsIn, Any]) -> web.Response:
        document = Scripts(scripts=call.body.scripts)
        stored = await _write(call, SCRIPTS_KEY, document, call.body.revision,
                              lambda queues: check_scripts(document, queues=queues))
        return web.json_response({**_meta(stored), "scripts": _list(stored, "scripts"),
                                  "placeholders": dict(PLACEHOLDERS)})

    @api.route("GET", "/api/knowledge", summary="The screen-pop's knowledge snippets",
               role=Role.SUPERVISOR, tag="desk")
    async def get_knowledge(call: Call[Any, Any]) -> web.Response:
        stored = await _read(call, KNOWLEDGE_KEY)
        return web.json_response({**_meta(stored), "snippets": _list(stored, "snippets"),
                                  "placeholders": dict(PLACEHOLDERS)})

    @api.route("PUT", "/api/knowledge", summary="Replace the screen-pop's knowledge snippets",
               role=Role.SUPERVISOR, tag="desk", body=KnowledgeIn,
               responses={200: "Stored", 409: "Changed by someone else since you read it",
                          422: "What is wrong, snippet by snippet"})
    async def put_knowledge(call: Call[KnowledgeIn, Any]) -> web.Response:
        document = Knowledge(snippets=call.body.snippets)
        stored = await _write(call, KNOWLEDGE_KEY, document, call.body.revision,
                              lambda queues: check_knowledge(document, queues=queues))
        return web.json_response({**_meta(stored), "snippets": _list(stored, "snippets"),
                                  "placeholders": dict(PLACEHOLDERS)})


async def _read(call: Call[Any, Any], key: str) -> ConfigDocument | None:
    async with call.request.app[SERVICES].read_uow() as uow:
        return await uow.routing.get_document(key)


async def _write(call: Call[Any, Any], key: str, document: Scripts | Knowledge,
                 revision: int | None, check: Callable[[list[str]], None]) -> ConfigDocument:
    assert call.principal is not None
    services = call.request.app[SERVICES]
    async with services.uow() as uow:
        check([q.id for q in await uow.workforce.list_queues()])
        stored = await uow.routing.put_document(
            key, document.model_dump(mode="json"), expected_revision=revision,
            by=call.principal.name, at=services.clock.now())
        await audit.record(uow, at=stored.updated_at, actor=call.actor,
                           action=AuditAction.ROUTING_CONFIG_CHANGED, subject_kind="config",
                           subject_id=key, details={"revision": stored.revision})
        await uow.commit()
    return stored


def _meta(stored: ConfigDocument | None) -> dict[str, Any]:
    return {"revision": stored.revision if stored else 0,
            "updated_by": stored.updated_by if stored else None,
            "updated_at": stored.updated_at.isoformat() if stored else None}


def _list(stored: ConfigDocument | None, key: str) -> list[Any]:
    document = stored.document if stored else None
    items = document.get(key) if isinstance(document, dict) else None
    return list(items) if isinstance(items, list) else []
