"""The agent desktop in a real browser: an agent logs in, goes available, a contact arrives
through a real channel (the generic API, the mail intake, the chat widget's socket, Twilio's
signed webhooks), the screen-pop shows who it is, the agent accepts, answers and wraps up;
hostile text from customers is shown as text and never runs.

Screenshots for the docs: ``SWITCHBOARD_SCREENSHOTS=docs/screenshots pytest
tests/browser/test_desk.py`` writes ``desk-*.png`` there.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp import ClientWebSocketResponse
from pydantic import SecretStr
from twilio.request_validator import RequestValidator

from core.config import MailboxSettings
from core.domain.channels import Channel
from core.domain.surveys import SurveyKind
from core.domain.work import WrapUpOutcome
from core.domain.workforce import Role
from core.storage.tables import outbound_messages
from tests.support.centre import Centre, receive, running_centre
from tests.support.fake_twilio import fake_twilio
from tests.support.mail import MAIL_FROM, SUPPORT

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday, inside office hours
PASSWORD = "desk test password"
WAIT_MS = 10_000
SCREENSHOTS = os.environ.get("SWITCHBOARD_SCREENSHOTS")
XSS_NAME = '<img src=x onerror="window.__xss=1">'
XSS_SUBJECT = '"><script>window.__xss=2</script>'
XSS_BODY = ('<a href="javascript:window.__xss=3">klik</a> '
            '<img src=x onerror="window.__xss=4"> <svg onload="window.__xss=5">')


@pytest.fixture
def sqlite_only(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    from tests.conftest import sqlite_url

    return sqlite_url(request, tmp_path)


@pytest.fixture
async def centre(sqlite_only: str) -> AsyncIterator[Centre]:
    # Replies are queued (there is a sender); nothing delivers them here: the outbox holds them.
    mail = {"mail_from": MAIL_FROM, "smtp_url": SecretStr("smtp://127.0.0.1:9"),
            "mailboxes": (MailboxSettings(name="support",
                                          url=SecretStr("imap://u:p@127.0.0.1:9/INBOX"),
                                          address=SUPPORT, acknowledge=False),)}
    async with running_centre(sqlite_only, START, extra_settings=mail) as running:
        yield running


def url(centre: Centre, path: str) -> str:
    return str(centre.client.make_url(path))


async def agent_user(centre: Centre, name: str, *queues: str) -> tuple[str, dict[str, str]]:
    """An agent (of the general queue unless told) who logs in with a password."""
    agent_id, headers = await centre.agent(name, tier=1, skills={},
                                           queues=list(queues or ("q_general",)))
    await centre.services.access.create_user(username=name.lower(), password=PASSWORD,
                                             role=Role.AGENT, agent_id=agent_id)
    return agent_id, headers


async def desk(centre: Centre, browser: Any, username: str) -> Any:
    """Log in through /login (the desk sends us there and back) and wait for the socket."""
    from playwright.async_api import expect

    page = await browser.new_page(locale="nl-NL", viewport={"width": 1440, "height": 1000})
    page.set_default_timeout(WAIT_MS)
    expect.set_options(timeout=WAIT_MS)
    await page.clock.set_fixed_time(START)  # the server's clock is the test's
    await page.add_init_script("window.__xss = undefined;")
    page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
    await page.goto(url(centre, "/desk"))
    assert "/login" in page.url
    await page.get_by_label("Gebruikersnaam").fill(username)
    await page.get_by_label("Wachtwoord").fill(PASSWORD)
    await page.get_by_role("button", name="Inloggen").click()
    await page.wait_for_url("**/desk")
    await expect(page.locator(".connection")).to_have_text("Verbonden")
    return page


async def go_available(page: Any) -> None:
    from playwright.async_api import expect

    await page.get_by_label("Status").select_option("available")
    # data-presence follows the server's answer, not the click.
    await expect(page.locator("#desk")).to_have_attribute("data-presence", "available")


def screenshot_path(name: str) -> str:
    assert SCREENSHOTS
    Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
    return str(Path(SCREENSHOTS) / f"desk-{name}.png")


async def shoot(page: Any, name: str) -> None:
    if SCREENSHOTS:
        # The whole page in the viewport (full_page leaves sandboxed frames blank).
        height = await page.evaluate("document.documentElement.scrollHeight")
        await page.set_viewport_size({"width": 1440, "height": max(900, height)})
        await page.screenshot(path=screenshot_path(name), animations="disabled")
        await page.set_viewport_size({"width": 1440, "height": 1000})


async def wrap_up_in_panel(page: Any, disposition: str, outcome: str) -> None:
    """In the open wrap-up panel: a disposition from the server's list, an outcome, done."""
    from playwright.async_api import expect

    panel = page.locator("section.wrap-up")
    codes = panel.get_by_label("Afhandelcode")
    await expect(codes.locator(f'option[value="{disposition}"]')).to_have_count(1)
    await codes.select_option(disposition)
    await panel.get_by_role("radio", name=outcome, exact=True).check()
    await panel.get_by_role("button", name="Afronden", exact=True).click()


async def no_script_ran(page: Any) -> None:
    assert await page.evaluate("window.__xss === undefined")


async def test_an_email_pops_with_history_is_accepted_answered_and_wrapped_up(
        centre: Centre, browser: Any) -> None:
    from playwright.async_api import expect

    agent_id, _ = await agent_user(centre, "Anna")
    # Her history: a complaint by phone two days ago, still waiting in the complaints queue.
    earlier = await centre.contact(
        channel="phone", external_id="call-earlier",
        **{"from": {"name": "Marieke Jansen", "phone": "+31612345678",
                    "email": "marieke@example.nl"}},
        summary="Belt over een kapotte lamp; wil haar geld terug.", case_type="complaint",
        queue="q_complaints", occurred_at=(START - timedelta(days=2)).isoformat())
    patched = await centre.client.patch(f"/api/customers/{earlier['customer_id']}",
                                        headers=centre.supervisor,
                                        json={"segment": "gold", "value": 1250})
    assert patched.status == 200, await patched.text()

    # What supervisors suggest for this kind of contact (docs/scripts.md).
    for path, body in (
            ("/api/scripts", {"scripts": [{
                "id": "algemeen", "title": "Begroeting", "queue": "q_general",
                "case_type": None, "language": "nl",
                "text": "Goedendag {customer.first_name}, u spreekt met {agent.first_name}."}]}),
            ("/api/knowledge", {"snippets": [{
                "id": "levertijd", "title": "Levertijden", "language": "nl",
                "keywords": ["bestelling"], "tags": [], "case_types": [], "queues": [],
                "url": "https://kennisbank.example.nl/levertijd",
                "text": "Bestellingen worden binnen 2 werkdagen bezorgd."}]})):
        saved = await centre.client.put(path, headers=centre.supervisor, json=body)
        assert saved.status == 200, await saved.text()

    # Someone else holds the mobile number this e-mail's signature gives: a possible duplicate.
    other = await centre.contact(
        channel="letter", external_id="brief-1", **{"from": {"name": "M. Jansen",
                                                            "phone": "+31687654321"}},
        summary="Adreswijziging per brief", queue="q_complaints")

    page = await desk(centre, browser, "anna")
    await expect(page.locator(".agent-name")).to_have_text("Anna")
    await go_available(page)

    arrived = await centre.contact(
        channel="email", external_id="<vraag-2@example.nl>",
        **{"from": {"name": "Marieke Jansen", "email": "marieke@example.nl",
                    "phone": "+31687654321"}},
        subject="Waar blijft mijn bestelling?", body="Ik heb vorige week besteld.",
        queue="q_general")
    assert arrived["customer_id"] == earlier["customer_id"] != other["customer_id"]

    pop = page.locator("article.pop")
    await expect(pop.locator(".customer-name")).to_contain_text("Marieke Jansen")
    await expect(pop.locator(".customer-name")).to_contain_text("gold")
    await expect(pop).to_contain_text("marieke@example.nl")
    await expect(pop).to_contain_text("Waar blijft mijn bestelling?")
    complaint = pop.locator(".open-cases .case-line.complaint")
    await expect(complaint).to_contain_text("Klacht")  # the open complaint stands out
    await expect(pop.locator(".last-contacts")).to_contain_text("Telefoon")
    await expect(pop.locator(".last-contacts")).to_contain_text("kapotte lamp")
    await expect(pop.locator(".clock-offer")).to_contain_text("nog 30 s")
    # "Mogelijk dubbel" (the pop's own warning) or "Mogelijk dezelfde…" (from the record).
    await expect(pop.locator(".warnings")).to_contain_text("Mogelijk d")
    await expect(pop.locator(".warnings")).to_contain_text("+31687654321")
    await expect(pop.locator(".script")).to_contain_text("Goedendag Marieke, u spreekt met Anna.")
    snippet = pop.locator(".knowledge").get_by_role("link", name="Levertijden")
    assert await snippet.get_attribute("href") == "https://kennisbank.example.nl/levertijd"
    await expect(pop.locator(".knowledge")).to_contain_text("binnen 2 werkdagen")
    await shoot(page, "pop")

    await pop.get_by_role("button", name="Aannemen").click()
    await expect(pop).to_have_count(0)
    panel = page.locator("section.panel")
    reference = (await (await centre.client.get(
        f"/api/cases/{arrived['case_id']}", headers=centre.supervisor)).json())["reference"]
    await expect(panel.locator(".case-head h2")).to_contain_text(reference)
    await expect(panel.locator(".history")).to_contain_text("Ik heb vorige week besteld.")
    await expect(page.locator(".work-list")).to_contain_text(reference)

    # The suggested duplicate is there to review, read-only: merging is a supervisor's.
    duplicates = panel.locator(".duplicates-view")
    await expect(duplicates.locator(".customer-card")).to_contain_text("M. Jansen")
    await expect(duplicates).to_contain_text("alleen een supervisor")
    assert await duplicates.get_by_role("button").count() == 0

    # The customer's data is corrected during the contact (and audited by the API).
    await panel.get_by_text("Gegevens corrigeren").click()
    await panel.get_by_label("Naam", exact=True).fill("Marieke Jansen-de Boer")
    await panel.locator(".edit-customer").get_by_role("button", name="Opslaan").click()
    record = panel.locator(".customer > .customer-card .customer-name")  # not the duplicate's
    await expect(record).to_contain_text("Jansen-de Boer")

    await panel.get_by_label("Nieuwe notitie").fill("Klant belt vaak; bestelling 4411.")
    await panel.get_by_role("button", name="Notitie toevoegen").click()
    await expect(panel.locator(".notes")).to_contain_text("bestelling 4411")
    # A note put on the wrong case is taken back by its author (for ten minutes).
    await panel.get_by_label("Nieuwe notitie").fill("Hoort bij een andere klant.")
    await panel.get_by_role("button", name="Notitie toevoegen").click()
    wrong = panel.locator(".notes li", has_text="Hoort bij een andere klant.")
    await wrong.get_by_role("button", name="Notitie verwijderen").click()
    await expect(wrong).to_have_count(0)
    await expect(panel.locator(".notes li")).to_have_count(1)

    await panel.get_by_label("Uw antwoord").fill("Uw bestelling komt morgen.")
    await panel.get_by_role("button", name="Versturen").click()
    await expect(page.locator(".notices.info")).to_contain_text("staat klaar voor verzending")
    await expect(panel.locator(".history .contact.outbound")).to_contain_text(
        "Uw bestelling komt morgen.")
    await shoot(page, "work-email")

    # The reply ended the conversation: after-contact work, with its countdown, and the
    # wrap-up panel opens by itself.
    await expect(page.locator("#desk")).to_have_attribute("data-presence",
                                                          "after_contact_work")
    wrap_up = panel.locator("section.wrap-up")
    await expect(wrap_up.locator(".clock-acw")).to_contain_text("nawerk nog 2 min")
    await expect(page.locator(".work-list .badge.acw")).to_have_text("Nawerk")
    await expect(wrap_up.get_by_role("button", name="Afronden…")).to_be_hidden()
    await shoot(page, "wrap-up")
    await wrap_up_in_panel(page, "information", "Opgelost")
    await expect(page.locator(".notices.info")).to_contain_text(f"{reference} is afgerond")
    await expect(page.locator(".work-list")).to_contain_text("Geen werk in behandeling.")
    # Wrapped up: available again without asking.
    await expect(page.locator("#desk")).to_have_attribute("data-presence", "available")
    async with centre.services.read_uow() as uow:
        [(offer, _)] = await uow.work.offers_for_case(arrived["case_id"])
        work = await uow.work.get_item(offer.work_item_id)
    assert work is not None
    assert (work.disposition, work.outcome) == ("information", WrapUpOutcome.RESOLVED)
    assert work.accepted_at is not None and work.conversation_ended_at is not None
    assert work.completed_at is not None and work.wrap_up_due_at is not None

    async with centre.services.engine.connect() as conn:
        queued = (await conn.execute(sa.select(outbound_messages).where(
            outbound_messages.c.case_id == arrived["case_id"]))).mappings().all()
    assert [m["recipient"] for m in queued] == ["marieke@example.nl"]
    case = await (await centre.client.get(f"/api/cases/{arrived['case_id']}",
                                          headers=centre.supervisor)).json()
    assert case["status"] == "resolved"
    assert case["owner"] == agent_id
    customer = await (await centre.client.get(f"/api/customers/{arrived['customer_id']}",
                                              headers=centre.supervisor)).json()
    assert customer["display_name"] == "Marieke Jansen-de Boer"
    edits = await (await centre.client.get("/api/audit", headers=centre.supervisor, params={
        "action": "customer.edited", "customer": arrived["customer_id"]})).json()
    [edited] = [e for e in edits["items"] if e["actor"]["name"] == "anna"]
    assert edited["contact_id"] == arrived["contact_id"]  # the contact she was handling
    notes = await (await centre.client.get(f"/api/cases/{arrived['case_id']}/notes",
                                           headers=centre.supervisor)).json()
    assert [n["text"] for n in notes["items"]] == ["Klant belt vaak; bestelling 4411."]
    await no_script_ran(page)
    await page.close()


def origin(centre: Centre) -> dict[str, str]:
    base = centre.client.make_url("/")
    return {"Origin": f"{base.scheme}://{base.host}:{base.port}"}


async def frame_from(ws: ClientWebSocketResponse, kind: str, sender: str) -> dict[str, Any]:
    while True:
        found = await receive(ws, kind)
        if found.get("from") == sender:
            return found


async def test_a_chat_from_the_widget_socket_is_answered_live_and_wrapped_up(
        centre: Centre, browser: Any) -> None:
    from playwright.async_api import expect

    await agent_user(centre, "Bram", "q_general", "q_complaints")
    page = await desk(centre, browser, "bram")
    await go_available(page)

    visitor = await centre.client.ws_connect("/chat/ws", headers=origin(centre))
    await visitor.send_json({"type": "hello", "name": "Piet Pakket", "language": "nl",
                             "topic": "Bezorging"})
    await receive(visitor, "welcome")
    await visitor.send_json({"type": "message", "text": "Waar is mijn pakket?",
                             "client_msg_id": "c-1"})
    await receive(visitor, "ack")

    pop = page.locator("article.pop")
    await expect(pop.locator(".customer-name")).to_contain_text("Piet Pakket")
    await expect(pop.locator(".pop-head")).to_contain_text("Chat")
    await pop.get_by_role("button", name="Aannemen").click()
    joined = await frame_from(visitor, "message", "system")
    assert joined["event"] == "agent_joined" and joined["text"] == "Bram"

    log = page.get_by_role("log")
    await expect(log).to_contain_text("Waar is mijn pakket?")
    await expect(log).to_contain_text("Bram neemt deel aan het gesprek.")

    await visitor.send_json({"type": "typing", "typing": True})
    await expect(page.get_by_text("Klant typt…")).to_be_visible()
    await visitor.send_json({"type": "message", "text": "Besteld op 16 november.",
                             "client_msg_id": "c-2"})
    await expect(log).to_contain_text("Besteld op 16 november.")
    await expect(page.get_by_text("Klant typt…")).to_be_hidden()

    box = page.get_by_label("Uw bericht")
    await box.press_sequentially("Het komt ")
    typing = await frame_from(visitor, "typing", "agent")  # the visitor sees the agent type
    assert typing["typing"] is True
    await box.press_sequentially("morgen.")
    await box.press("Enter")
    answer = await frame_from(visitor, "message", "agent")
    assert answer["text"] == "Het komt morgen."
    await expect(log.locator("li.mine")).to_contain_text("Het komt morgen.")
    await expect(log.locator("li.mine")).to_have_count(1)  # the echo is not shown twice
    await shoot(page, "work-chat")
    await visitor.send_json({"type": "message", "text": XSS_BODY, "client_msg_id": "c-3"})
    await expect(log).to_contain_text(XSS_BODY)  # shown as text

    await page.get_by_role("button", name="Afronden…").click()
    await wrap_up_in_panel(page, "answered", "Opgelost")
    left = await frame_from(visitor, "message", "system")
    assert left["event"] == "agent_left"
    await expect(page.locator(".work-list")).to_contain_text("Geen werk in behandeling.")
    assert await log.locator("img, a, svg").count() == 0
    await no_script_ran(page)
    await visitor.close()
    await page.close()


def hostile_mail() -> bytes:
    """Hostile From name, Subject and text, and an HTML part with script in it."""
    message = EmailMessage(policy=SMTP)
    message["From"] = Address(display_name=XSS_NAME, addr_spec="boef@example.nl")
    message["To"] = SUPPORT
    message["Subject"] = XSS_SUBJECT
    message["Message-ID"] = "<hostile-1@example.nl>"
    message.set_content(XSS_BODY)
    message.add_alternative(XSS_BODY + '<script>parent.__xss=6</script>'
                            '<p onclick="parent.__xss=7">Hallo</p>', subtype="html")
    return message.as_bytes()


async def test_hostile_mail_is_shown_as_text_and_its_html_only_in_a_sandbox(
        centre: Centre, browser: Any) -> None:
    from playwright.async_api import expect

    await agent_user(centre, "Chris", "q_general", "q_complaints")
    page = await desk(centre, browser, "chris")
    await go_available(page)

    raw = hostile_mail()
    intake = centre.services.email.intake("imap:support", uow=centre.services.uow,
                                          ingestion=centre.services.ingestion,
                                          clock=centre.services.clock)
    assert intake is not None
    accepted = await intake.accept(raw, item_ref="1")
    assert accepted.case_id is not None

    pop = page.locator("article.pop")
    await expect(pop.locator(".customer-name")).to_contain_text(XSS_NAME)
    await expect(pop.locator(".this-contact")).to_contain_text(XSS_SUBJECT)
    assert await pop.locator("img, script, svg, a[href^='javascript']").count() == 0
    await pop.get_by_role("button", name="Aannemen").click()

    panel = page.locator("section.panel")
    await expect(panel.locator(".case-head")).to_contain_text(XSS_SUBJECT)
    record = panel.locator(".customer > .customer-card .customer-name")
    await expect(record).to_contain_text(XSS_NAME)
    await panel.get_by_text("Opgemaakte e-mail (veilig weergegeven)").click()
    frame = panel.locator("iframe")
    assert await frame.get_attribute("sandbox") == ""
    await expect(frame.content_frame.get_by_text("Hallo")).to_be_visible()
    assert await panel.locator("img, script, svg, a[href^='javascript']").count() == 0
    await shoot(page, "hostile")

    # Not for first line: handed on to second line with its history.
    await panel.locator(".transfer summary").click()
    await panel.get_by_label("Naar de tweede lijn").check()
    await panel.get_by_role("button", name="Doorzetten").click()
    await expect(page.locator(".notices.info")).to_contain_text("is doorgezet")
    await expect(page.locator(".work-list")).to_contain_text("Geen werk in behandeling.")
    async with centre.services.read_uow() as uow:
        item = await uow.work.item_for_case(accepted.case_id)
    assert item is not None and int(item.tier) == 2
    await no_script_ran(page)
    await page.close()


async def test_an_offer_nobody_answers_leaves_the_screen(centre: Centre, browser: Any) -> None:
    from playwright.async_api import expect

    await agent_user(centre, "Dirk")
    page = await desk(centre, browser, "dirk")
    await go_available(page)
    await centre.contact(channel="email", external_id="<laat-1@example.nl>",
                         **{"from": {"email": "laat@example.nl"}}, subject="Hallo?",
                         queue="q_general")
    pop = page.locator("article.pop")
    await expect(pop).to_have_count(1)
    offer_id = await pop.get_attribute("data-offer")

    centre.clock.advance(timedelta(seconds=31))
    centre.services.wakeups.offers.set()
    await expect(page.locator(".notices.info")).to_contain_text("Het aanbod is verlopen.")
    await expect(page.locator(f'article.pop[data-offer="{offer_id}"]')).to_have_count(0)
    await page.close()


# --- a phone call: through Twilio's (signed) webhooks, click-to-call through a local fake ---

TWILIO_TOKEN = "twilio-test-token-0123456789abcdef"
PUBLIC = "http://switchboard.test"  # what Twilio signs; http, so the login cookie works here


async def twilio_post(centre: Centre, path_qs: str, params: dict[str, str]) -> None:
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC + path_qs, params)
    answered = await centre.client.post(path_qs, data=params,
                                        headers={"X-Twilio-Signature": signature})
    assert answered.status == 200, await answered.text()


def call(sid: str, **extra: str) -> dict[str, str]:
    return {"CallSid": sid, "AccountSid": "ACtest", "From": "+31612345678",
            "To": "+31201234567", "CallStatus": "ringing", "Direction": "inbound", **extra}


async def test_a_call_pops_shows_caller_and_menu_path_and_the_agent_calls_back(
        sqlite_only: str, browser: Any) -> None:
    from playwright.async_api import expect

    async with fake_twilio() as twilio, running_centre(sqlite_only, START, extra_settings={
            "twilio_auth_token": TWILIO_TOKEN, "public_url": PUBLIC,
            "twilio_account_sid": "ACtest", "twilio_caller_id": "+31201234567",
            "twilio_api_url": twilio.url}) as centre:
        known = await centre.contact(
            channel="email", external_id="<jan-1@example.nl>", queue="q_complaints",
            **{"from": {"email": "jan@example.nl", "phone": "0612345678",
                        "name": "Jan de Vries"}},
            subject="Vraag over mijn factuur", body="Klopt dit?")
        agent_id, _ = await agent_user(centre, "Eva")
        page = await desk(centre, browser, "eva")
        await go_available(page)

        await twilio_post(centre, "/webhooks/twilio/voice", call("CA50"))
        await twilio_post(centre, "/webhooks/twilio/voice/menu?node=root&lang=nl",
                          call("CA50", Digits="0", CallStatus="in-progress"))
        pop = page.locator("article.pop")
        await expect(pop.locator(".pop-head")).to_contain_text("Telefoon")
        await expect(pop.locator(".customer-name")).to_contain_text("Jan de Vries")
        await expect(pop.locator(".last-contacts")).to_contain_text("Vraag over mijn factuur")
        await pop.get_by_role("button", name="Aannemen").click()

        view = page.locator(".channel-view.call")
        await expect(view).to_contain_text("Jan de Vries")
        await expect(view).to_contain_text("+31612345678")
        await expect(view).to_contain_text("Gekozen in het keuzemenu")
        await expect(view).to_contain_text("Wachttijd")
        await shoot(page, "work-call")

        await page.get_by_role("button", name="Bel 0612345678").click()  # as she gave it
        await expect(page.locator(".notices.info")).to_contain_text(
            "Uw telefoon gaat over; daarna wordt +31612345678 gebeld.")
        assert twilio.created[-1]["To"] == f"client:{agent_id}"

        # Eva holds the call: she ends it from the desk, through Twilio's REST API.
        await page.locator(".channel-view.call").get_by_role("button", name="Ophangen").click()
        await expect(page.locator(".notices.info")).to_contain_text(
            "Het gesprek wordt beëindigd.")
        [_, ended] = await twilio.wait_for_updates(2)  # after the redirect that rang her
        assert ended == ("CA50", {"Status": "completed"})

        await page.get_by_role("button", name="Afronden…").click()
        await wrap_up_in_panel(page, "no_contact", "Blijft open")
        await expect(page.locator(".work-list")).to_contain_text("Geen werk in behandeling.")
        async with centre.services.read_uow() as uow:
            stored = await uow.calls.get("CA50")
        assert stored is not None and stored.case_id is not None
        assert stored.case_id != known["case_id"]
        await no_script_ran(page)
        await page.close()


async def test_a_case_waiting_with_notes_pops_them_and_each_identity_warning_once(
        centre: Centre, browser: Any) -> None:
    from playwright.async_api import expect

    await agent_user(centre, "Fenna")
    karin = await centre.contact(channel="letter", external_id="brief-1b",
                                 **{"from": {"name": "Karin Visser", "email": "karin@example.nl"}},
                                 summary="Brief", queue="q_complaints")
    other = await centre.contact(channel="letter", external_id="brief-2",
                                 **{"from": {"name": "K. Visser", "phone": "+31687650000"}},
                                 summary="Brief", queue="q_complaints")
    waiting = await centre.contact(
        channel="email", external_id="<visser-1@example.nl>", queue="q_general",
        **{"from": {"name": "Karin Visser", "email": "karin@example.nl",
                    "phone": "+31687650000", "claimed_email": "kvisser@example.com"}},
        subject="Adres gewijzigd?", body="Klopt mijn nieuwe adres?")
    assert karin["customer_id"] == waiting["customer_id"] != other["customer_id"]
    noted = await centre.client.post(f"/api/cases/{waiting['case_id']}/notes",
                                     headers=centre.supervisor, json={"text": XSS_NAME})
    assert noted.status == 201, await noted.text()
    # Karin answered a survey about her letter: unhappy, in words that must stay words.
    asked = await centre.services.surveys.start(
        customer_id=karin["customer_id"], channel=Channel.EMAIL, case_id=karin["case_id"],
        contact_id=karin["contact_id"], kind=SurveyKind.BOTH)
    assert asked is not None
    await centre.services.surveys.record_answer(asked.id, channel=Channel.EMAIL, score=2,
                                                nps=4, comment=XSS_BODY, language="nl")

    page = await desk(centre, browser, "fenna")
    await go_available(page)
    pop = page.locator("article.pop")
    await expect(pop.locator(".pop-notes")).to_contain_text(XSS_NAME)
    await expect(pop.locator(".pop-notes")).to_contain_text("supervisor")
    # Each doubt once: the claim and the possible duplicate are warnings; the identifiers
    # they concern carry a mark pointing at them, not the same words again.
    warnings = pop.locator(".warnings li")
    await expect(warnings).to_have_count(2)
    await expect(warnings.filter(has_text="kvisser@example.com")).to_have_count(1)
    await expect(warnings.filter(has_text="+31687650000")).to_have_count(1)
    identifiers = pop.locator(".identifiers")
    await expect(identifiers.locator(".doubt-mark")).to_have_count(2)
    await expect(identifiers.locator(".badge.warn")).to_have_count(0)
    claimed = identifiers.locator("li", has_text="kvisser@example.com").locator(".doubt-mark")
    described = await claimed.get_attribute("aria-describedby")
    assert described is not None
    await expect(pop.locator(f"#{described}")).to_contain_text("kvisser@example.com")
    satisfaction = pop.locator(".satisfaction")
    await expect(satisfaction).to_contain_text("tevreden 2/5")
    await expect(satisfaction).to_contain_text("aanbevelen 4/10")
    await expect(satisfaction.locator(".survey-comment")).to_have_text(XSS_BODY)
    assert await satisfaction.locator("img, a, svg").count() == 0
    await shoot(page, "pop-notes")
    await pop.get_by_role("button", name="Aannemen").click()

    panel = page.locator("section.panel")
    await expect(panel.locator(".notes")).to_contain_text(XSS_NAME)
    # The panel works its warnings out from the record: the claim, once; the possible
    # duplicate is told by its own section, with the reason, once.
    customer = panel.locator(".customer")
    await expect(customer.locator(".duplicates-view")).to_contain_text("+31687650000")
    card = customer.locator(":scope > .customer-card")
    await expect(card.locator(".warnings li")).to_have_count(1)
    await expect(card.locator(".warnings")).to_contain_text("kvisser@example.com")
    await expect(customer.get_by_text("+31687650000 of", exact=False)).to_have_count(1)
    await expect(card.locator(".identifiers .badge.warn")).to_have_count(0)
    await expect(card.locator(".satisfaction .survey-comment")).to_have_text(XSS_BODY)
    await expect(card.locator(".satisfaction")).to_contain_text("tevreden 2/5")
    await shoot(page, "panel-warnings")
    await no_script_ran(page)
    await page.close()
