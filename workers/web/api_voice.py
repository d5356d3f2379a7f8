"""Supervisors read and change the phone menu (the demo menu until one is stored)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import ValidationError

from channels.voice.menu import Menu
from channels.voice.service import MENU_KEY
from core.domain.audit import AuditAction
from core.domain.errors import InvalidInput
from core.domain.workforce import Role
from core.services import audit
from workers.web.endpoints import Api, Call, read_json
from workers.web.keys import SERVICES


def register(api: Api) -> None:
    @api.route("GET", "/api/voice/menu", summary="The phone menu", role=Role.SUPERVISOR,
               tag="voice")
    async def get_menu(call: Call[Any, Any]) -> web.Response:
        menu = await call.request.app[SERVICES].voice.menu_definition()
        return web.json_response(menu.model_dump(mode="json"))

    @api.route("PUT", "/api/voice/menu", summary="Replace the phone menu",
               role=Role.SUPERVISOR, tag="voice",
               responses={200: "Stored; the next call uses it", 422: "What is wrong"})
    async def put_menu(call: Call[Any, Any]) -> web.Response:
        assert call.principal is not None
        try:
            menu = Menu.model_validate(await read_json(call.request))
        except ValidationError as err:
            raise InvalidInput({".".join(str(p) for p in e["loc"]) or "menu": e["msg"]
                                for e in err.errors(include_url=False)}) from err
        services = call.request.app[SERVICES]
        async with services.uow() as uow:
            stored = await uow.routing.get_document(MENU_KEY)
            saved = await uow.routing.put_document(
                MENU_KEY, menu.model_dump(mode="json"),
                expected_revision=stored.revision if stored else None,
                by=call.principal.name, at=services.clock.now())
            await audit.record(uow, at=saved.updated_at, actor=call.actor,
                               action=AuditAction.IVR_MENU_CHANGED, subject_kind="ivr_menu",
                               subject_id=MENU_KEY, details={"revision": saved.revision})
            await uow.commit()
        return web.json_response(menu.model_dump(mode="json"))
