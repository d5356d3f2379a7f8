"""Phone self-service: "link this number to my customer number", proven by a code e-mailed
to the address on the customer's record (``core.services.identity_links`` keeps the rules).

The caller types their customer number and ``#``; we say where the code went (masked) and
ask for it; a right code links the number as a verified phone identifier, so the next call
is recognised before anyone answers. The e-mail is queued in the same transaction as the
attempt; its copy on the timeline says a code was sent, never the code.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from twilio.twiml.voice_response import VoiceResponse

from channels.email.queueing import QueuedMail, SenderIdentity, new_outbound_id, queue_mail
from channels.voice import twiml
from channels.voice.menu import Language, Menu
from core.domain.channels import Channel, ChannelRef, Direction
from core.domain.clock import Clock
from core.domain.contact import Contact
from core.domain.ids import new_id
from core.domain.messaging import DeliveryState, OutboundKind
from core.domain.verification import CheckOutcome, StartRefusal
from core.ports import UnitOfWork
from core.services.identity_links import Challenge, IdentityLinks

LINK_NUMBER_NODE = "_link_number"
LINK_CODE_NODE = "_link_code"

_LINES: dict[str, tuple[str, str]] = {
    "ask_number": ("Toets uw klantnummer, gevolgd door een hekje.",
                   "Please enter your customer number, followed by the hash key."),
    "withheld": ("Uw nummer is afgeschermd; daarom kunnen we het niet koppelen.",
                 "Your number is withheld, so we cannot link it."),
    "code_sent": ("We hebben een code van zes cijfers gestuurd naar {address}. Toets de code, "
                  "gevolgd door een hekje.", "We have sent a six-digit code to {address}. "
                  "Please enter the code, followed by the hash key."),
    "unknown_number": ("Dat klantnummer kennen we niet.",
                       "We do not know that customer number."),
    "no_address": ("We hebben geen e-mailadres van u om een code naar te sturen; een "
                   "medewerker helpt u graag.", "We have no e-mail address to send you a "
                   "code; an agent will be glad to help."),
    "taken": ("Dit telefoonnummer hoort bij een ander klantnummer; een medewerker helpt u "
              "graag.", "This phone number belongs to another customer number; an agent "
              "will be glad to help."),
    "already_linked": ("Dit telefoonnummer is al gekoppeld aan uw klantnummer.",
                       "This phone number is already linked to your customer number."),
    "too_many": ("Er zijn al te veel codes gestuurd. Probeer het over een uur opnieuw.",
                 "Too many codes have been sent. Please try again in an hour."),
    "no_mail": ("Dit kan nu niet via de telefoon; een medewerker helpt u graag.",
                "This is not possible by phone right now; an agent will be glad to help."),
    "linked": ("Dank u. Uw telefoonnummer is gekoppeld aan uw klantnummer.",
               "Thank you. Your phone number is now linked to your customer number."),
    "wrong": ("Die code klopt niet. Probeer het nog eens.",
              "That code is not right. Please try again."),
    "code_again": ("Toets de code, gevolgd door een hekje.",
                   "Please enter the code, followed by the hash key."),
    "expired": ("De code is verlopen.", "The code has expired."),
    "exhausted": ("De code is te vaak verkeerd ingevoerd.",
                  "The code was entered wrongly too often."),
}
_REFUSALS = {StartRefusal.UNKNOWN_NUMBER: "unknown_number",
             StartRefusal.NO_ADDRESS: "no_address", StartRefusal.TAKEN: "taken",
             StartRefusal.ALREADY_LINKED: "already_linked", StartRefusal.TOO_MANY: "too_many"}
_MAIL = {
    "nl": ("Uw verificatiecode",
           "Beste {name},\n\nU vroeg telefonisch om telefoonnummer {phone} aan uw klantnummer "
           "te koppelen. Uw code is:\n\n    {code}\n\nDe code is tien minuten geldig. Vroeg u "
           "hier niet om? Dan kunt u deze e-mail negeren: er is niets gewijzigd.",
           "Verificatiecode gestuurd om {phone} te koppelen (code niet bewaard)."),
    "en": ("Your verification code",
           "Dear {name},\n\nYou asked by phone to link the number {phone} to your customer "
           "number. Your code is:\n\n    {code}\n\nThe code is valid for ten minutes. Did you "
           "not ask for this? Then ignore this e-mail: nothing has changed.",
           "Verification code sent to link {phone} (the code is not kept)."),
}


def line(key: str, language: Language, **values: object) -> str:
    nl, en = _LINES[key]
    return (en if language == "en" else nl).format(**values)


@dataclass(frozen=True, slots=True)
class CodeStep:
    linked_customer_id: str | None
    asking_again: bool


@dataclass(frozen=True)
class CodeMail:
    """How codes are e-mailed, if at all."""

    sender: SenderIdentity | None
    can_send: bool
    wake: asyncio.Event


class PhoneVerification:
    def __init__(self, *, links: IdentityLinks, mail: CodeMail, clock: Clock) -> None:
        self._links = links
        self._mail = mail
        self._clock = clock

    def ask_number(self, response: VoiceResponse, menu: Menu, language: Language) -> str:
        gather = response.gather(
            input="dtmf", finish_on_key="#", timeout=menu.timeout_s + 4, method="POST",
            action=twiml.url("menu", node=LINK_NUMBER_NODE, lang=language),
            action_on_empty_result=True)
        twiml.say(gather, menu, language, line("ask_number", language))
        return twiml.xml(response)

    async def number_entered(self, response: VoiceResponse, menu: Menu, language: Language,
                             *, sid: str, phone: str, digits: str) -> bool:
        """Send a code and ask for it (True), or say why not (False: back to the menu)."""
        if not phone.startswith("+"):
            twiml.say(response, menu, language, line("withheld", language))
            return False
        if self._mail.sender is None or not self._mail.can_send:
            twiml.say(response, menu, language, line("no_mail", language))
            return False
        started = await self._links.start(reference=sid, customer_number=digits.strip("#*"),
                                          phone=phone, send=self._send)
        if isinstance(started, StartRefusal):
            twiml.say(response, menu, language, line(_REFUSALS[started], language))
            return False
        self._mail.wake.set()
        gather = response.gather(
            input="dtmf", finish_on_key="#", num_digits=6, timeout=menu.timeout_s + 10,
            method="POST", action=twiml.url("menu", node=LINK_CODE_NODE, lang=language),
            action_on_empty_result=True)
        twiml.say(gather, menu, language, line(
            "code_sent", language, address=started.masked_address.replace("…", " ... ")))
        return True

    async def code_entered(self, response: VoiceResponse, menu: Menu, language: Language,
                           *, sid: str, phone: str, digits: str) -> CodeStep:
        """Link on a right code, else say why and maybe ask again."""
        outcome, customer_id = await self._links.check(
            reference=sid, code=digits.strip("#*"), by=f"caller {phone}",
            via="phone self-service")
        if outcome is CheckOutcome.LINKED:
            twiml.say(response, menu, language, line("linked", language))
            return CodeStep(linked_customer_id=customer_id, asking_again=False)
        if outcome is CheckOutcome.WRONG:
            twiml.say(response, menu, language, line("wrong", language))
            gather = response.gather(
                input="dtmf", finish_on_key="#", num_digits=6, timeout=menu.timeout_s + 10,
                method="POST", action=twiml.url("menu", node=LINK_CODE_NODE, lang=language),
                action_on_empty_result=True)
            twiml.say(gather, menu, language, line("code_again", language))
            return CodeStep(linked_customer_id=None, asking_again=True)
        if outcome is not CheckOutcome.NONE:
            twiml.say(response, menu, language, line(
                "expired" if outcome is CheckOutcome.EXPIRED else "exhausted", language))
        return CodeStep(linked_customer_id=None, asking_again=False)

    async def _send(self, uow: UnitOfWork, challenge: Challenge) -> None:
        assert self._mail.sender is not None
        language = "en" if challenge.language == "en" else "nl"
        subject, text, note = _MAIL[language]
        now = self._clock.now()
        sender = self._mail.sender
        message_id = new_outbound_id(sender)
        contact = Contact(
            id=new_id("con"), ref=ChannelRef(channel=Channel.EMAIL, external_id=message_id),
            direction=Direction.OUTBOUND, customer_id=challenge.customer_id, case_id=None,
            occurred_at=now, received_at=now, from_name=sender.name,
            from_address=sender.address, subject=subject,
            body=note.format(phone=challenge.phone),
            metadata={"message_id": message_id, "kind": OutboundKind.ACKNOWLEDGEMENT.value,
                      "delivery_state": DeliveryState.QUEUED.value})
        await uow.contacts.add(contact)
        await queue_mail(uow, QueuedMail(
            kind=OutboundKind.ACKNOWLEDGEMENT, sender=sender, to_address=challenge.address,
            to_name=challenge.display_name or None, subject=subject,
            text=text.format(name=challenge.display_name or ("klant" if language == "nl"
                                                              else "customer"),
                             phone=challenge.phone, code=challenge.code)),
            message_id=message_id, contact_id=contact.id, case_id=None,
            customer_id=challenge.customer_id, now=now)
