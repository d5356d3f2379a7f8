"""``POST /api/contacts``: the generic ingestion API any system (or an agent logging a
visit or a letter) uses."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from core.domain.commands import IngestContact, Party
from core.domain.workforce import Role
from workers.web.endpoints import Api, Call
from workers.web.keys import SERVICES
from workers.web.schemas import PRIORITIES, ContactIn


def register(api: Api) -> None:
    @api.route("POST", "/api/contacts", summary="Ingest a contact from any channel",
               role=Role.AGENT, tag="contacts", body=ContactIn,
               responses={202: "Stored; customer matched and case filed",
                          200: "Already stored under this (channel, external_id)",
                          422: "Invalid input, with a reason per field"})
    async def post_contact(call: Call[ContactIn, Any]) -> web.Response:
        body = call.body
        party = Party(name=body.from_.name, email=body.from_.email, phone=body.from_.phone,
                      visitor_id=body.from_.visitor_id, crm_id=body.from_.crm_id,
                      claimed_email=body.from_.claimed_email)
        result = await call.request.app[SERVICES].ingestion.ingest(IngestContact(
            channel=body.channel, direction=body.direction, external_id=body.external_id,
            party=party, occurred_at=body.occurred_at, subject=body.subject,
            summary=body.summary, body=body.body, transcript=body.transcript,
            from_address=body.from_.email or body.from_.phone, case_id=body.case_id,
            case_type=body.case_type,
            priority=PRIORITIES[body.priority] if body.priority else None,
            queue_id=body.queue, tags=tuple(body.tags),
            metadata=tuple(sorted(body.metadata.items()))))
        return web.json_response(
            {"contact_id": result.contact_id, "customer_id": result.customer_id,
             "case_id": result.case_id, "duplicate": result.duplicate},
            status=200 if result.duplicate else 202)
