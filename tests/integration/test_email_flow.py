"""The e-mail channel end to end on real servers: Dovecot (IMAP) in, aiosmtpd (SMTP) out,
the service's own workers in between."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest

from channels.email.imap import MailboxSession
from channels.email.intake import MailIntake
from channels.email.poller import MailboxPoller
from core.config import MailboxSettings
from core.domain.channels import Channel, Direction
from core.domain.contact import Contact
from tests.support.centre import Centre, running_centre
from tests.support.dovecot import Mailbox
from tests.support.mail import MAIL_FROM, SUPPORT, customer_mail, new_message_id
from tests.support.smtp_sink import SmtpSink, smtp_sink

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
WAIT_S = 15.0
JAN = "jan.devries@example.nl"
MAIL_WORKERS = ("relay", "router", "mail-intake", "mail-delivery")
T = TypeVar("T")


async def eventually(probe: Callable[[], Awaitable[T | None]], what: str) -> T:
    """Poll ``probe`` until it returns something, with a deadline (no fixed sleeps)."""
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while True:
        found = await probe()
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def email_contacts(centre: Centre) -> list[Contact]:
    async with centre.services.read_uow() as uow:
        customer_ids = [c.id for c in await uow.customers.search(
            email=JAN, phone=None, text=None, limit=5)]
        contacts: list[Contact] = []
        for customer_id in customer_ids:
            page = await uow.contacts.timeline(customer_id, limit=100, cursor=None)
            contacts += [c for c in page.contacts if c.channel is Channel.EMAIL]
    return contacts


async def inbound(centre: Centre, count: int) -> list[Contact]:
    async def probe() -> list[Contact] | None:
        found = [c for c in await email_contacts(centre) if c.direction is Direction.INBOUND]
        return found if len(found) >= count else None

    return await eventually(probe, f"{count} inbound e-mail contact(s)")


async def append(mailbox: Mailbox, *messages: bytes) -> None:
    async with MailboxSession(mailbox.endpoint) as session:
        for raw in messages:
            await session.append(raw)


async def flags(mailbox: Mailbox) -> list[bytes]:
    async with MailboxSession(mailbox.endpoint) as session:
        response = await session._client.uid("fetch", "1:*", "(FLAGS)")
    return [bytes(line) for line in response.lines[:-1]]


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    async with smtp_sink() as running:
        yield running


@pytest.fixture
async def centre(sqlite_database: str, mailbox: Mailbox,
                 sink: SmtpSink) -> AsyncIterator[Centre]:
    async with running_centre(sqlite_database, START, workers=MAIL_WORKERS, extra_settings={
        "mailboxes": (MailboxSettings(name="support", host=mailbox.endpoint.host,
                                      port=mailbox.endpoint.port, security="none",
                                      user=mailbox.user,
                                      password=mailbox.endpoint.password,  # type: ignore[arg-type]
                                      address=SUPPORT),),
        "smtp_url": sink.url, "mail_from": MAIL_FROM,
    }) as running:
        yield running


@pytest.fixture
def sqlite_database(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    from tests.conftest import sqlite_url

    return sqlite_url(request, tmp_path)


async def test_mail_in_reply_out_answer_back_on_the_same_case(
        centre: Centre, mailbox: Mailbox, sink: SmtpSink) -> None:
    question_id = new_message_id()
    await append(mailbox, customer_mail(JAN, "Waar blijft mijn pakket?",
                                        "Beste klantenservice,\n\nMijn pakket is niet bezorgd.",
                                        name="Jan de Vries", message_id=question_id))

    [question] = await inbound(centre, 1)
    assert question.case_id and question.subject == "Waar blijft mijn pakket?"
    assert all(b"\\Seen" in line for line in await flags(mailbox))
    case = (await centre.services.queries.case(question.case_id, contact_limit=5)).case

    sent = await centre.client.post(f"/api/cases/{question.case_id}/replies",
                                    headers=centre.supervisor,
                                    json={"body": "Het pakket wordt morgen bezorgd."})
    assert sent.status == 202, await sent.text()
    reply = await sent.json()
    [delivered] = await sink.wait_for(1, WAIT_S)

    message = delivered.message
    assert delivered.rcpt_tos == [JAN] and delivered.mail_from == SUPPORT
    assert message["Message-ID"] == reply["message_id"]
    assert message["In-Reply-To"] == question_id
    assert question_id in message["References"]
    assert message["Subject"] == f"Re: Waar blijft mijn pakket? [#{case.reference}]"
    assert "Het pakket wordt morgen bezorgd." in message.get_content()

    async def delivery_state() -> str | None:
        async with centre.services.read_uow() as uow:
            contact = await uow.contacts.get(reply["contact_id"])
        state = contact.metadata.get("delivery_state") if contact else None
        return state if state != "queued" else None

    assert await eventually(delivery_state, "the reply's delivery state") == "sent"

    await append(mailbox, customer_mail(
        JAN, f"Re: {message['Subject']}", "Dank u wel!", in_reply_to=reply["message_id"],
        references=[question_id, reply["message_id"]]))
    answers = await inbound(centre, 2)
    assert {c.case_id for c in answers} == {question.case_id}


async def test_header_injection_in_a_subject_does_not_reach_the_smtp_server(
        centre: Centre, mailbox: Mailbox, sink: SmtpSink) -> None:
    hostile = (b"From: Jan <" + JAN.encode() + b">\r\nTo: support@example.nl\r\n"
               b"Subject: =?utf-8?q?hi=0D=0ABcc:_x@evil.example?=\r\n"
               b"Message-ID: " + new_message_id().encode() + b"\r\n\r\nHallo\r\n")
    await append(mailbox, hostile)
    [contact] = await inbound(centre, 1)

    sent = await centre.client.post(f"/api/cases/{contact.case_id}/replies",
                                    headers=centre.supervisor, json={"body": "Antwoord."})
    assert sent.status == 202, await sent.text()
    [delivered] = await sink.wait_for(1, WAIT_S)

    assert delivered.rcpt_tos == [JAN]
    names = [line.split(":", 1)[0].lower() for line in delivered.header_lines()
             if line and not line[0].isspace()]
    assert "bcc" not in names
    assert names.count("subject") == 1
    assert "x@evil.example" not in delivered.message.get("To", "")


async def test_temporary_refusals_are_retried_and_permanent_ones_reported(
        centre: Centre, mailbox: Mailbox, sink: SmtpSink) -> None:
    await append(mailbox, customer_mail(JAN, "Vraag", "Een vraag."))
    [contact] = await inbound(centre, 1)
    sink.fail_next(1, "451 4.3.0 try again later")

    sent = await centre.client.post(f"/api/cases/{contact.case_id}/replies",
                                    headers=centre.supervisor, json={"body": "Antwoord."})
    reply = await sent.json()

    async def attempted() -> Any:
        async with centre.services.read_uow() as uow:
            message = await uow.outbound.get(reply["message_id"])
        return message if message and message.attempts >= 1 else None

    first = await attempted_or_fail(attempted)
    assert first.state.value == "queued" and "451" in (first.last_error or "")
    centre.clock.advance(timedelta(minutes=5))
    centre.services.wakeups.mail.set()
    [delivered] = await sink.wait_for(1, WAIT_S)
    assert delivered.message["Message-ID"] == reply["message_id"]  # the same message

    sink.fail_next(1, "550 5.1.1 no such user")
    second = await (await centre.client.post(
        f"/api/cases/{contact.case_id}/replies", headers=centre.supervisor,
        json={"body": "Nog een antwoord."})).json()

    async def failed() -> Any:
        async with centre.services.read_uow() as uow:
            contact_now = await uow.contacts.get(second["contact_id"])
        return contact_now if contact_now and \
            contact_now.metadata.get("delivery_state") == "failed" else None

    reported = await eventually(failed, "a failed delivery")
    assert "550" in reported.metadata["delivery_error"]


async def attempted_or_fail(probe: Callable[[], Awaitable[Any]]) -> Any:
    return await eventually(probe, "a first delivery attempt")


# --- the poller on its own: restarts, UIDVALIDITY, polling ------------------------------


class CrashAfter(Exception):
    pass


def poller_for(centre: Centre, mailbox: Mailbox, **kwargs: Any) -> MailboxPoller:
    email = centre.services.email
    settings, _ = email.mailboxes[0]
    intake = email.intake(f"imap:{settings.name}", uow=centre.services.uow,
                          ingestion=centre.services.ingestion, clock=centre.services.clock)
    assert isinstance(intake, MailIntake)
    return MailboxPoller(mailbox=settings, endpoint=mailbox.endpoint, intake=intake,
                         uow=centre.services.uow, **kwargs)


@pytest.fixture
async def quiet_centre(sqlite_database: str, mailbox: Mailbox) -> AsyncIterator[Centre]:
    """The service without its own mail worker: the test drives a poller by hand."""
    async with running_centre(sqlite_database, START, workers=("relay",), extra_settings={
        "mailboxes": (MailboxSettings(name="support", host=mailbox.endpoint.host,
                                      port=mailbox.endpoint.port, security="none",
                                      user=mailbox.user,
                                      password=mailbox.endpoint.password,  # type: ignore[arg-type]
                                      address=SUPPORT),),
    }) as running:
        yield running


async def test_a_crash_anywhere_in_a_batch_loses_and_doubles_nothing(
        quiet_centre: Centre, mailbox: Mailbox) -> None:
    await append(mailbox, *[customer_mail(JAN, f"Vraag {n}", f"Vraag nummer {n}.")
                            for n in range(10)])
    stored = 0

    async def crash_after_four(accepted: Any) -> None:
        nonlocal stored
        stored += 1
        if stored == 4:  # committed, but never marked seen nor the cursor saved
            raise CrashAfter

    async with MailboxSession(mailbox.endpoint) as session:
        with pytest.raises(CrashAfter):
            await poller_for(quiet_centre, mailbox, on_accepted=crash_after_four).drain(session)
    assert len(await email_contacts(quiet_centre)) == 4

    async with MailboxSession(mailbox.endpoint) as session:
        handled = await poller_for(quiet_centre, mailbox).drain(session)

    assert handled == 10
    subjects = sorted(c.subject or "" for c in await email_contacts(quiet_centre))
    assert subjects == sorted(f"Vraag {n}" for n in range(10))
    assert all(b"\\Seen" in line for line in await flags(mailbox))


async def test_a_new_uidvalidity_offers_everything_again_and_stores_nothing_twice(
        quiet_centre: Centre, mailbox: Mailbox) -> None:
    await append(mailbox, *[customer_mail(JAN, f"Vraag {n}", f"Tekst {n}.") for n in range(3)])
    async with MailboxSession(mailbox.endpoint) as session:
        await poller_for(quiet_centre, mailbox).drain(session)
        before = session.uidvalidity

    mailbox.reset_uidvalidity()
    await append(mailbox, customer_mail(JAN, "Vraag 3", "Tekst 3."))
    async with MailboxSession(mailbox.endpoint) as session:
        assert session.uidvalidity != before
        handled = await poller_for(quiet_centre, mailbox).drain(session)

    assert handled == 4  # all offered again…
    assert len(await email_contacts(quiet_centre)) == 4  # …and only the new one stored


async def test_without_idle_the_mailbox_is_polled(quiet_centre: Centre,
                                                  mailbox: Mailbox) -> None:
    class NoIdle(MailboxSession):
        @property
        def supports_idle(self) -> bool:
            return False

    settings, _ = quiet_centre.services.email.mailboxes[0]
    poller = poller_for(quiet_centre, mailbox, session_factory=NoIdle)
    poller._mailbox = settings.model_copy(update={"poll_interval_s": 0.1})
    stop = asyncio.Event()
    running = asyncio.create_task(poller.run(stop))
    try:
        await append(mailbox, customer_mail(JAN, "Gepold", "Via polling."))
        [contact] = await inbound(quiet_centre, 1)
        assert contact.subject == "Gepold"
    finally:
        stop.set()
        await asyncio.wait_for(running, WAIT_S)


async def test_the_poller_reconnects_after_the_server_drops_it(
        quiet_centre: Centre, mailbox: Mailbox) -> None:
    sessions: list[MailboxSession] = []

    class Tracked(MailboxSession):
        async def __aenter__(self) -> Tracked:
            await super().__aenter__()
            sessions.append(self)
            return self

    stop = asyncio.Event()
    poller = poller_for(quiet_centre, mailbox, session_factory=Tracked)
    running = asyncio.create_task(poller.run(stop))
    try:
        await eventually(lambda: _ready(sessions), "the first connection")
        sessions[0]._client.protocol.transport.close()  # the server's side goes away
        await append(mailbox, customer_mail(JAN, "Na herverbinden", "Opnieuw verbonden."))
        [contact] = await inbound(quiet_centre, 1)
        assert contact.subject == "Na herverbinden" and len(sessions) >= 2
    finally:
        stop.set()
        await asyncio.wait_for(running, WAIT_S)


async def _ready(sessions: list[MailboxSession]) -> bool:
    return bool(sessions)


@pytest.fixture
async def acknowledging_centre(sqlite_database: str, mailbox: Mailbox,
                               sink: SmtpSink) -> AsyncIterator[Centre]:
    async with running_centre(sqlite_database, START, workers=MAIL_WORKERS, extra_settings={
        "mailboxes": (MailboxSettings(name="support", host=mailbox.endpoint.host,
                                      port=mailbox.endpoint.port, security="none",
                                      user=mailbox.user,
                                      password=mailbox.endpoint.password,  # type: ignore[arg-type]
                                      address=SUPPORT, acknowledge=True),),
        "smtp_url": sink.url, "mail_from": MAIL_FROM,
    }) as running:
        yield running


async def test_acknowledgements_and_auto_responders_do_not_loop(
        acknowledging_centre: Centre, mailbox: Mailbox, sink: SmtpSink) -> None:
    centre = acknowledging_centre
    await append(mailbox, customer_mail(JAN, "Mijn bestelling", "Waar is mijn bestelling?"))
    [ack] = await sink.wait_for(1, WAIT_S)
    [question] = await inbound(centre, 1)
    case = (await centre.services.queries.case(str(question.case_id), contact_limit=5)).case
    assert ack.message["Auto-Submitted"] == "auto-replied"
    assert f"[#{case.reference}]" in ack.message["Subject"]
    assert "Bedankt" in ack.message.get_content() or "Dank" in ack.message.get_content()

    # A polite auto-responder answers our acknowledgement: filed, never acknowledged.
    await append(mailbox, customer_mail(
        JAN, f"Automatisch antwoord: {ack.message['Subject']}", "Ik ben afwezig.",
        in_reply_to=ack.message["Message-ID"], headers={"Auto-Submitted": "auto-replied"}))
    # A rude one says nothing about being automatic and starts a new thread every time.
    await append(mailbox, *[customer_mail(JAN, f"Afwezig {n}", "Ik ben afwezig.")
                            for n in range(5)])
    contacts = await inbound(centre, 7)

    assert sum(1 for c in contacts if c.case_id == question.case_id) == 2
    sent = await sink.wait_for(3, WAIT_S)  # the first, plus two for the rude responder
    assert all(m.message["Auto-Submitted"] == "auto-replied" for m in sent)

    async def queued_acks() -> int:
        async with centre.services.read_uow() as uow:
            from core.domain.messaging import OutboundKind

            return await uow.outbound.count_recent(
                recipient=JAN, kind=OutboundKind.ACKNOWLEDGEMENT, since=START)

    assert await queued_acks() == 3  # the hourly cap broke the loop


async def test_a_message_that_keeps_failing_is_quarantined_after_three_attempts(
        quiet_centre: Centre, mailbox: Mailbox) -> None:
    from channels.email.poller import RetryLater

    await append(mailbox, customer_mail(JAN, "Giftig", "Dit bericht faalt altijd."),
                 customer_mail(JAN, "Gewoon", "Dit bericht is in orde."))
    poller = poller_for(quiet_centre, mailbox)
    intake = poller._intake
    real_accept = intake.accept

    async def accept(raw: bytes, *, item_ref: str) -> Any:
        if b"Giftig" in raw:
            raise RuntimeError("a bug in a dependency")
        return await real_accept(raw, item_ref=item_ref)

    intake.accept = accept  # type: ignore[method-assign]
    async with MailboxSession(mailbox.endpoint) as session:
        for _ in range(2):
            with pytest.raises(RetryLater):
                await poller.drain(session)
            assert await email_contacts(quiet_centre) == []  # nothing skipped yet
        handled = await poller.drain(session)

    assert handled == 2
    assert [c.subject for c in await email_contacts(quiet_centre)] == ["Gewoon"]
    async with quiet_centre.services.read_uow() as uow:
        [item] = await uow.quarantine.page(status=None, limit=10)
    assert item.status.value == "quarantined" and item.attempts == 3
    assert item.reason == "failed: RuntimeError"
