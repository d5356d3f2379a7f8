"""The satisfaction survey by e-mail: a short automatic message with a personal link
(``{public_url}/survey/{token}``), queued through the outbound-mail outbox in the
transaction that creates the invitation, so it is sent once, with retries.

The link is a credential (whoever has it can answer), so the copy on the customer's
timeline says a survey was sent without it — as the phone channel's code mail does. The
mail is ``Auto-Submitted: auto-generated`` (RFC 3834): auto-responders do not answer it.
"""

from __future__ import annotations

from dataclasses import dataclass

from channels.email.queueing import QueuedMail, SenderIdentity, envelope, new_outbound_id
from channels.email.templates import survey_invitation
from core.domain.channels import Channel, ChannelRef, Direction
from core.domain.contact import Case, Contact
from core.domain.ids import new_id
from core.domain.messaging import DeliveryState, MessageRef, OutboundKind, OutboundMessage
from core.domain.surveys import Invitation
from core.ports import UnitOfWork

SURVEY_PATH = "/survey/"
_HIDDEN_LINK = {"nl": "[persoonlijke link, niet bewaard]",
                "en": "[personal link, not kept]"}


def survey_link(public_url: str, token: str) -> str:
    return public_url.rstrip("/") + SURVEY_PATH + token


@dataclass(frozen=True)
class SurveyMailer:
    """Implements ``core.services.surveys.InvitationMailer``."""

    sender: SenderIdentity | None
    can_send: bool
    public_url: str | None

    @property
    def ready(self) -> bool:
        return self.sender is not None and self.can_send and bool(self.public_url)

    async def queue(self, uow: UnitOfWork, *, invitation: Invitation, token: str,
                    to_address: str, to_name: str | None, case: Case) -> str:
        assert self.sender is not None and self.public_url is not None
        sender = self.sender
        link = survey_link(self.public_url, token)
        text = survey_invitation(
            invitation.language, reference=case.reference, name=to_name, link=link,
            valid_days=max(1, (invitation.expires_at - invitation.created_at).days),
            organisation=sender.name or "Klantenservice")
        now = invitation.created_at
        message_id = new_outbound_id(sender)
        contact = Contact(
            id=new_id("con"), ref=ChannelRef(channel=Channel.EMAIL, external_id=message_id),
            direction=Direction.OUTBOUND, customer_id=invitation.customer_id,
            case_id=case.id, occurred_at=now, received_at=now, from_name=sender.name,
            from_address=sender.address, subject=text.subject,
            body=text.text.replace(link, _HIDDEN_LINK.get(invitation.language,
                                                          _HIDDEN_LINK["nl"])),
            metadata={"message_id": message_id, "kind": "survey",
                      "survey_id": invitation.id,
                      "delivery_state": DeliveryState.QUEUED.value})
        await uow.contacts.add(contact)
        mail = QueuedMail(kind=OutboundKind.ACKNOWLEDGEMENT, sender=sender,
                          to_address=to_address, to_name=to_name, subject=text.subject,
                          text=text.text)
        await uow.outbound.add(OutboundMessage(
            id=new_id("out"), channel=Channel.EMAIL.value, kind=OutboundKind.ACKNOWLEDGEMENT,
            contact_id=contact.id, case_id=case.id, message_id=message_id,
            recipient=to_address,
            envelope={**envelope(mail, date=now), "auto_submitted": "auto-generated"},
            next_attempt_at=now, created_at=now))
        # A reply to the survey mail threads onto its case, like a reply to any of ours.
        await uow.message_refs.add([MessageRef(
            channel=Channel.EMAIL.value, message_id=message_id, contact_id=contact.id,
            case_id=case.id, customer_id=invitation.customer_id,
            direction=Direction.OUTBOUND)])
        return message_id
