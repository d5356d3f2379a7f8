"""Everything held about one customer, for a data-subject access request (GDPR art. 15).

``CustomerExports.start`` resolves the customer (an id merged away resolves to the customer
it was merged into, and the export covers every customer merged into that one), and records
the export in the audit log before a byte leaves. ``records`` then reads the lot in one
read transaction, a page at a time, and hands it out in sections, so an adapter can write an
archive of any size without holding it: the profile and identifiers, every contact with its
body, transcript and channel facts, cases, chat conversations with every message, calls with
their recording links, survey answers, internal notes, and the audit entries about the
customer. Files (original e-mails, attachments, HTML bodies) come last, one at a time.

Records are the stored fields as plain JSON values, leaving nothing out except secrets that
are ours rather than the customer's (survey link tokens are never read here).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncGenerator, Sequence
from datetime import date, datetime
from enum import Enum
from typing import Any

from core.domain.audit import Actor, AuditAction, AuditFilter
from core.domain.clock import Clock
from core.domain.contact import Contact
from core.domain.customer import Customer
from core.domain.errors import NotFound
from core.ports import UnitOfWork, UnitOfWorkFactory
from core.services import audit

FORMAT = "switchboard-customer-export/1"
PAGE = 200
_MAX_MERGE_DEPTH = 100


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ExportSubject:
    requested_id: str
    customer: Customer  # the active record (the survivor when the id was merged away)
    customer_ids: tuple[str, ...]  # it first, then every customer merged into it
    exported_at: datetime


@dataclasses.dataclass(frozen=True, slots=True)
class Section:
    """The records that follow belong to ``name``; ``many``: a list, else one object."""

    name: str
    many: bool = True


@dataclasses.dataclass(frozen=True, slots=True)
class Record:
    data: dict[str, Any]


@dataclasses.dataclass(frozen=True, slots=True)
class File:
    """Bytes to include as they were stored, at ``path`` inside the export."""

    path: str
    content: bytes


ExportItem = Section | Record | File


class CustomerExports:
    def __init__(self, uow: UnitOfWorkFactory, read_uow: UnitOfWorkFactory,
                 clock: Clock) -> None:
        self._uow = uow
        self._read_uow = read_uow
        self._clock = clock

    async def start(self, customer_id: str, *, actor: Actor) -> ExportSubject:
        """Who the export is of, audited (committed) before anything is read out."""
        async with self._uow() as uow:
            customer = await _survivor(uow, customer_id)
            ids = await _with_merged(uow, customer.id)
            now = self._clock.now()
            await audit.record(uow, at=now, actor=actor, action=AuditAction.CUSTOMER_EXPORTED,
                               subject_kind="customer", subject_id=customer.id,
                               customer_id=customer.id,
                               details={"requested_id": customer_id,
                                        "customer_ids": list(ids)})
            await uow.commit()
        return ExportSubject(requested_id=customer_id, customer=customer, customer_ids=ids,
                             exported_at=now)

    async def records(self, subject: ExportSubject) -> AsyncGenerator[ExportItem, None]:
        """The export's content in order (close the generator when done)."""
        found = _Found()
        async with self._read_uow() as uow:
            for section in (_profile, _contacts, _cases, _chats, _calls, _surveys, _notes,
                            _audit, _files):
                async for item in section(uow, subject.customer_ids, found, subject):
                    yield item


@dataclasses.dataclass
class _Found:
    """What a later section needs from an earlier one."""

    case_ids: list[str] = dataclasses.field(default_factory=list)
    files: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (path, key)


Items = AsyncGenerator[ExportItem, None]


async def _profile(uow: UnitOfWork, ids: tuple[str, ...], found: _Found,
                   subject: ExportSubject) -> Items:
    yield Section("customer", many=False)
    yield Record(plain(subject.customer))
    yield Section("merged_customers")
    for merged_id in ids[1:]:
        if merged := await uow.customers.get(merged_id):
            yield Record(plain(merged))


async def _contacts(uow: UnitOfWork, ids: tuple[str, ...], found: _Found,
                    subject: ExportSubject) -> Items:
    yield Section("contacts")
    for customer_id in ids:
        cursor: str | None = None
        while True:
            page = await uow.contacts.timeline(customer_id, limit=PAGE, cursor=cursor)
            for contact in page.contacts:
                files = _files_of(contact)
                found.files.extend(files)
                yield Record({**plain(contact), "files": [path for path, _ in files]})
            if (cursor := page.next_cursor) is None:
                break


async def _cases(uow: UnitOfWork, ids: tuple[str, ...], found: _Found,
                 subject: ExportSubject) -> Items:
    yield Section("cases")
    for customer_id in ids:
        cursor: str | None = None
        while True:
            page, cursor = await uow.cases.page(status=None, queue_id=None,
                                                customer_id=customer_id, limit=PAGE,
                                                cursor=cursor)
            for case in page:
                found.case_ids.append(case.id)
                yield Record(plain(case))
            if cursor is None:
                break


async def _chats(uow: UnitOfWork, ids: tuple[str, ...], found: _Found,
                 subject: ExportSubject) -> Items:
    yield Section("chats")
    for conversation in await uow.chat.conversations_for_customers(ids):
        messages: list[dict[str, Any]] = []
        seq = 0
        while batch := await uow.chat.messages_after(conversation.id, seq, limit=PAGE):
            messages.extend(plain(m) for m in batch)
            seq = batch[-1].seq
        yield Record({**plain(conversation), "messages": messages})


async def _calls(uow: UnitOfWork, ids: tuple[str, ...], found: _Found,
                 subject: ExportSubject) -> Items:
    yield Section("calls")
    for call in await uow.calls.for_customers(ids):
        yield Record(plain(call))


async def _surveys(uow: UnitOfWork, ids: tuple[str, ...], found: _Found,
                   subject: ExportSubject) -> Items:
    yield Section("survey_preferences")
    for customer_id in ids:
        if survey_subject := await uow.surveys.subject(customer_id):
            yield Record(plain(survey_subject))
    yield Section("surveys")
    for customer_id in ids:
        for response in await uow.surveys.responses_for_customer(customer_id, limit=10_000):
            yield Record(plain(response))


async def _notes(uow: UnitOfWork, ids: tuple[str, ...], found: _Found,
                 subject: ExportSubject) -> Items:
    yield Section("notes")
    for case_id in found.case_ids:
        for note in await uow.notes.for_case(case_id, limit=10_000):
            yield Record(plain(note))


async def _audit(uow: UnitOfWork, ids: tuple[str, ...], found: _Found,
                 subject: ExportSubject) -> Items:
    yield Section("audit")
    async for entry in uow.audit.stream(AuditFilter(customer_ids=ids)):
        yield Record(plain(entry))


async def _files(uow: UnitOfWork, ids: tuple[str, ...], found: _Found,
                 subject: ExportSubject) -> Items:
    for path, key in found.files:
        content = await uow.blobs.get(key)
        if content is not None:
            yield File(path, content)


async def _survivor(uow: UnitOfWork, customer_id: str) -> Customer:
    customer = await uow.customers.get(customer_id)
    for _ in range(_MAX_MERGE_DEPTH):
        if customer is None:
            raise NotFound("customer", customer_id)
        if customer.merged_into is None:
            return customer
        customer = await uow.customers.get(customer.merged_into)
    raise NotFound("customer", customer_id)  # a merge cycle: no record to export


async def _with_merged(uow: UnitOfWork, survivor_id: str) -> tuple[str, ...]:
    found = [survivor_id]
    frontier = [survivor_id]
    while frontier and len(found) < 10_000:
        frontier = [i for i in await uow.customers.merged_into(frontier) if i not in found]
        found.extend(frontier)
    return tuple(found)


def _files_of(contact: Contact) -> list[tuple[str, str]]:
    folder = f"files/{contact.id}"
    found: list[tuple[str, str]] = []
    if contact.raw_ref:
        found.append((f"{folder}/original.eml", contact.raw_ref))
    if html := contact.metadata.get("html_ref"):
        found.append((f"{folder}/body.html", html))
    for index, attachment in enumerate(contact.attachments, start=1):
        if attachment.storage_key:
            found.append((f"{folder}/attachments/{index:02d}-{safe_name(attachment.filename)}",
                          attachment.storage_key))
    return found


def safe_name(filename: str) -> str:
    """A file name that means the same on every system and cannot leave its folder."""
    name = re.sub(r"[^\w.\-]+", "_", filename, flags=re.ASCII).lstrip("._")[:100]
    return name or "attachment"


def plain(value: object) -> Any:
    """A record as JSON values: dataclasses field by field, enums by value, times in ISO."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(plain(k)): plain(v) for k, v in value.items()}
    if isinstance(value, Sequence | set | frozenset):
        return [plain(v) for v in value]
    return str(value)
