"""An agent's e-mail reply on a case: addressed to the customer's last message, threaded so
their mail client files it with the conversation, queued in the contact's own transaction.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from channels.email.compose import references_for, reply_subject
from channels.email.queueing import QueuedMail, SenderIdentity, new_outbound_id, queue_mail
from core.domain.channels import Channel, Direction
from core.domain.clock import Clock
from core.domain.commands import IngestContact, Party
from core.domain.contact import AttachmentMeta, Contact
from core.domain.errors import Conflict, InvalidInput, NotFound
from core.domain.events import ConversationEnded
from core.domain.ids import new_id
from core.domain.messaging import DeliveryState, OutboundKind, content_key
from core.ports import UnitOfWork, UnitOfWorkFactory
from core.services.ingest import ContactIngestion, IngestResult
from routing.classification import detect_language

MAX_ATTACHMENTS = 10
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_TOTAL_BYTES = 20 * 1024 * 1024
MAX_BODY_CHARS = 100_000
QUOTED_CHARS = 4000
_QUOTE_HEADER = {"nl": "Op {date} schreef {name}:", "en": "On {date}, {name} wrote:"}


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyAttachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class QueuedReply:
    contact_id: str
    message_id: str
    to_address: str
    subject: str
    state: DeliveryState


class EmailReplies:
    def __init__(self, *, uow: UnitOfWorkFactory, ingestion: ContactIngestion, clock: Clock,
                 sender: SenderIdentity | None, mailbox_addresses: dict[str, str | None],
                 can_send: bool, wake: asyncio.Event) -> None:
        self._uow = uow
        self._ingestion = ingestion
        self._clock = clock
        self._sender = sender
        self._mailbox_addresses = mailbox_addresses
        self._can_send = can_send
        self._wake = wake

    async def reply(self, *, case_id: str, body: str, author: str,
                    attachments: tuple[ReplyAttachment, ...] = ()) -> QueuedReply:
        if self._sender is None or not self._can_send:
            raise Conflict("e-mail replies are not configured: set SWITCHBOARD_SMTP_URL and "
                           "SWITCHBOARD_MAIL_FROM")
        _check(body, attachments)
        async with self._uow() as uow:
            case = await uow.cases.get(case_id)
            if case is None:
                raise NotFound("case", case_id)
            history = await uow.contacts.for_case(case_id, limit=200)
        # Newest first: the customer's last e-mail is what we answer.
        last = next((c for c in history if c.channel is Channel.EMAIL
                     and c.direction is Direction.INBOUND and c.from_address), None)
        if last is None or last.from_address is None:
            raise Conflict(f"case {case.reference} has no e-mail from the customer to reply to")
        sender = self._sender.with_address(
            self._mailbox_addresses.get(last.metadata.get("mailbox", "")))
        message_id = new_outbound_id(sender)
        thread = [c.metadata["message_id"] for c in reversed(history)
                  if c.channel is Channel.EMAIL and c.metadata.get("message_id")]
        parent = last.metadata.get("message_id")
        mail = QueuedMail(
            kind=OutboundKind.REPLY, sender=sender, to_address=last.from_address,
            to_name=last.from_name,
            subject=reply_subject(case.subject or last.subject, case.reference),
            text=_with_quote(body, last), in_reply_to=parent,
            references=references_for([m for m in thread if m != parent], parent),
            attachments=tuple((a.filename, a.content_type, content_key(a.content))
                              for a in attachments))
        now = self._clock.now()

        async def queue(uow: UnitOfWork, result: IngestResult) -> None:
            for attachment in attachments:
                await uow.blobs.put(attachment.content)
            await queue_mail(uow, mail, message_id=message_id, contact_id=result.contact_id,
                             case_id=case_id, customer_id=result.customer_id, now=now)
            # The answer is out: whoever holds the case starts after-contact work.
            uow.outbox.add([ConversationEnded(case_id=case_id, channel=Channel.EMAIL.value,
                                              ended_at=now, reason="reply sent")])

        stored = await self._ingestion.ingest(IngestContact(
            channel=Channel.EMAIL, direction=Direction.OUTBOUND, external_id=message_id,
            party=Party(name=last.from_name, email=last.from_address), occurred_at=now,
            subject=mail.subject, body=mail.text, summary=body[:2000],
            from_address=sender.address, case_id=case_id,
            attachments=tuple(AttachmentMeta(
                id=new_id("att"), filename=a.filename, content_type=a.content_type,
                size_bytes=len(a.content), storage_key=content_key(a.content))
                for a in attachments),
            metadata=(("mailbox", last.metadata.get("mailbox", "")),
                      ("message_id", message_id), ("kind", OutboundKind.REPLY.value),
                      ("author", author), ("delivery_state", DeliveryState.QUEUED.value))),
            also=queue)
        self._wake.set()
        return QueuedReply(contact_id=stored.contact_id, message_id=message_id,
                           to_address=last.from_address, subject=mail.subject,
                           state=DeliveryState.QUEUED)


def _check(body: str, attachments: tuple[ReplyAttachment, ...]) -> None:
    reasons: dict[str, str] = {}
    if not body.strip():
        reasons["body"] = "write something to send"
    elif len(body) > MAX_BODY_CHARS:
        reasons["body"] = f"at most {MAX_BODY_CHARS} characters"
    if len(attachments) > MAX_ATTACHMENTS:
        reasons["attachments"] = f"at most {MAX_ATTACHMENTS} attachments"
    for index, attachment in enumerate(attachments):
        if len(attachment.content) > MAX_ATTACHMENT_BYTES:
            reasons[f"attachments.{index}"] = f"larger than {MAX_ATTACHMENT_BYTES} bytes"
    if sum(len(a.content) for a in attachments) > MAX_TOTAL_BYTES:
        reasons.setdefault("attachments", f"more than {MAX_TOTAL_BYTES} bytes together")
    if reasons:
        raise InvalidInput(reasons)


def _with_quote(body: str, last: Contact) -> str:
    """The reply, then the customer's message quoted the way mail clients do."""
    quoted = (last.summary or last.body or "").strip()[:QUOTED_CHARS]
    if not quoted:
        return body.rstrip() + "\n"
    language = last.metadata.get("language") or detect_language(quoted)
    header = _QUOTE_HEADER.get(language, _QUOTE_HEADER["nl"]).format(
        date=last.occurred_at.strftime("%d-%m-%Y %H:%M"),
        name=last.from_name or last.from_address or "")
    lines = "\n".join(f"> {line}" if line else ">" for line in quoted.splitlines())
    return f"{body.rstrip()}\n\n{header}\n{lines}\n"
