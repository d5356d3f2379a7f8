"""Supervisors manage web form definitions (the forms themselves are at /forms/{id})."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from channels.webforms import catalogue
from core.domain.audit import AuditAction
from core.domain.errors import InvalidInput
from core.domain.workforce import Role
from core.services import audit
from workers.web.endpoints import Api, Call, read_json
from workers.web.keys import SERVICES


def register(api: Api) -> None:
    @api.route("GET", "/api/forms", summary="Web form definitions", role=Role.SUPERVISOR,
               tag="forms")
    async def list_forms(call: Call[Any, Any]) -> web.Response:
        async with call.request.app[SERVICES].read_uow() as uow:
            found = await catalogue.forms(uow)
        return web.json_response({"items": [f.model_dump(mode="json")
                                            for f in found.values()]})

    @api.route("PUT", "/api/forms/{id}", summary="Create or replace a web form",
               role=Role.SUPERVISOR, tag="forms",
               responses={200: "Stored; served at /forms/{id}", 422: "What is wrong, by field"})
    async def put_form(call: Call[Any, Any]) -> web.Response:
        assert call.principal is not None
        body = await read_json(call.request)
        form = catalogue.parse(body)
        if form.id != call.path("id"):
            raise InvalidInput({"id": "must match the id in the path"})
        services = call.request.app[SERVICES]
        async with services.uow() as uow:
            existed = form.id in await catalogue.forms(uow)
            now = services.clock.now()
            await catalogue.save(uow, form, by=call.principal.name, at=now)
            await audit.record(uow, at=now, actor=call.actor, action=AuditAction.FORM_CHANGED,
                               subject_kind="form", subject_id=form.id,
                               details={"created": not existed})
            await uow.commit()
        return web.json_response(form.model_dump(mode="json"))
