"""``POST /api/cti/events``: any telephone system tells Switchboard about its calls
(docs/cti.md). Authenticated with an API token (supervisor or admin) or, for systems that
cannot send one, an HMAC-SHA256 of the body with ``SWITCHBOARD_CTI_SECRET``."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from channels.voice.cti import CtiEvent
from core.domain.workforce import Role
from workers.web.auth import PRINCIPAL
from workers.web.errors import error_response, validation_fields
from workers.web.keys import SERVICES
from workers.web.schemas import CtiEventIn
from workers.web.screen_pop import screen_pop

SIGNATURE_HEADER = "X-Switchboard-Signature"


def install(app: web.Application) -> None:
    app.router.add_post("/api/cti/events", cti_event)


def _authorised(request: web.Request, body: bytes) -> bool:
    principal = request.get(PRINCIPAL)
    if principal is not None and principal.role.at_least(Role.SUPERVISOR):
        return True
    secret = request.app[SERVICES].settings.cti_secret
    given = request.headers.get(SIGNATURE_HEADER, "")
    if secret is None or not given.startswith("sha256="):
        return False
    expected = hmac.new(secret.get_secret_value().encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(given.removeprefix("sha256="), expected)


async def cti_event(request: web.Request) -> web.Response:
    body = await request.read()
    if not _authorised(request, body):
        if request.get(PRINCIPAL) is None and SIGNATURE_HEADER not in request.headers:
            return error_response(request, 401, "send a bearer token or a signed body",
                                  headers={"WWW-Authenticate": "Bearer"})
        return error_response(request, 403, "not allowed to report calls")
    try:
        given = CtiEventIn.model_validate(json.loads(body))
    except (ValueError, UnicodeDecodeError) as err:
        fields = validation_fields(err) if isinstance(err, ValidationError) else None
        return error_response(request, 422, "the event is not valid", fields=fields)
    services = request.app[SERVICES]
    applied = await services.cti.apply(CtiEvent(**given.model_dump()))
    if applied.applied and given.event == "ringing" and applied.agent_id:
        pop: dict[str, Any] = {"type": "screen_pop", "call_id": given.call_id,
                               "caller": applied.caller, "customer": None}
        if applied.customer_id:
            pop.update(await screen_pop(services, applied.customer_id,
                                        agent_id=applied.agent_id))
        await services.push.publish(f"agent:{applied.agent_id}", pop)
    return web.json_response({"applied": applied.applied, "customer_id": applied.customer_id,
                              "agent_id": applied.agent_id}, status=202)
