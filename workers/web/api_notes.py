"""Internal notes on a case: what agents tell each other, never shown to the customer.

Kept minimal on purpose: a case's notes are one stored document (``case-notes:{case_id}``
in the configuration documents, whose revision check makes two agents adding a note at
once both land: the loser reads again and retries). Notes are only added, never edited,
and capped per case; they move to a table of their own when they need search or editing.
"""

from __future__ import annotations

from typing import Annotated, Any

from aiohttp import web
from pydantic import StringConstraints

from core.domain.errors import Conflict, NotFound
from core.domain.ids import new_id
from core.domain.workforce import Role
from core.ports import UnitOfWork
from workers.services import Services
from workers.web.endpoints import Api, Call
from workers.web.keys import SERVICES
from workers.web.schemas import Strict

MAX_NOTES = 200
_ATTEMPTS = 3


class NoteIn(Strict):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                           max_length=4000)]


def _key(case_id: str) -> str:
    return f"case-notes:{case_id}"


async def _existing_case(uow: UnitOfWork, case_id: str) -> None:
    if await uow.cases.get(case_id) is None:
        raise NotFound("case", case_id)


def register(api: Api) -> None:
    @api.route("GET", "/api/cases/{id}/notes", summary="A case's internal notes, oldest first",
               role=Role.AGENT, tag="cases", responses={200: "The notes", 404: "No such case"})
    async def list_notes(call: Call[Any, Any]) -> web.Response:
        case_id = call.path("id")
        async with call.request.app[SERVICES].read_uow() as uow:
            await _existing_case(uow, case_id)
            stored = await uow.routing.get_document(_key(case_id))
        return web.json_response({"items": stored.document["notes"] if stored else []})

    @api.route("POST", "/api/cases/{id}/notes", summary="Add an internal note to a case",
               role=Role.AGENT, tag="cases", body=NoteIn,
               responses={201: "The note", 404: "No such case",
                          409: f"The case has {MAX_NOTES} notes already", 422: "Invalid input"})
    async def add_note(call: Call[NoteIn, Any]) -> web.Response:
        assert call.principal is not None
        services = call.request.app[SERVICES]
        case_id = call.path("id")
        note = {"id": new_id("note"), "case_id": case_id, "text": call.body.text,
                "author": call.principal.name, "agent_id": call.principal.agent_id,
                "created_at": services.clock.now().isoformat()}
        for _ in range(_ATTEMPTS):
            if await _append(services, case_id, note, by=call.principal.name):
                return web.json_response(note, status=201)
        raise Conflict("the case's notes are changing fast; try again")


async def _append(services: Services, case_id: str, note: dict[str, Any], *, by: str) -> bool:
    """Add the note; False when another note landed in between (read again and retry)."""
    async with services.uow() as uow:
        await _existing_case(uow, case_id)
        stored = await uow.routing.get_document(_key(case_id))
        notes = list(stored.document["notes"]) if stored else []
        if len(notes) >= MAX_NOTES:
            raise Conflict(f"a case holds at most {MAX_NOTES} notes")
        try:
            await uow.routing.put_document(
                _key(case_id), {"notes": [*notes, note]},
                expected_revision=stored.revision if stored else 0, by=by,
                at=services.clock.now())
        except Conflict:
            return False
        await uow.commit()
    return True
