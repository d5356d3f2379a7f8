"""Putting an e-mail in the outbox: the envelope the delivery worker rebuilds it from on every
attempt (so each retry is the same message, with the same Message-ID), and the references
that let the customer's answer find its case again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address, AddressHeader

from channels.email.compose import domain_of, new_message_id
from core.domain.channels import Channel, ChannelRef, Direction
from core.domain.contact import Contact
from core.domain.ids import new_id
from core.domain.messaging import DeliveryState, MessageRef, OutboundKind, OutboundMessage
from core.ports import UnitOfWork

EMAIL = Channel.EMAIL.value


@dataclass(frozen=True, slots=True)
class SenderIdentity:
    """Who our mail comes from: ``"Klantenservice <support@example.nl>"``."""

    address: str
    name: str | None

    @classmethod
    def parse(cls, value: str) -> SenderIdentity:
        header = policy.default.header_factory("from", value)
        if not isinstance(header, AddressHeader) or len(header.addresses) != 1 \
                or header.defects or not header.addresses[0].domain:  # type: ignore[attr-defined]
            raise ValueError(f"SWITCHBOARD_MAIL_FROM is not one address: {value!r}")
        found: Address = header.addresses[0]
        return cls(address=found.addr_spec, name=found.display_name or None)

    @property
    def domain(self) -> str:
        return domain_of(self.address)

    def with_address(self, address: str | None) -> SenderIdentity:
        return SenderIdentity(address=address, name=self.name) if address else self


@dataclass(frozen=True, slots=True, kw_only=True)
class QueuedMail:
    """What to send; ``attachments`` name blobs already stored."""

    kind: OutboundKind
    sender: SenderIdentity
    to_address: str
    to_name: str | None
    subject: str
    text: str
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    attachments: tuple[tuple[str, str, str], ...] = ()  # (filename, content type, blob key)


def envelope(mail: QueuedMail, *, date: datetime) -> dict[str, object]:
    return {
        "from": mail.sender.address, "from_name": mail.sender.name,
        "to": mail.to_address, "to_name": mail.to_name, "subject": mail.subject,
        "text": mail.text, "in_reply_to": mail.in_reply_to,
        "references": list(mail.references), "date": date.isoformat(),
        "auto_submitted": "auto-replied" if mail.kind is OutboundKind.ACKNOWLEDGEMENT else None,
        "attachments": [{"filename": f, "content_type": t, "blob": b}
                        for f, t, b in mail.attachments],
    }


def new_outbound_id(sender: SenderIdentity) -> str:
    return new_message_id(sender.domain)


async def queue_mail(uow: UnitOfWork, mail: QueuedMail, *, message_id: str, contact_id: str,
                     case_id: str | None, customer_id: str, now: datetime) -> OutboundMessage:
    """Queue ``mail`` for delivery in the caller's transaction; the contact already exists."""
    message = OutboundMessage(
        id=new_id("out"), channel=EMAIL, kind=mail.kind, contact_id=contact_id,
        case_id=case_id, message_id=message_id, recipient=mail.to_address,
        envelope=envelope(mail, date=now), next_attempt_at=now, created_at=now)
    await uow.outbound.add(message)
    await uow.message_refs.add([MessageRef(
        channel=EMAIL, message_id=message_id, contact_id=contact_id, case_id=case_id,
        customer_id=customer_id, direction=Direction.OUTBOUND)])
    return message


async def queue_automatic(uow: UnitOfWork, *, sender: SenderIdentity, to_address: str,
                          to_name: str | None, subject: str, text: str, customer_id: str,
                          case_id: str, source: str, now: datetime,
                          in_reply_to: str | None = None) -> str:
    """An acknowledgement or confirmation: on the timeline like anything we send, but no
    answer (it does not stop the first-response clock), marked Auto-Submitted. Returns its
    Message-ID."""
    message_id = new_outbound_id(sender)
    contact = Contact(
        id=new_id("con"), ref=ChannelRef(channel=Channel.EMAIL, external_id=message_id),
        direction=Direction.OUTBOUND, customer_id=customer_id, case_id=case_id,
        occurred_at=now, received_at=now, from_name=sender.name, from_address=sender.address,
        subject=subject, body=text,
        metadata={"mailbox": source, "message_id": message_id,
                  "kind": OutboundKind.ACKNOWLEDGEMENT.value,
                  "delivery_state": DeliveryState.QUEUED.value})
    await uow.contacts.add(contact)
    await queue_mail(uow, QueuedMail(
        kind=OutboundKind.ACKNOWLEDGEMENT, sender=sender, to_address=to_address,
        to_name=to_name, subject=subject, text=text, in_reply_to=in_reply_to,
        references=(in_reply_to,) if in_reply_to else ()),
        message_id=message_id, contact_id=contact.id, case_id=case_id,
        customer_id=customer_id, now=now)
    return message_id
