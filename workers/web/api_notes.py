"""Internal notes on a case: what agents tell each other, never shown to the customer.

The rules are the domain's (``core.domain.notes``): notes are never edited; the author may
delete one within ten minutes. Each note says until when the caller may delete it
(``deletable_until``, null when they may not), so a desk shows the button only then.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from aiohttp import web
from pydantic import StringConstraints

from core.domain.notes import MAX_PER_CASE, MAX_TEXT, Note, NotTheAuthor
from core.domain.workforce import Role
from core.ports import Principal
from core.services.notes import author_id
from workers.web import serialize
from workers.web.endpoints import Api, Call
from workers.web.errors import REQUEST_ID
from workers.web.keys import SERVICES
from workers.web.schemas import Strict


class NoteIn(Strict):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                           max_length=MAX_TEXT)]


def _json(note: Note, reader: Principal, *, now: datetime,
          window: timedelta) -> dict[str, Any]:
    until = note.deletable_until(window)
    mine = author_id(reader) == note.author_id and now < until
    return serialize.note(note, deletable_until=until if mine else None)


def register(api: Api) -> None:
    @api.route("GET", "/api/cases/{id}/notes", summary="A case's internal notes, oldest first",
               role=Role.AGENT, tag="cases", responses={200: "The notes", 404: "No such case"})
    async def list_notes(call: Call[Any, Any]) -> web.Response:
        assert call.principal is not None
        services = call.request.app[SERVICES]
        notes = await services.notes.for_case(call.path("id"))
        now, window = services.clock.now(), services.notes.delete_window
        return web.json_response({"items": [
            _json(n, call.principal, now=now, window=window) for n in notes]})

    @api.route("POST", "/api/cases/{id}/notes", summary="Add an internal note to a case",
               role=Role.AGENT, tag="cases", body=NoteIn,
               responses={201: "The note", 404: "No such case",
                          409: f"The case has {MAX_PER_CASE} notes already",
                          422: "Invalid input"})
    async def add_note(call: Call[NoteIn, Any]) -> web.Response:
        assert call.principal is not None
        services = call.request.app[SERVICES]
        note = await services.notes.add(call.path("id"), call.body.text, by=call.principal)
        return web.json_response(_json(note, call.principal, now=note.created_at,
                                       window=services.notes.delete_window), status=201)

    @api.route("DELETE", "/api/cases/{id}/notes/{note_id}",
               summary="Take back an internal note (its author, within ten minutes)",
               role=Role.AGENT, tag="cases",
               responses={204: "Deleted", 403: "Not the note's author",
                          404: "No such note on this case",
                          409: "Too old: the note is part of the case's record"})
    async def delete_note(call: Call[Any, Any]) -> web.Response:
        assert call.principal is not None
        try:
            await call.request.app[SERVICES].notes.delete(
                call.path("id"), call.path("note_id"), by=call.principal,
                request_id=call.request.get(REQUEST_ID))
        except NotTheAuthor as err:
            raise web.HTTPForbidden(text=str(err)) from err
        return web.Response(status=204)
