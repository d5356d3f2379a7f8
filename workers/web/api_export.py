"""``GET /api/customers/{id}/export``: everything held about a customer as one zip archive,
streamed as it is read (core.services.exports decides what; this writes it down).

The archive holds ``export.json`` (every record, machine-readable), ``summary.txt`` (the same
for a person: who, what we hold, every contact in a line) and ``files/`` (original e-mails,
HTML bodies and attachments exactly as stored). Text is deflated; files are stored as they
are (mostly compressed already), so writing costs little beyond the copy. Nothing waits
for the whole archive: the zip is written to the response in chunks as records arrive.
"""

from __future__ import annotations

import json
import logging
import zipfile
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from aiohttp import web

from core.domain.workforce import Role
from core.services.exports import FORMAT, CustomerExports, ExportSubject, File, Record, Section
from workers.web.endpoints import Api, Call
from workers.web.keys import SERVICES

log = logging.getLogger(__name__)

FLUSH_BYTES = 256 * 1024


def register(api: Api) -> None:
    @api.route("GET", "/api/customers/{id}/export", role=Role.SUPERVISOR, tag="customers",
               summary="Everything held about a customer, as a zip archive (data-subject "
                       "access request); audited",
               responses={200: "application/zip, as an attachment", 404: "No such customer"})
    async def export_customer(call: Call[Any, Any]) -> web.StreamResponse:
        services = call.request.app[SERVICES]
        exports = CustomerExports(services.uow, services.read_uow, services.clock)
        # Resolved and audited before the first byte: an unknown id is still a JSON 404.
        subject = await exports.start(call.path("id"), actor=call.actor)
        stamp = subject.exported_at.strftime("%Y%m%d-%H%M%S")
        response = web.StreamResponse(headers={
            "Content-Type": "application/zip",
            "Content-Disposition": f'attachment; filename="customer-{subject.customer.id}'
                                   f'-{stamp}.zip"',
            "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})
        await response.prepare(call.request)
        try:
            await _write(response, subject, exports)
        except Exception as err:  # the headers are gone: cut the download short
            if isinstance(err, ConnectionResetError):
                log.info("a customer export was left unfinished by its client")
            else:
                log.exception("the export of customer %s failed part-way", subject.customer.id)
            # Without the zip's central directory the client's archive is visibly broken.
            if call.request.transport is not None:
                call.request.transport.close()
            return response
        await response.write_eof()
        return response


class _Pipe:
    """A write-only file the zip writer fills and the response drains."""

    def __init__(self) -> None:
        self._chunks = bytearray()

    def write(self, data: bytes, /) -> int:
        self._chunks += data
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    @property
    def size(self) -> int:
        return len(self._chunks)

    def take(self) -> bytes:
        data = bytes(self._chunks)
        self._chunks.clear()
        return data


async def _write(response: web.StreamResponse, subject: ExportSubject,
                 exports: CustomerExports) -> None:
    pipe = _Pipe()
    summary = _Summary(subject)
    # No seek or tell: zipfile writes each entry's sizes after its data (streaming mode).
    with zipfile.ZipFile(pipe, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:
        document = _Document(archive.open(_info("export.json", subject.exported_at), "w",
                                          force_zip64=True), subject)
        async with aclosing(exports.records(subject)) as items:
            async for item in items:
                if isinstance(item, Section):
                    document.section(item)
                elif isinstance(item, Record):
                    document.record(item.data)
                    summary.add(document.current, item.data)
                else:
                    document.close()
                    summary.file(item)
                    info = _info(item.path, subject.exported_at)
                    info.compress_type = zipfile.ZIP_STORED
                    archive.writestr(info, item.content)
                if pipe.size >= FLUSH_BYTES:
                    await response.write(pipe.take())
        document.close()
        archive.writestr(_info("summary.txt", subject.exported_at), summary.text())
    await response.write(pipe.take())


def _info(path: str, at: datetime) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(path, date_time=at.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


class _Document:
    """export.json written as it goes: one object, a key per section."""

    def __init__(self, stream: IO[bytes], subject: ExportSubject) -> None:
        self._stream = stream
        self.current = ""
        self._many = True
        self._first = True
        self._open = True
        head = {"format": FORMAT, "exported_at": subject.exported_at.isoformat(),
                "requested_id": subject.requested_id, "customer_id": subject.customer.id,
                "customer_ids": list(subject.customer_ids)}
        self._put(json.dumps(head, ensure_ascii=False)[:-1])

    def section(self, section: Section) -> None:
        self._end_section()
        self.current, self._many, self._first = section.name, section.many, True
        self._put(f", {json.dumps(section.name)}: " + ("[" if section.many else ""))

    def record(self, data: dict[str, Any]) -> None:
        if self._many and not self._first:
            self._put(",\n")
        self._first = False
        self._put(json.dumps(data, ensure_ascii=False))

    def close(self) -> None:
        if self._open:
            self._end_section()
            self._put("}\n")
            self._stream.close()
            self._open = False

    def _end_section(self) -> None:
        if not self.current:
            return
        if self._many:
            self._put("]")
        elif self._first:
            self._put("null")
        self.current = ""

    def _put(self, text: str) -> None:
        self._stream.write(text.encode("utf-8"))


@dataclass
class _Summary:
    """summary.txt: the export for a person to read."""

    subject: ExportSubject
    counts: dict[str, int] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    files: int = 0

    def add(self, section: str, data: dict[str, Any]) -> None:
        self.counts[section] = self.counts.get(section, 0) + 1
        if section == "contacts":
            what = data.get("subject") or data.get("summary") or ""
            ref = data.get("ref") or {}
            self.lines.append(f"  {data.get('occurred_at', '')[:19]}  {ref.get('channel', ''):8} "
                              f"{data.get('direction', ''):8} {_one_line(str(what))}")

    def file(self, item: File) -> None:
        self.files += 1

    def text(self) -> str:
        c = self.subject.customer
        out = [
            "Everything Switchboard holds about this customer",
            "=================================================",
            "",
            f"Exported:       {self.subject.exported_at.isoformat(timespec='seconds')}",
            f"Customer:       {c.id}  {c.display_name or '(no name)'}",
        ]
        if self.subject.requested_id != c.id:
            out.append(f"Requested as:   {self.subject.requested_id} (merged into {c.id})")
        if len(self.subject.customer_ids) > 1:
            out.append(f"Merged records: {', '.join(self.subject.customer_ids[1:])}")
        out += ["", "Identifiers:"]
        out += [f"  {i.kind.value:10} {i.value}{'  (verified)' if i.verified else ''}"
                for i in c.identifiers] or ["  (none)"]
        out += ["", "What the archive holds (export.json has every field of every record):"]
        for name in ("contacts", "cases", "chats", "calls", "surveys", "notes", "audit"):
            out.append(f"  {name:10} {self.counts.get(name, 0)}")
        out.append(f"  {'files':10} {self.files}  (files/: original e-mails, HTML bodies, "
                   "attachments)")
        out += ["", "Contacts, newest first per record:"] + (self.lines or ["  (none)"])
        return "\n".join(out) + "\n"


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 100 else flat[:99] + "…"
