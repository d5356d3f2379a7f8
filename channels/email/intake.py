"""One inbound message, start to end: parse, decide, and store exactly once.

    raw bytes ─ too big / unparseable ──────────────► quarantine (raw kept), never retried
              ├ a bounce (DSN) ─────────────────────► linked to the outbound message it returns
              ├ from one of our own addresses ──────► ignored (a loop)
              ├ no valid sender ────────────────────► quarantine
              └ otherwise ─► contact on the sender's customer, on the case its references
                             name *if that case is theirs*, else a new case (automatic mail:
                             no new case); raw bytes, attachments, message references and an
                             acknowledgement stored in the contact's own transaction

Storing is idempotent on :func:`dedupe_key`, so a poller that dies anywhere, or a mailbox
whose UIDVALIDITY changed, can hand the same message in again without doubling it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from channels.email.dedupe import dedupe_key
from channels.email.parsing import AutoKind, ParsedMail, Unparseable, parse_message
from channels.email.queueing import EMAIL, SenderIdentity, queue_automatic
from channels.email.templates import acknowledgement
from core.config import MailboxSettings
from core.domain.channels import Channel, Direction
from core.domain.clock import Clock
from core.domain.commands import IngestContact, Party
from core.domain.contact import AttachmentMeta, CaseType
from core.domain.errors import InvalidInput
from core.domain.events import DeliveryChanged, ItemQuarantined
from core.domain.ids import new_id
from core.domain.messaging import (
    DeliveryState,
    MessageRef,
    OutboundKind,
    QuarantinedItem,
    QuarantineStatus,
    content_key,
)
from core.domain.privacy import OutboundPurpose
from core.ports import UnitOfWork, UnitOfWorkFactory
from core.services.consent import refusal as consent_refusal
from core.services.ingest import ContactIngestion, IngestResult
from routing.classification import detect_language

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3  # then the message is quarantined and the mailbox moves on
PARSE_IN_THREAD_BYTES = 256 * 1024  # bigger messages are parsed off the event loop
SUMMARY_CHARS = 2000
# A sender's Date: header is believed within this window; outside it, arrival time counts.
DATE_PAST = timedelta(days=30)
DATE_FUTURE = timedelta(minutes=15)
_DIAGNOSTIC = re.compile(rb"^(?:Diagnostic-Code|Status):[ \t]*([^\r\n]{1,300})", re.M | re.I)


class Outcome(StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"
    BOUNCE = "bounce"
    IGNORED = "ignored"
    QUARANTINED = "quarantined"


@dataclass(frozen=True, slots=True, kw_only=True)
class Accepted:
    outcome: Outcome
    contact_id: str | None = None
    case_id: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class IntakeSettings:
    sender: SenderIdentity | None  # None: no acknowledgements can be sent
    own_addresses: frozenset[str]  # lower-cased; mail from these is a loop
    max_bytes: int
    ack_per_sender_per_hour: int
    organisation: str = "Klantenservice"


class MailIntake:
    def __init__(self, *, mailbox: MailboxSettings, settings: IntakeSettings,
                 uow: UnitOfWorkFactory, ingestion: ContactIngestion, clock: Clock) -> None:
        self._mailbox = mailbox
        self._settings = settings
        self._uow = uow
        self._ingestion = ingestion
        self._clock = clock
        self._source = f"imap:{mailbox.name}"

    @property
    def source(self) -> str:
        return self._source

    async def accept(self, raw: bytes, *, item_ref: str) -> Accepted:
        """Take one message in. Raises only for failures worth retrying (the database)."""
        if len(raw) > self._settings.max_bytes:
            # Too big to keep: the mailbox still has it; the quarantine says where.
            return await self._quarantine(
                item_ref, None, f"message of {len(raw)} bytes exceeds the limit of "
                f"{self._settings.max_bytes}")
        try:
            parsed = await _parse(raw)
        except Unparseable as err:
            return await self._quarantine(item_ref, raw, f"unparseable: {err.reason}")
        if parsed.auto_kind is AutoKind.BOUNCE:
            return await self._bounce(raw, parsed)
        sender = parsed.from_address
        if sender is None:
            return await self._quarantine(item_ref, raw, "no single valid sender address")
        if sender.lower() in self._settings.own_addresses:
            log.warning("mailbox %s: ignored mail from our own address (a loop?)",
                        self._mailbox.name)
            return Accepted(outcome=Outcome.IGNORED, reason="from our own address")
        try:
            result = await self._store(raw, parsed, sender)
        except InvalidInput as err:
            return await self._quarantine(item_ref, raw, f"rejected: {err}")
        outcome = Outcome.DUPLICATE if result.duplicate else Outcome.STORED
        return Accepted(outcome=outcome, contact_id=result.contact_id, case_id=result.case_id)

    async def record_failure(self, item_ref: str, raw: bytes | None,
                             error: BaseException) -> QuarantinedItem:
        """Count a failed attempt at a message; on the last one it is quarantined."""
        reason = f"failed: {type(error).__name__}"
        async with self._uow() as uow:
            raw_ref = await uow.blobs.put(raw) if raw is not None else None
            item = await uow.quarantine.record_failure(
                channel=EMAIL, source=self._source, item_ref=item_ref, raw_ref=raw_ref,
                reason=reason, give_up=False, max_attempts=MAX_ATTEMPTS)
            if item.status is QuarantineStatus.QUARANTINED:
                uow.outbox.add([_quarantined_event(item)])
            await uow.commit()
        return item

    # --- the cases --------------------------------------------------------------------

    async def _quarantine(self, item_ref: str, raw: bytes | None, reason: str) -> Accepted:
        log.warning("mailbox %s: message %s quarantined: %s", self._mailbox.name, item_ref,
                    reason)
        async with self._uow() as uow:
            raw_ref = await uow.blobs.put(raw) if raw is not None else None
            item = await uow.quarantine.record_failure(
                channel=EMAIL, source=self._source, item_ref=item_ref, raw_ref=raw_ref,
                reason=reason, give_up=True, max_attempts=MAX_ATTEMPTS)
            uow.outbox.add([_quarantined_event(item)])
            await uow.commit()
        return Accepted(outcome=Outcome.QUARANTINED, reason=reason)

    async def _bounce(self, raw: bytes, parsed: ParsedMail) -> Accepted:
        """A returned message is news about one we sent, never a new case."""
        reason = _diagnostic(raw) or parsed.subject or "returned by the receiving server"
        async with self._uow() as uow:
            raw_ref = await uow.blobs.put(raw)
            original = (await uow.outbound.get(parsed.bounced_message_id)
                        if parsed.bounced_message_id else None)
            if original is None:
                log.info("mailbox %s: a bounce for a message we did not send; kept, not filed",
                         self._mailbox.name)
                await uow.commit()
                return Accepted(outcome=Outcome.BOUNCE, reason="not one of our messages")
            original.bounced(f"bounced: {reason}")
            await uow.outbound.save(original)
            await uow.contacts.update_metadata(original.contact_id, {
                "delivery_state": DeliveryState.BOUNCED.value,
                "delivery_error": original.last_error or "",
                # The returned message quotes the customer's address: erasure and the
                # raw-mail retention term find it here.
                "bounce_ref": raw_ref})
            uow.outbox.add([DeliveryChanged(
                contact_id=original.contact_id, case_id=original.case_id, channel=EMAIL,
                state=DeliveryState.BOUNCED.value, reason=original.last_error)])
            await uow.commit()
        return Accepted(outcome=Outcome.BOUNCE, contact_id=original.contact_id,
                        case_id=original.case_id, reason=reason)

    async def _store(self, raw: bytes, parsed: ParsedMail, sender: str) -> IngestResult:
        automatic = parsed.auto_kind is not AutoKind.NONE
        blobs = [raw] + [a.content for a in parsed.attachments]
        raw_ref = content_key(raw)
        attachments = tuple(
            AttachmentMeta(id=new_id("att"), filename=a.filename or "attachment",
                           content_type=a.content_type, size_bytes=a.size,
                           storage_key=content_key(a.content))
            for a in parsed.attachments)
        now = self._clock.now()
        command = IngestContact(
            channel=Channel.EMAIL, direction=Direction.INBOUND,
            external_id=dedupe_key(raw, parsed.message_id),
            party=Party(name=parsed.from_name, email=sender),
            occurred_at=_believable(parsed.date, now), subject=parsed.subject or None,
            summary=(parsed.new_text or parsed.text)[:SUMMARY_CHARS] or None,
            body=parsed.text or None, from_address=sender, attachments=attachments,
            raw_ref=raw_ref, metadata=self._metadata(parsed),
            thread_case_ids=await self._thread_candidates(parsed),
            open_case=not automatic, reopen=not automatic,
            case_type=CaseType(self._mailbox.case_type) if self._mailbox.case_type else None,
            queue_id=self._mailbox.queue, tags=self._mailbox.tags)

        async def in_same_transaction(uow: UnitOfWork, result: IngestResult) -> None:
            for content in blobs:
                await uow.blobs.put(content)
            if parsed.html:
                await uow.blobs.put(parsed.html.encode())
            if parsed.message_id:
                await uow.message_refs.add([MessageRef(
                    channel=EMAIL, message_id=parsed.message_id, contact_id=result.contact_id,
                    case_id=result.case_id, customer_id=result.customer_id,
                    direction=Direction.INBOUND)])
            if result.case_created and not automatic and self._mailbox.acknowledge:
                await self._acknowledge(uow, parsed, sender, result)

        return await self._ingestion.ingest(command, also=in_same_transaction)

    def _metadata(self, parsed: ParsedMail) -> tuple[tuple[str, str], ...]:
        facts = {"mailbox": self._mailbox.name,
                 "language": detect_language(f"{parsed.subject}\n{parsed.new_text}")}
        if parsed.message_id:
            facts["message_id"] = parsed.message_id
        if parsed.auto_kind is not AutoKind.NONE:
            facts["auto"] = parsed.auto_kind.value
        if parsed.html:
            facts["html_ref"] = content_key(parsed.html.encode())
        if parsed.truncated:
            facts["truncated"] = "true"
        if parsed.skipped_attachments:
            facts["skipped_attachments"] = "; ".join(parsed.skipped_attachments)[:1000]
        if parsed.case_reference:
            facts["case_reference"] = parsed.case_reference
        return tuple(facts.items())

    async def _thread_candidates(self, parsed: ParsedMail) -> tuple[str, ...]:
        """Cases this message says it continues, most specific first. Each is only a claim:
        ingestion continues one only if it belongs to the sender's customer."""
        referenced = [parsed.in_reply_to] if parsed.in_reply_to else []
        referenced += [r for r in reversed(parsed.references) if r != parsed.in_reply_to]
        case_ids: list[str] = []
        async with self._uow() as uow:
            found = await uow.message_refs.find(EMAIL, referenced[:50])
            by_id: dict[str, list[MessageRef]] = {}
            for ref in found:
                by_id.setdefault(ref.message_id, []).append(ref)
            for message_id in referenced:
                case_ids += [r.case_id for r in by_id.get(message_id, []) if r.case_id]
            if parsed.case_reference:
                case = await uow.cases.get_by_number(int(parsed.case_reference[3:]))
                if case is not None:
                    case_ids.append(case.id)
        return tuple(dict.fromkeys(case_ids))

    async def _acknowledge(self, uow: UnitOfWork, parsed: ParsedMail, to_address: str,
                           result: IngestResult) -> None:
        identity = self._settings.sender
        if identity is None or result.case_id is None:
            return
        now = self._clock.now()
        recent = await uow.outbound.count_recent(
            recipient=to_address, kind=OutboundKind.ACKNOWLEDGEMENT,
            since=now - timedelta(hours=1))
        if recent >= self._settings.ack_per_sender_per_hour:
            log.info("mailbox %s: acknowledgement limit reached for a sender",
                     self._mailbox.name)
            return
        case = await uow.cases.get(result.case_id)
        if case is None:
            return
        # An automatic mail the customer did not ask for: a withdrawn e-mail consent stops
        # it (the agent's answer still goes: that is a reply to their own message).
        refused = await consent_refusal(uow, result.customer_id,
                                        OutboundPurpose.AUTOMATIC_MAIL)
        if refused is not None:
            log.info("mailbox %s: no acknowledgement: %s", self._mailbox.name, refused)
            return
        sender = identity.with_address(self._mailbox.address)
        language = detect_language(f"{parsed.subject}\n{parsed.new_text}")
        text = acknowledgement(language, reference=case.reference,
                               subject=f"{parsed.subject} [#{case.reference}]".strip(),
                               name=parsed.from_name, organisation=sender.name or
                               self._settings.organisation)
        await queue_automatic(
            uow, sender=sender, to_address=to_address, to_name=parsed.from_name,
            subject=text.subject, text=text.text, customer_id=result.customer_id,
            case_id=case.id, source=self._mailbox.name, now=now,
            in_reply_to=parsed.message_id)


async def _parse(raw: bytes) -> ParsedMail:
    if len(raw) > PARSE_IN_THREAD_BYTES:
        return await asyncio.to_thread(parse_message, raw)
    return parse_message(raw)


def _believable(date: datetime | None, now: datetime) -> datetime:
    if date is None or not now - DATE_PAST <= date <= now + DATE_FUTURE:
        return now
    return date


def _diagnostic(raw: bytes) -> str | None:
    found = [m.group(1).decode("utf-8", "replace").strip()
             for m in _DIAGNOSTIC.finditer(raw[:1_000_000])]
    return "; ".join(found[:2])[:300] or None


def _quarantined_event(item: QuarantinedItem) -> ItemQuarantined:
    return ItemQuarantined(item_id=item.id, channel=item.channel, source=item.source,
                           reason=item.reason)
