"""Retention with the test clock: each kind of data goes when its term is over and not a
day before, legal holds keep theirs, inactive customers are erased, reports still count
everything, and the privacy worker does it by itself. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from channels.chat.service import new_visitor_id
from channels.email.intake import MailIntake
from core.domain.calls import Call, CallOutcome, CallStatus
from core.domain.channels import Channel, Direction
from core.domain.chat import ChatMessage, ChatSender, Conversation, ConversationStatus
from core.domain.commands import IngestContact, Party, UpdateCase
from core.domain.customer import CustomerStatus
from core.domain.ids import new_id
from core.domain.privacy import LegalHold
from core.ports import VolumeCount
from tests.support.clock import FakeClock
from tests.support.mail import customer_mail, mail_settings
from workers import bootstrap
from workers.runtime import run_workers
from workers.services import Services

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
TERMS = {"retention_raw_mail_days": 30, "retention_recordings_days": 30,
         "retention_chat_transcripts_days": 30, "retention_web_forms_days": 30,
         "retention_closed_cases_days": 60, "retention_inactive_customers_days": 90,
         "retention_batch_size": 10}


@dataclass
class Footprint:
    """One customer's contact on every channel retention knows, at one moment."""

    customer_id: str
    mail_id: str
    raw_ref: str
    form_id: str
    chat_contact_id: str
    conversation_id: str
    call_sid: str
    case_id: str


@dataclass
class Centre:
    services: Services
    clock: FakeClock
    intake: MailIntake

    async def customer(self, name: str, *, closed: bool = True) -> Footprint:
        """``name`` mails, fills in a form, chats and leaves a voicemail, now."""
        address = f"{name.lower()}@example.nl"
        mailed = await self.intake.accept(customer_mail(
            address, f"Vraag van {name}", f"{name} schrijft: de lamp is stuk."),
            item_ref=new_id("uid"))
        assert mailed.contact_id and mailed.case_id
        ingest = self.services.ingestion.ingest
        now = self.clock.now()
        form = await ingest(IngestContact(
            channel=Channel.WEBFORM, direction=Direction.INBOUND, external_id=new_id("frm"),
            party=Party(name=name, email=address), occurred_at=now,
            body=f"{name} vult in: de lamp is stuk", case_id=mailed.case_id))
        said = f"{name} zegt: de lamp is stuk"
        conversation_id = new_id("cnv")
        chat = await ingest(IngestContact(
            channel=Channel.CHAT, direction=Direction.INBOUND, external_id=conversation_id,
            party=Party(email=address), occurred_at=now, summary=said, body=said,
            case_id=mailed.case_id))
        sid = new_id("CA")
        recording = f"https://api.twilio.example/Recordings/{sid}"
        call = await ingest(IngestContact(
            channel=Channel.PHONE, direction=Direction.INBOUND, external_id=sid,
            party=Party(email=address), occurred_at=now, case_id=mailed.case_id,
            metadata=(("recording_url", recording),)))
        async with self.services.uow() as uow:
            await uow.chat.add_conversation(Conversation(
                id=conversation_id, visitor_id=new_visitor_id(), status=ConversationStatus.ENDED,
                name=name, customer_id=call.customer_id, contact_id=chat.contact_id,
                case_id=mailed.case_id, created_at=now, ended_at=now))
            await uow.chat.append(ChatMessage(conversation_id=conversation_id, seq=0,
                                              sender=ChatSender.VISITOR, text=said,
                                              created_at=now))
            await uow.calls.add(Call(
                sid=sid, direction="inbound", from_number="+31600000000",
                to_number="+31200000000", status=CallStatus.COMPLETED, language="nl",
                customer_id=call.customer_id, contact_id=call.contact_id,
                case_id=mailed.case_id, outcome=CallOutcome.VOICEMAIL, recording_url=recording,
                started_at=now))
            await uow.commit()
        if closed:
            await self.services.case_updates.update(UpdateCase(case_id=mailed.case_id,
                                                               status="closed"))
        async with self.services.read_uow() as uow:
            mail = await uow.contacts.get(mailed.contact_id)
        assert mail is not None and mail.raw_ref
        return Footprint(customer_id=mail.customer_id, mail_id=mail.id, raw_ref=mail.raw_ref,
                         form_id=form.contact_id, chat_contact_id=chat.contact_id,
                         conversation_id=conversation_id, call_sid=sid, case_id=mailed.case_id)

    async def kept(self, who: Footprint) -> dict[str, bool]:
        """Which of ``who``'s data is still there."""
        async with self.services.read_uow() as uow:
            mail = await uow.contacts.get(who.mail_id)
            form = await uow.contacts.get(who.form_id)
            chat = await uow.contacts.get(who.chat_contact_id)
            lines = await uow.chat.messages_after(who.conversation_id, 0, limit=10)
            call = await uow.calls.get(who.call_sid)
            case = await uow.cases.get(who.case_id)
            customer = await uow.customers.get(who.customer_id)
            raw = await uow.blobs.get(who.raw_ref)
        assert mail and form and chat and call and case and customer  # rows always stay
        return {
            "raw_mail": mail.raw_ref is not None and raw is not None,
            "recording": call.recording_url is not None,
            "chat": bool(chat.body) and any(line.text.strip() and line.sender.value ==
                                            "visitor" for line in lines),
            "web_form": bool(form.body),
            "case_content": bool(mail.body) and case.subject is not None,
            "customer": customer.status is CustomerStatus.ACTIVE,
        }


@pytest.fixture
async def centre(database_url: str) -> AsyncIterator[Centre]:
    clock = FakeClock(START)
    async with bootstrap.build(mail_settings(database_url, **TERMS), clock=clock) as services:
        intake = services.email.intake("imap:support", uow=services.uow,
                                       ingestion=services.ingestion, clock=clock)
        assert intake is not None
        yield Centre(services, clock, intake)


ALL = {"raw_mail": True, "recording": True, "chat": True, "web_form": True,
       "case_content": True, "customer": True}


async def test_each_kind_goes_when_its_term_is_over_and_holds_keep_theirs(
        centre: Centre) -> None:
    old = await centre.customer("Dora")  # day 0: inactive by day 100
    held = await centre.customer("Carl")  # day 0, under a legal hold
    async with centre.services.uow() as uow:
        await uow.privacy.add_hold(LegalHold(
            id=new_id("hld"), customer_id=held.customer_id, case_id=None,
            reason="dispute", placed_by="test", placed_at=START))
        await uow.commit()
    centre.clock.advance(timedelta(days=20))
    ann = await centre.customer("Ann")  # day 20: past every term but inactivity at day 100
    centre.clock.advance(timedelta(days=41))
    eve = await centre.customer("Eve")  # day 61: past 30 days at day 100, not past 60
    centre.clock.advance(timedelta(days=34))
    bob = await centre.customer("Bob", closed=False)  # day 95: nothing is due
    centre.clock.advance(timedelta(days=5))  # day 100
    volumes = await volumes_of(centre)

    run = await centre.services.privacy.retention.run_once()

    assert await centre.kept(bob) == ALL
    assert await centre.kept(held) == ALL
    assert await centre.kept(eve) == {**ALL, "raw_mail": False, "recording": False,
                                      "chat": False, "web_form": False}
    assert await centre.kept(ann) == {**ALL, "raw_mail": False, "recording": False,
                                      "chat": False, "web_form": False,
                                      "case_content": False}
    assert await centre.kept(old) == {key: False for key in ALL}  # erased
    assert run.removed["inactive_customers"] == 1
    assert await volumes_of(centre) == volumes  # reports count the same contacts
    async with centre.services.read_uow() as uow:
        assert await uow.blobs.get(ann.raw_ref) is None
        assert await uow.blobs.get(bob.raw_ref) is not None

    again = await centre.services.privacy.retention.run_once()
    assert again.removed == {}  # nothing left past its term


async def test_the_privacy_worker_applies_the_terms_by_itself(centre: Centre) -> None:
    old = await centre.customer("Dora")
    centre.clock.advance(timedelta(days=91))
    stop = asyncio.Event()
    worker = asyncio.create_task(run_workers(centre.services, ["privacy"], stop))
    try:
        async with asyncio.timeout(10):  # polling under a deadline, not waiting blindly
            while (await centre.kept(old))["customer"]:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await worker
    assert await centre.kept(old) == {key: False for key in ALL}


async def volumes_of(centre: Centre) -> list[VolumeCount]:
    async with centre.services.read_uow() as uow:
        found = await uow.reports.volumes(START, START + timedelta(days=365))
    return sorted(found, key=lambda v: (v.hour, v.channel, v.direction, v.case_type or ""))

