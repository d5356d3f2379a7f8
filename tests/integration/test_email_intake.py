"""Taking one message in: the customer it belongs to, the case it lands on, stored once.

These drive the intake directly with raw bytes (the IMAP side has its own tests and the
end-to-end test in test_email_flow.py); each runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from channels.email.intake import MailIntake, Outcome
from core.domain.channels import Direction
from core.domain.commands import UpdateCase
from core.domain.contact import CaseStatus
from core.domain.messaging import DeliveryState, OutboundKind, QuarantineStatus
from core.domain.workforce import Role
from tests.conftest import Api
from tests.support.mail import SUPPORT, bounce_for, customer_mail, mail_settings, new_message_id
from workers import bootstrap
from workers.services import Services
from workers.web.app import build_app

JAN = "jan.devries@example.nl"
PETRA = "petra@example.org"


@dataclass
class Desk:
    services: Services
    support: MailIntake
    complaints: MailIntake

    async def contacts_of(self, case_id: str) -> list[dict[str, str]]:
        view = await self.services.queries.case(case_id, contact_limit=100)
        return [{"direction": c.direction.value, "from": c.from_address or "",
                 "subject": c.subject or "", "id": c.id} for c in view.contacts]


@pytest.fixture
async def desk(database_url: str) -> AsyncIterator[Desk]:
    async with bootstrap.build(mail_settings(database_url)) as services:
        def intake(name: str) -> MailIntake:
            found = services.email.intake(f"imap:{name}", uow=services.uow,
                                          ingestion=services.ingestion, clock=services.clock)
            assert found is not None
            return found

        yield Desk(services, intake("support"), intake("complaints"))


async def test_a_message_becomes_a_contact_on_a_new_case_of_the_sender(desk: Desk) -> None:
    accepted = await desk.support.accept(customer_mail(
        JAN, "Vraag over mijn factuur", "Beste klantenservice,\n\nKlopt mijn factuur?",
        name="Jan de Vries"), item_ref="1")

    assert accepted.outcome is Outcome.STORED and accepted.case_id
    view = await desk.services.queries.case(accepted.case_id, contact_limit=10)
    inbound = [c for c in view.contacts if c.direction is Direction.INBOUND]
    assert len(inbound) == 1
    contact = inbound[0]
    assert contact.from_address == JAN and contact.subject == "Vraag over mijn factuur"
    assert "Klopt mijn factuur?" in (contact.body or "")
    assert contact.metadata["mailbox"] == "support"
    assert contact.metadata["language"] == "nl"
    customer = await desk.services.queries.customer(contact.customer_id, timeline_limit=5)
    assert customer.customer.display_name == "Jan de Vries"
    assert {i.normalized for i in customer.customer.identifiers} == {JAN}


async def test_the_same_message_twice_or_in_two_mailboxes_is_stored_once(desk: Desk) -> None:
    message_id = new_message_id()
    first = customer_mail(JAN, "Klacht", "Mijn pakket is kapot.", message_id=message_id,
                          trace=["Delivered-To: support@example.nl",
                                 "Received: from mx1 by imap1; Mon, 23 Nov 2026 09:00:00"])
    # The same message as delivered to the other mailbox: only the trace differs.
    copy = first.replace(b"support@example.nl\r\nReceived: from mx1",
                         b"klachten@example.nl\r\nReceived: from mx2", 1)

    stored = await desk.support.accept(first, item_ref="1")
    again = await desk.support.accept(first, item_ref="1")
    other_mailbox = await desk.complaints.accept(copy, item_ref="7")

    assert stored.outcome is Outcome.STORED
    assert again.outcome is Outcome.DUPLICATE and again.contact_id == stored.contact_id
    assert other_mailbox.outcome is Outcome.DUPLICATE
    assert other_mailbox.contact_id == stored.contact_id


async def test_a_reused_message_id_with_other_content_is_a_new_message(desk: Desk) -> None:
    message_id = new_message_id()
    one = await desk.support.accept(customer_mail(JAN, "Een", "Eerste vraag.",
                                                  message_id=message_id), item_ref="1")
    two = await desk.support.accept(customer_mail(JAN, "Twee", "Tweede vraag.",
                                                  message_id=message_id), item_ref="2")
    assert one.outcome is two.outcome is Outcome.STORED
    assert one.contact_id != two.contact_id


async def test_a_reply_to_our_message_lands_on_the_same_case(desk: Desk) -> None:
    first = await desk.support.accept(customer_mail(JAN, "Bezorging", "Waar blijft het?"),
                                      item_ref="1")
    assert first.case_id
    reply = await desk.services.email_replies.reply(
        case_id=first.case_id, body="Het pakket komt morgen.", author="Anna")

    answer = await desk.support.accept(customer_mail(
        JAN, f"Re: {reply.subject}", "Dank u!", in_reply_to=reply.message_id,
        references=[reply.message_id]), item_ref="2")

    assert answer.outcome is Outcome.STORED
    assert answer.case_id == first.case_id


async def test_a_forged_reference_from_a_stranger_opens_a_new_case(desk: Desk) -> None:
    first = await desk.support.accept(customer_mail(JAN, "Mijn adres", "Nieuw adres: ..."),
                                      item_ref="1")
    assert first.case_id
    reply = await desk.services.email_replies.reply(
        case_id=first.case_id, body="Aangepast.", author="Anna")
    case = await desk.services.queries.case(first.case_id, contact_limit=1)

    forged = await desk.support.accept(customer_mail(
        PETRA, f"Re: [#{case.case.reference}] Mijn adres", "Stuur alles naar mij.",
        in_reply_to=reply.message_id, references=[reply.message_id]), item_ref="2")

    assert forged.outcome is Outcome.STORED
    assert forged.case_id != first.case_id
    senders = {c["from"] for c in await desk.contacts_of(first.case_id)}
    assert PETRA not in senders


async def test_a_case_reference_in_the_subject_threads_only_for_its_customer(desk: Desk) -> None:
    first = await desk.support.accept(customer_mail(JAN, "Retour", "Hoe stuur ik terug?"),
                                      item_ref="1")
    assert first.case_id
    reference = (await desk.services.queries.case(first.case_id, contact_limit=1)).case.reference

    own = await desk.support.accept(customer_mail(
        JAN, f"Aanvulling [#{reference}]", "Ordernummer 42."), item_ref="2")
    stranger = await desk.support.accept(customer_mail(
        PETRA, f"Aanvulling [#{reference}]", "Ik ook."), item_ref="3")

    assert own.case_id == first.case_id
    assert stranger.case_id not in (None, first.case_id)


async def test_a_reply_to_a_closed_case_opens_a_new_one(desk: Desk) -> None:
    first = await desk.support.accept(customer_mail(JAN, "Vraag", "Een vraag."), item_ref="1")
    assert first.case_id
    reply = await desk.services.email_replies.reply(case_id=first.case_id, body="Antwoord.",
                                                    author="Anna")
    await desk.services.case_updates.update(UpdateCase(case_id=first.case_id,
                                                       status=CaseStatus.CLOSED.value))

    later = await desk.support.accept(customer_mail(
        JAN, f"Re: {reply.subject}", "Nog een vraag.", in_reply_to=reply.message_id),
        item_ref="2")

    assert later.case_id not in (None, first.case_id)


async def test_a_complaints_mailbox_files_complaints(desk: Desk) -> None:
    accepted = await desk.complaints.accept(customer_mail(JAN, "Slechte service",
                                                          "Ik ben ontevreden."), item_ref="1")
    assert accepted.case_id
    case = (await desk.services.queries.case(accepted.case_id, contact_limit=1)).case
    assert case.type.value == "complaint" and case.tags == ["klacht"]


async def test_a_new_case_is_acknowledged_once_with_its_reference(desk: Desk) -> None:
    accepted = await desk.support.accept(customer_mail(
        JAN, "Question about my invoice", "Hello, my invoice seems wrong. Could you check it?"),
        item_ref="1")
    assert accepted.case_id
    case = (await desk.services.queries.case(accepted.case_id, contact_limit=10)).case
    async with desk.services.read_uow() as uow:
        contacts = await uow.contacts.for_case(accepted.case_id, limit=10)
        outbound = [c for c in contacts if c.direction is Direction.OUTBOUND]
        assert len(outbound) == 1
        queued = await uow.outbound.for_contact(outbound[0].id)
    assert queued is not None and queued.kind is OutboundKind.ACKNOWLEDGEMENT
    assert queued.recipient == JAN and queued.state is DeliveryState.QUEUED
    assert queued.envelope["auto_submitted"] == "auto-replied"
    assert f"[#{case.reference}]" in str(queued.envelope["subject"])
    assert "Thank you for your message" in str(queued.envelope["text"])
    # An automatic acknowledgement is not an answer: the first-response clock runs on.
    assert case.first_responded_at is None


async def test_auto_replies_never_open_cases_nor_get_acknowledged(desk: Desk) -> None:
    first = await desk.support.accept(customer_mail(JAN, "Vraag", "Een vraag."), item_ref="1")
    assert first.case_id
    reply = await desk.services.email_replies.reply(case_id=first.case_id, body="Antwoord.",
                                                    author="Anna")
    await desk.services.case_updates.update(UpdateCase(
        case_id=first.case_id, status=CaseStatus.PENDING.value))

    out_of_office = await desk.support.accept(customer_mail(
        JAN, "Afwezig: " + reply.subject, "Ik ben tot maandag afwezig.",
        in_reply_to=reply.message_id, headers={"Auto-Submitted": "auto-replied"}),
        item_ref="2")
    stray = await desk.support.accept(customer_mail(
        PETRA, "Out of office", "I am away.", headers={"X-Autoreply": "yes"}), item_ref="3")

    assert out_of_office.case_id == first.case_id
    case = (await desk.services.queries.case(first.case_id, contact_limit=1)).case
    assert case.status is CaseStatus.PENDING  # not reopened by a machine
    assert stray.outcome is Outcome.STORED and stray.case_id is None
    async with desk.services.read_uow() as uow:
        assert await uow.outbound.count_recent(
            recipient=PETRA, kind=OutboundKind.ACKNOWLEDGEMENT,
            since=desk.services.clock.now().replace(year=2000)) == 0


async def test_acknowledgements_to_one_address_are_limited(desk: Desk) -> None:
    for n in range(5):
        await desk.support.accept(customer_mail(PETRA, f"Vraag {n}", f"Vraag nummer {n}."),
                                  item_ref=str(n))
    async with desk.services.read_uow() as uow:
        sent = await uow.outbound.count_recent(
            recipient=PETRA, kind=OutboundKind.ACKNOWLEDGEMENT,
            since=desk.services.clock.now().replace(year=2000))
    assert sent == 3


async def test_a_bounce_marks_our_reply_and_opens_nothing(desk: Desk) -> None:
    first = await desk.support.accept(customer_mail(JAN, "Vraag", "Een vraag."), item_ref="1")
    assert first.case_id
    reply = await desk.services.email_replies.reply(case_id=first.case_id, body="Antwoord.",
                                                    author="Anna")
    before = await desk.services.queries.cases(status=None, queue_id=None, customer_id=None,
                                               limit=100, cursor=None)

    bounced = await desk.support.accept(bounce_for(reply.message_id, JAN), item_ref="2")

    assert bounced.outcome is Outcome.BOUNCE and bounced.contact_id == reply.contact_id
    async with desk.services.read_uow() as uow:
        message = await uow.outbound.get(reply.message_id)
        contact = await uow.contacts.get(reply.contact_id)
    assert message is not None and message.state is DeliveryState.BOUNCED
    assert message.last_error is not None and "5.1.1" in message.last_error
    assert contact is not None and contact.metadata["delivery_state"] == "bounced"
    after = await desk.services.queries.cases(status=None, queue_id=None, customer_id=None,
                                              limit=100, cursor=None)
    assert len(after[0]) == len(before[0])


async def test_mail_from_our_own_address_is_ignored(desk: Desk) -> None:
    accepted = await desk.support.accept(customer_mail(SUPPORT, "Loop", "Echo."), item_ref="1")
    assert accepted.outcome is Outcome.IGNORED


@pytest.mark.parametrize(("raw", "reason"), [
    (b"From: a@b.nl\r\nTo: " + b",".join(b"x%d@example.nl" % i for i in range(500))
     + b"\r\nSubject: many\r\n\r\nhi\r\n", "addresses"),
    (b"From: " + b"(" * 3000 + b"\r\nSubject: x\r\n\r\nbody\r\n", "unparseable"),
    (b"To: support@example.nl\r\nSubject: who?\r\n\r\nNo sender.\r\n", "sender"),
])
async def test_unreadable_mail_is_quarantined_with_its_bytes(
        desk: Desk, raw: bytes, reason: str) -> None:
    accepted = await desk.support.accept(raw, item_ref="ref-1")
    assert accepted.outcome is Outcome.QUARANTINED and reason in (accepted.reason or "")
    async with desk.services.read_uow() as uow:
        item = await uow.quarantine.find("imap:support", "ref-1")
        assert item is not None and item.status is QuarantineStatus.QUARANTINED
        assert item.raw_ref is not None and await uow.blobs.get(item.raw_ref) == raw


async def test_supervisors_see_and_download_quarantined_mail(database_url: str) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    async with bootstrap.build(mail_settings(database_url)) as services:
        intake = services.email.intake("imap:support", uow=services.uow,
                                       ingestion=services.ingestion, clock=services.clock)
        assert intake is not None
        raw = b"To: support@example.nl\r\nSubject: anonymous\r\n\r\nWho am I?\r\n"
        await intake.accept(raw, item_ref="ref-9")
        client = TestClient(TestServer(build_app(services)))
        await client.start_server()
        try:
            tokens = {role: await services.access.create_token(role=role, name=role.value)
                      for role in (Role.AGENT, Role.SUPERVISOR)}
            api = Api(client, tokens)
            denied = await client.get("/api/mail/quarantine", headers=api.headers(Role.AGENT))
            listed = await client.get("/api/mail/quarantine",
                                      headers=api.headers(Role.SUPERVISOR))
            assert denied.status == 403
            items = (await listed.json())["items"]
            assert [i["reason"] for i in items] == ["no single valid sender address"]
            download = await client.get(f"/api/mail/quarantine/{items[0]['id']}/raw",
                                        headers=api.headers(Role.SUPERVISOR))
            assert download.status == 200 and await download.read() == raw
            assert download.headers["X-Content-Type-Options"] == "nosniff"
        finally:
            await client.close()


async def test_a_failing_message_is_retried_then_quarantined(desk: Desk) -> None:
    raw = customer_mail(JAN, "Vraag", "Een vraag.")
    failures = [await desk.support.record_failure("ref-2", raw, RuntimeError("db away"))
                for _ in range(3)]
    assert [f.status for f in failures] == [QuarantineStatus.RETRYING,
                                             QuarantineStatus.RETRYING,
                                             QuarantineStatus.QUARANTINED]
    assert failures[-1].attempts == 3
