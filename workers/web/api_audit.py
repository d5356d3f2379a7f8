"""The audit log for supervisors, admins and auditors: a filtered page, newest first, and
the same selection as a CSV download (streamed oldest first, formula-safe like the reports
CSV). Reading changes nothing and is not itself audited."""

from __future__ import annotations

import csv
import io
import json
import logging
from contextlib import aclosing
from datetime import date, datetime
from typing import Annotated, Any

from aiohttp import web
from pydantic import AwareDatetime, Field, StringConstraints

from core.domain.audit import AuditAction, AuditEntry, AuditFilter
from core.domain.errors import InvalidInput
from core.domain.workforce import Role
from core.services.audit import AuditTrail
from workers.web.api_reports import FLUSH_BYTES, neutralise
from workers.web.api_surveys import period_end, period_start
from workers.web.endpoints import READ_ONLY, Api, Call
from workers.web.keys import SERVICES
from workers.web.schemas import Short, Strict

log = logging.getLogger(__name__)

CSV_COLUMNS = ("id", "at", "actor_id", "actor_name", "actor_role", "action", "subject_kind",
               "subject_id", "customer_id", "contact_id", "request_id", "details")


class AuditSelection(Strict):
    actor: Short | None = Field(default=None, description="The acting principal's id")
    action: AuditAction | None = None
    subject: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                              max_length=250)] | None = Field(
        default=None, description="`kind` (e.g. `agent`) or `kind:id` (e.g. `agent:agt_…`)")
    customer: Short | None = Field(
        default=None, description="Entries concerning this customer (or done to it, as the "
                                  "other side of a merge)")
    from_: AwareDatetime | date | None = Field(
        default=None, alias="from", description="at or after (a date: its start, UTC)")
    to: AwareDatetime | date | None = Field(
        default=None, description="before (a date: up to the end of that day, UTC)")

    def where(self) -> AuditFilter:
        kind, _, subject_id = (self.subject or "").partition(":")
        since, until = period_start(self.from_), period_end(self.to)
        if since is not None and until is not None and until <= since:
            raise InvalidInput({"to": "must be after from"})
        return AuditFilter(actor_id=self.actor, action=self.action, subject_kind=kind or None,
                           subject_id=subject_id or None,
                           customer_ids=(self.customer,) if self.customer else (),
                           since=since, until=until)


class AuditPage(AuditSelection):
    limit: int = Field(default=50, ge=1, le=200)
    cursor: Annotated[str, StringConstraints(max_length=200)] | None = None


def register(api: Api) -> None:
    @api.route("GET", "/api/audit", role=Role.SUPERVISOR, also=READ_ONLY, tag="audit",
               summary="The audit log: who did what to which record, newest first",
               query=AuditPage,
               responses={200: "A page of entries and the cursor of the next",
                          422: "Invalid filter or cursor"})
    async def audit_page(call: Call[Any, AuditPage]) -> web.Response:
        q = call.query
        entries, cursor = await AuditTrail(call.request.app[SERVICES].read_uow).page(
            q.where(), limit=q.limit, cursor=q.cursor)
        return web.json_response({"items": [audit_entry(e) for e in entries],
                                  "next_cursor": cursor})

    @api.route("GET", "/api/audit.csv", role=Role.SUPERVISOR, also=READ_ONLY, tag="audit",
               summary="The audit log as CSV, oldest first (streamed)", query=AuditSelection,
               responses={200: "text/csv, as an attachment", 422: "Invalid filter"})
    async def audit_csv(call: Call[Any, AuditSelection]) -> web.StreamResponse:
        entries = AuditTrail(call.request.app[SERVICES].read_uow).stream(call.query.where())
        async with aclosing(entries):
            # Read the first entry before answering, so a database that does not answer is
            # still a JSON error rather than a broken download.
            first = await anext(entries, None)
            response = web.StreamResponse(headers={
                "Content-Type": "text/csv; charset=utf-8",
                "Content-Disposition": 'attachment; filename="audit.csv"',
                "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})
            await response.prepare(call.request)
            sheet = _Sheet()
            try:
                if first is not None:
                    sheet.add(first)
                async for entry in entries:
                    sheet.add(entry)
                    if sheet.size >= FLUSH_BYTES:
                        await response.write(sheet.take())
                await response.write(sheet.take())
            except Exception:  # the headers are gone: cut the download short
                log.exception("the audit CSV export failed part-way")
                if call.request.transport is not None:
                    call.request.transport.close()
                return response
            await response.write_eof()
            return response


def audit_entry(e: AuditEntry) -> dict[str, Any]:
    return {"id": e.id, "at": e.at.isoformat(),
            "actor": {"id": e.actor.id, "name": e.actor.name, "role": e.actor.role},
            "action": e.action.value, "subject": {"kind": e.subject_kind, "id": e.subject_id},
            "customer_id": e.customer_id, "contact_id": e.contact_id,
            "request_id": e.actor.request_id, "details": e.details}


class _Sheet:
    """CSV text in the making: byte-order mark and header first (Excel reads UTF-8 then)."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._buffer.write("\ufeff")
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")
        self._writer.writerow(CSV_COLUMNS)

    @property
    def size(self) -> int:
        return self._buffer.tell()

    def add(self, e: AuditEntry) -> None:
        cells = [e.id, _time(e.at), e.actor.id or "", e.actor.name, e.actor.role or "",
                 e.action.value, e.subject_kind, e.subject_id or "", e.customer_id or "",
                 e.contact_id or "", e.actor.request_id or "",
                 json.dumps(e.details, ensure_ascii=False, sort_keys=True)]
        # An actor's name is whatever someone typed at the login form: never a formula.
        self._writer.writerow([neutralise(cell) for cell in cells])

    def take(self) -> bytes:
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text.encode("utf-8")


def _time(at: datetime) -> str:
    return at.isoformat(timespec="seconds")
