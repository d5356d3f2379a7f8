"""Reports for supervisors: the summary the console draws its charts from, and every contact
of a period as a CSV download (definitions: docs/reports.md).

The CSV is streamed row batch by row batch from a database cursor, so a year of contacts
never sits in memory. It is written for spreadsheets: UTF-8 with a byte-order mark (Excel
reads "Zoë" right), and every cell a spreadsheet would run as a formula (``=``, ``+``,
``-``, ``@``, tab, CR first) is neutralised with a leading ``'`` (OWASP, CSV injection):
customer names come from whoever wrote to us.
"""

from __future__ import annotations

import csv
import io
import logging
from contextlib import aclosing
from datetime import UTC, date, tzinfo
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from core.config import Settings
from core.domain.workforce import Role
from core.ports import ContactLine
from core.services.reports import DEFAULT_ANSWER_WITHIN_S, Reports
from workers.web.endpoints import READ_ONLY, Api, Call
from workers.web.keys import SERVICES

log = logging.getLogger(__name__)

CSV_COLUMNS = ("contact_id", "received_at", "channel", "direction", "customer_id",
               "customer_name", "case", "case_type", "case_status", "queue", "wait_s",
               "handle_s", "talk_s", "acw_s", "first_response_s", "sla_met", "outcome",
               "disposition", "channel_outcome", "csat")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FLUSH_BYTES = 64 * 1024
_SEPARATORS = {"comma": ",", "semicolon": ";"}
_DATE = "a day, YYYY-MM-DD, in the business time zone"


class ReportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    from_: date | None = Field(default=None, alias="from",
                               description=f"First day ({_DATE}); default: six days before to")
    to: date | None = Field(default=None, description=f"Last day, included ({_DATE}); "
                                                      "default: today")
    answer_within_s: int = Field(
        default=DEFAULT_ANSWER_WITHIN_S, ge=1, le=3600,
        description="Calls answered within this many seconds of entering the queue meet "
                    "the service level")


class ExportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    from_: date | None = Field(default=None, alias="from", description=f"First day ({_DATE})")
    to: date | None = Field(default=None, description=f"Last day, included ({_DATE})")
    sep: Literal["comma", "semicolon"] = Field(
        default="comma", description="Cell separator; semicolon for a spreadsheet set to "
                                     "Dutch, which expects it")


def register(api: Api) -> None:
    @api.route("GET", "/api/reports/summary", role=Role.SUPERVISOR, also=READ_ONLY,
               tag="reports",
               summary="Volumes, service level, handle time, abandonment and first-contact "
                       "resolution of a period, by channel, queue and agent",
               query=ReportQuery,
               responses={200: "The report (docs/reports.md)",
                          422: "Invalid days, or more than 366 of them"})
    async def report_summary(call: Call[Any, ReportQuery]) -> web.Response:
        reports = _reports(call)
        period = reports.period(call.query.from_, call.query.to)
        return web.json_response(await reports.summary(
            period, answer_within_s=call.query.answer_within_s))

    @api.route("GET", "/api/reports/contacts.csv", role=Role.SUPERVISOR, also=READ_ONLY,
               tag="reports",
               summary="Every contact of a period, one CSV row each (streamed)",
               query=ExportQuery,
               responses={200: "text/csv, as an attachment",
                          422: "Invalid days, or more than 366 of them"})
    async def report_contacts_csv(call: Call[Any, ExportQuery]) -> web.StreamResponse:
        reports = _reports(call)
        period = reports.period(call.query.from_, call.query.to)
        lines = reports.contact_lines(period)
        async with aclosing(lines):
            # The first row is read before anything is sent, so a database that does not
            # answer is still a JSON error, not a broken download.
            first = await anext(lines, None)
            response = web.StreamResponse(headers={
                "Content-Type": "text/csv; charset=utf-8",
                "Content-Disposition": f'attachment; filename="contacts-{period.first_day}'
                                       f'_{period.last_day}.csv"',
                "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})
            await response.prepare(call.request)
            sheet = _Sheet(_SEPARATORS[call.query.sep], period.timezone)
            try:
                if first is not None:
                    sheet.add(first)
                async for line in lines:
                    sheet.add(line)
                    if sheet.size >= FLUSH_BYTES:
                        await response.write(sheet.take())
                await response.write(sheet.take())
            except Exception as err:  # the headers are gone: cut the download short
                if isinstance(err, ConnectionResetError):  # the client left
                    log.info("a CSV export was left unfinished by its client")
                else:
                    log.exception("the CSV export of %s..%s failed part-way",
                                  period.first_day, period.last_day)
                # Without the final chunk the client knows the file is incomplete.
                if call.request.transport is not None:
                    call.request.transport.close()
                return response
            await response.write_eof()
            return response


def business_timezone(settings: Settings) -> tzinfo:
    """The time zone whose days reports count in. Settings have none yet (core/config.py),
    so days are UTC days; a setting would be read here."""
    return UTC


def _reports(call: Call[Any, Any]) -> Reports:
    services = call.request.app[SERVICES]
    return Reports(services.read_uow, services.clock,
                   timezone=business_timezone(services.settings))


def neutralise(cell: str) -> str:
    """A cell a spreadsheet would take for a formula, made plain text."""
    return f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell


class _Sheet:
    """CSV text in the making: the byte-order mark and header first, then rows."""

    def __init__(self, separator: str, timezone: tzinfo) -> None:
        self._timezone = timezone
        self._buffer = io.StringIO()
        self._buffer.write("\ufeff")
        self._writer = csv.writer(self._buffer, delimiter=separator, lineterminator="\r\n")
        self._writer.writerow(CSV_COLUMNS)

    @property
    def size(self) -> int:
        return self._buffer.tell()

    def add(self, line: ContactLine) -> None:
        self._writer.writerow([neutralise(cell) for cell in self._cells(line)])

    def take(self) -> bytes:
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text.encode("utf-8")

    def _cells(self, line: ContactLine) -> list[str]:
        return [
            line.contact_id,
            line.received_at.astimezone(self._timezone).isoformat(timespec="seconds"),
            line.channel, line.direction, line.customer_id, line.customer_name or "",
            # The case's reference as agents and customers know it (Case.reference).
            f"SW-{line.case_number}" if line.case_number is not None else "",
            line.case_type or "", line.case_status or "", line.queue_id or "",
            _seconds(line.wait_s), _seconds(line.handle_s), _seconds(line.talk_s),
            _seconds(line.after_contact_work_s), _seconds(line.first_response_s),
            {True: "yes", False: "no", None: ""}[line.sla_met], line.outcome or "",
            line.disposition or "", line.channel_outcome or "",
            "" if line.csat is None else str(line.csat),
        ]


def _seconds(value: float | None) -> str:
    return "" if value is None else str(round(value))
