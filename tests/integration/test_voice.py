"""Twilio voice webhooks, signed exactly as Twilio signs them (the `twilio` library's
RequestValidator), answered with TwiML that is parsed and checked verb by verb."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from twilio.request_validator import RequestValidator

from channels.voice.signature import TwilioSignatures
from core.domain.commands import UpdateCase
from core.domain.contact import CaseType
from core.domain.workforce import Queue
from tests.support.centre import Centre, available, receive, running_centre
from tests.support.fake_twilio import fake_twilio
from workers.demo import DEMO_RULES

TOKEN = "twilio-test-token-0123456789abcdef"
PUBLIC = "https://switchboard.example.nl"
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # office hours
SATURDAY = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
JAN = "+31612345678"


@pytest.fixture
async def centre(database_url: str) -> AsyncIterator[Centre]:
    async with _centre(database_url, MONDAY) as running:
        yield running


def _centre(database_url: str, start: datetime) -> Any:
    return running_centre(database_url, start, workers=("relay", "router"), extra_settings={
        "twilio_auth_token": TOKEN, "public_url": PUBLIC})


async def post(centre: Centre, path_qs: str, params: dict[str, str], *,
               signature: str | None = "sign") -> tuple[int, ET.Element | None]:
    headers = {}
    if signature == "sign":
        headers["X-Twilio-Signature"] = RequestValidator(TOKEN).compute_signature(
            PUBLIC + path_qs, params)
    elif signature is not None:
        headers["X-Twilio-Signature"] = signature
    response = await centre.client.post(path_qs, data=params, headers=headers)
    body = await response.text()
    # Our own service's TwiML, parsed to check it verb by verb.
    root = (ET.fromstring(body)  # noqa: S314
            if response.status == 200 and body.startswith("<?xml") else None)
    return response.status, root


def call(sid: str, **extra: str) -> dict[str, str]:
    return {"CallSid": sid, "AccountSid": "AC123", "From": JAN, "To": "+31201234567",
            "CallStatus": "ringing", "Direction": "inbound", **extra}


def says(root: ET.Element) -> str:
    return " ".join(e.text or "" for e in root.iter("Say"))


async def known_caller(centre: Centre, name: str = "Jan de Vries") -> dict[str, Any]:
    return await centre.contact(channel="email", external_id=f"<{name}@example.nl>",
                                **{"from": {"email": "jan@example.nl", "phone": "0612345678",
                                            "name": name}},
                                subject="Vraag over mijn factuur", body="Klopt dit?")


async def calls_stored(centre: Centre) -> int:
    async with centre.services.engine.connect() as conn:
        import sqlalchemy as sa

        from core.storage.tables import calls
        return int(await conn.scalar(sa.select(sa.func.count()).select_from(calls)) or 0)


def test_twilio_documented_signature_example_validates() -> None:
    # The example from Twilio's security documentation and twilio-python's own tests.
    signatures = TwilioSignatures("12345", "https://mycompany.com")
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+12349013030", "Digits": "1234",
              "From": "+12349013030", "To": "+18005551212"}
    expected = RequestValidator("12345").compute_signature(
        "https://mycompany.com/myapp.php?foo=1&bar=2", params)
    assert signatures.valid("/myapp.php?foo=1&bar=2", params, expected)
    assert not signatures.valid("/myapp.php?foo=1&bar=3", params, expected)
    assert not signatures.valid("/myapp.php?foo=1&bar=2", {**params, "Digits": "5"}, expected)
    assert not signatures.valid("/myapp.php?foo=1&bar=2", params, None)
    assert not signatures.valid("/myapp.php?foo=1&bar=2", params, "")


async def test_a_known_caller_is_greeted_by_name_with_the_menu(centre: Centre) -> None:
    await known_caller(centre)
    status, root = await post(centre, "/webhooks/twilio/voice", call("CA1"))

    assert status == 200 and root is not None
    gather = root.find("Gather")
    assert gather is not None and gather.get("action", "").startswith(
        "/webhooks/twilio/voice/menu?node=root")
    assert gather.get("input") == "dtmf speech" and gather.get("language") == "nl-NL"
    spoken = says(root)
    assert "Welkom bij de klantenservice van De Voorbeeld, Jan de Vries." in spoken
    assert "Voor een klacht, toets 2." in spoken


async def test_pressing_the_complaint_option_routes_a_complaint_to_second_line(
        centre: Centre) -> None:
    async with centre.services.uow() as uow:
        await uow.workforce.add_queue(Queue(id="q_billing", name="Facturen"))
        await uow.commit()
    await centre.publish(DEMO_RULES)
    jan = await known_caller(centre)
    await post(centre, "/webhooks/twilio/voice", call("CA2"))
    status, root = await post(centre, "/webhooks/twilio/voice/menu?node=root&lang=nl&attempt=0",
                              call("CA2", Digits="2", CallStatus="in-progress"))

    assert status == 200 and root is not None
    enqueue = root.find("Enqueue")
    assert enqueue is not None and enqueue.text == "q_complaints"
    assert enqueue.get("waitUrl", "").startswith("/webhooks/twilio/voice/wait")
    async with centre.services.read_uow() as uow:
        stored = await uow.calls.get("CA2")
        assert stored is not None and stored.case_id is not None
        case = await uow.cases.get(stored.case_id)
    assert case is not None and case.type.value == "complaint"
    assert case.customer_id == jan["customer_id"] and int(case.priority) == 3

    async def routed() -> Any:
        async with centre.services.read_uow() as uow:
            return await uow.work.item_for_case(case.id)

    async with asyncio.timeout(10):
        while True:
            item = await routed()
            if item is not None:
                break
            await asyncio.sleep(0.02)
    assert item.queue_id == "q_complaints" and int(item.tier) == 2


async def test_self_service_reads_out_the_real_case_status(centre: Centre) -> None:
    jan = await known_caller(centre)
    async with centre.services.read_uow() as uow:
        case = await uow.cases.get(jan["case_id"])
    assert case is not None
    await post(centre, "/webhooks/twilio/voice", call("CA3"))
    status, root = await post(centre, "/webhooks/twilio/voice/menu?node=root&lang=nl",
                              call("CA3", SpeechResult="wat is de status"))

    assert status == 200 and root is not None
    digits = " ".join(str(case.number))
    assert f"Uw vraag met nummer {digits} is ontvangen." in says(root)
    assert root.find("Gather") is not None  # back to the menu


async def routed_case(centre: Centre, case_id: str) -> None:
    """Wait until the router has handled the case (it sets the type from classification)."""
    async with asyncio.timeout(10):
        while True:
            async with centre.services.read_uow() as uow:
                if await uow.work.item_for_case(case_id) is not None:
                    return
            await asyncio.sleep(0.02)


async def test_an_open_complaint_is_offered_first(centre: Centre) -> None:
    jan = await known_caller(centre)
    await routed_case(centre, jan["case_id"])
    await centre.services.case_updates.update(UpdateCase(case_id=jan["case_id"],
                                                         case_type=CaseType.COMPLAINT))
    status, root = await post(centre, "/webhooks/twilio/voice", call("CA4"))
    assert status == 200 and root is not None
    assert "U heeft een openstaande klacht." in says(root)
    gather = root.find("Gather")
    assert gather is not None and f"case={jan['case_id']}" in gather.get("action", "")

    _, root = await post(centre, gather.get("action", ""),
                         call("CA4", Digits="1", CallStatus="in-progress"))
    assert root is not None and root.find("Enqueue") is not None
    async with centre.services.read_uow() as uow:
        stored = await uow.calls.get("CA4")
    assert stored is not None and stored.case_id == jan["case_id"]  # the same complaint


async def test_unsigned_or_forged_requests_are_refused_and_change_nothing(
        centre: Centre) -> None:
    unsigned, _ = await post(centre, "/webhooks/twilio/voice", call("CA5"), signature=None)
    forged, _ = await post(centre, "/webhooks/twilio/voice", call("CA5"),
                           signature="bm90IGEgc2lnbmF0dXJl")
    other_url = RequestValidator(TOKEN).compute_signature(
        "https://evil.example/webhooks/twilio/voice", call("CA5"))
    replayed_elsewhere, _ = await post(centre, "/webhooks/twilio/voice", call("CA5"),
                                       signature=other_url)
    assert unsigned == forged == replayed_elsewhere == 403
    assert await calls_stored(centre) == 0


async def test_names_from_the_database_cannot_inject_verbs(centre: Centre) -> None:
    await known_caller(centre, name='Jan</Say><Hangup/><Say>')
    status, root = await post(centre, "/webhooks/twilio/voice", call("CA6"))
    assert status == 200 and root is not None
    assert root.find(".//Hangup") is None
    assert "Jan</Say><Hangup/><Say>" in says(root)


async def test_status_callbacks_apply_once_and_only_forward(centre: Centre) -> None:
    await known_caller(centre)
    await post(centre, "/webhooks/twilio/voice", call("CA7"))
    for status_name in ("in-progress", "completed", "completed", "in-progress", "ringing"):
        code, _ = await post(centre, "/webhooks/twilio/voice/status",
                             call("CA7", CallStatus=status_name, CallDuration="42"))
        assert code == 204
    async with centre.services.read_uow() as uow:
        stored = await uow.calls.get("CA7")
        assert stored is not None and stored.status.value == "completed"
        assert stored.duration_s == 42 and stored.contact_id is not None
        contact = await uow.contacts.get(stored.contact_id)
    assert contact is not None and contact.case_id is None  # hung up in the menu
    assert contact.metadata["call_status"] == "completed"


async def test_out_of_hours_callers_leave_a_voicemail_that_becomes_a_case(
        database_url: str) -> None:
    async with _centre(database_url, SATURDAY) as centre:
        await known_caller(centre)
        _, root = await post(centre, "/webhooks/twilio/voice", call("CA8"))
        assert root is not None
        record = root.find("Record")
        assert record is not None and "We zijn nu gesloten." in says(root)
        _, thanks = await post(centre, record.get("action", ""), call(
            "CA8", RecordingUrl="https://api.twilio.com/recordings/RE1", RecordingDuration="9"))
        assert thanks is not None and thanks.find("Hangup") is not None
        async with centre.services.read_uow() as uow:
            stored = await uow.calls.get("CA8")
            assert stored is not None and stored.case_id is not None
            case = await uow.cases.get(stored.case_id)
            contact = await uow.contacts.get(str(stored.contact_id))
        assert case is not None and "voicemail" in case.tags
        assert contact is not None
        assert contact.metadata["recording_url"] == "https://api.twilio.com/recordings/RE1"


async def test_a_failure_inside_still_keeps_the_caller(centre: Centre,
                                                       monkeypatch: Any) -> None:
    async def broken() -> None:
        raise OSError("database unreachable")

    monkeypatch.setattr(centre.services.voice, "menu_definition", broken)
    status, root = await post(centre, "/webhooks/twilio/voice", call("CA9"))
    assert status == 200 and root is not None
    assert root.find("Record") is not None and "storing" in says(root)


async def test_the_waiting_caller_hears_the_position_and_may_ask_for_a_callback(
        centre: Centre) -> None:
    await known_caller(centre)
    await post(centre, "/webhooks/twilio/voice", call("CA10"))
    await post(centre, "/webhooks/twilio/voice/menu?node=root&lang=nl", call("CA10", Digits="0"))
    _, wait = await post(centre, "/webhooks/twilio/voice/wait?lang=nl",
                         call("CA10", QueuePosition="3", QueueTime="20"))
    assert wait is not None and "U bent nummer 3 in de wachtrij." in says(wait)
    gather = wait.find("Gather")
    assert gather is not None
    _, leave = await post(centre, gather.get("action", ""), call("CA10", Digits="1"))
    assert leave is not None and leave.find("Leave") is not None
    async with centre.services.read_uow() as uow:
        stored = await uow.calls.get("CA10")
        case = await uow.cases.get(str(stored.case_id)) if stored else None
    assert stored is not None and stored.outcome is not None
    assert stored.outcome.value == "callback" and case is not None
    assert "terugbellen" in case.tags


# --- click-to-call through Twilio's REST API (a local fake at the HTTP boundary) ----------


async def test_click_to_call_rings_the_agent_then_dials_the_customer(
        database_url: str) -> None:
    async with fake_twilio() as twilio, running_centre(
            database_url, MONDAY, workers=("relay",), extra_settings={
                "twilio_auth_token": TOKEN, "public_url": PUBLIC,
                "twilio_account_sid": "ACtest", "twilio_caller_id": "+31201234567",
                "twilio_api_url": twilio.url}) as centre:
        jan = await known_caller(centre)
        agent_id, headers = await centre.agent("Anna", tier=1, skills={},
                                               queues=["q_general"])
        placed = await centre.client.post("/api/calls", headers=headers,
                                          json={"customer_id": jan["customer_id"]})
        body = await placed.json()
        assert placed.status == 202, body
        [created] = twilio.created
        assert twilio.auth == [("ACtest", TOKEN)]
        assert created["To"] == f"client:{agent_id}" and created["From"] == "+31201234567"
        assert created["Url"] == f"{PUBLIC}/webhooks/twilio/voice/connect"
        assert created["StatusCallback"] == f"{PUBLIC}/webhooks/twilio/voice/status"

        _, root = await post(centre, "/webhooks/twilio/voice/connect", {
            "CallSid": body["call_sid"], "From": f"client:{agent_id}", "To": "+31201234567",
            "CallStatus": "in-progress"})
        assert root is not None
        number = root.find("Dial/Number")
        assert number is not None and number.text == JAN
        timeline = await (await centre.client.get(
            f"/api/customers/{jan['customer_id']}/timeline", headers=centre.supervisor)).json()
        outgoing = [c for c in timeline["items"] if c["channel"] == "phone"]
        assert outgoing[0]["direction"] == "outbound"

        twilio.fail_next(400, 21211, "The 'To' number is not a valid phone number.")
        refused = await centre.client.post("/api/calls", headers=headers,
                                           json={"number": "+31612345678"})
        assert refused.status == 409
        assert "not a valid phone number" in (await refused.json())["error"]["message"]

        not_configured = await centre.client.post("/api/calls", headers=centre.supervisor,
                                                  json={"number": "+31612345678"})
        assert not_configured.status == 422  # a supervisor token has no phone of its own

        await centre.client.patch(f"/api/agents/{agent_id}", headers=centre.supervisor,
                                  json={"phone": "+31205550123"})
        from_desk = await centre.client.post("/api/calls", headers=headers,
                                             json={"number": "+31612345678"})
        assert from_desk.status == 202
        assert twilio.created[-1]["To"] == "+31205550123"  # the agent's own phone first


# --- putting a waiting caller through to the agent routing chose -------------------------


@pytest.fixture
async def switchboard_with_agents(database_url: str) -> AsyncIterator[tuple[Centre, Any]]:
    async with fake_twilio() as twilio, running_centre(
            database_url, MONDAY, extra_settings={
                "twilio_auth_token": TOKEN, "public_url": PUBLIC,
                "twilio_account_sid": "ACtest", "twilio_api_url": twilio.url}) as centre:
        yield centre, twilio


@dataclass
class Ringing:
    """A caller put through to an agent: the offer on their desktop and the ringing TwiML."""

    customer_id: str  # Jan's
    agent_id: str
    desk: Any
    offer: dict[str, Any]
    redirect: dict[str, str]  # what the service asked Twilio to do with the call
    dial: ET.Element


async def put_through(centre: Centre, twilio: Any, name: str, sid: str, *,
                      phone: str | None = None) -> Ringing:
    """Jan, known from an earlier e-mail, calls and asks for an agent; ``name`` (serving
    q_general, ringing on ``phone`` when given) is offered the call and Twilio is told to
    ring them."""
    jan = await known_caller(centre)
    await routed_case(centre, jan["case_id"])
    # Jan's earlier e-mail waits in the first queue (q_complaints); the agent serves q_general.
    agent_id, headers = await centre.agent(name, tier=1, skills={}, queues=["q_general"])
    if phone is not None:
        patched = await centre.client.patch(f"/api/agents/{agent_id}",
                                            headers=centre.supervisor, json={"phone": phone})
        assert patched.status == 200, await patched.text()
    await post(centre, "/webhooks/twilio/voice", call(sid))
    desk = await available(centre, headers)
    await post(centre, "/webhooks/twilio/voice/menu?node=root&lang=nl",
               call(sid, Digits="0", CallStatus="in-progress"))
    offer = await receive(desk, "offer")  # the screen-pop, before the phone rings
    [(redirected, update)] = await twilio.wait_for_updates(1)
    assert redirected == sid
    _, dial = await post(centre, update["Url"].removeprefix(PUBLIC), call(sid))
    assert dial is not None
    return Ringing(jan["customer_id"], agent_id, desk, offer, update, dial)


async def test_the_chosen_agent_sees_the_pop_then_rings_and_answering_accepts(
        switchboard_with_agents: tuple[Centre, Any]) -> None:
    centre, twilio = switchboard_with_agents
    ringing = await put_through(centre, twilio, "Anna", "CA20")
    offer, dial, agent_id, desk = ringing.offer, ringing.dial, ringing.agent_id, ringing.desk
    assert offer["channel"] == "phone"
    assert offer["screen_pop"]["customer"]["display_name"] == "Jan de Vries"
    assert ringing.redirect["Url"] == \
        f"{PUBLIC}/webhooks/twilio/voice/bridge?offer={offer['offer_id']}"
    client = dial.find("Dial/Client")
    assert client is not None and client.text == agent_id
    assert int(dial.find("Dial").get("timeout", "0")) >= 5  # type: ignore[union-attr]
    _, connected = await post(centre, client.get("url", ""), call("CA20b"))
    assert connected is not None and list(connected) == []  # connect the legs
    async with centre.services.read_uow() as uow:
        stored_offer = await uow.work.get_offer(offer["offer_id"])
        stored_call = await uow.calls.get("CA20")
    assert stored_offer is not None and stored_offer.status.value == "accepted"
    assert stored_call is not None and stored_call.outcome is not None
    assert stored_call.outcome.value == "answered"
    await desk.close()


async def test_an_agent_with_a_desk_phone_is_rung_on_it(
        switchboard_with_agents: tuple[Centre, Any]) -> None:
    centre, twilio = switchboard_with_agents
    ringing = await put_through(centre, twilio, "Dirk", "CA22", phone="+31 20 555 0123")
    agent_id, offer, dial, desk = ringing.agent_id, ringing.offer, ringing.dial, ringing.desk
    bad = await centre.client.patch(f"/api/agents/{agent_id}", headers=centre.supervisor,
                                    json={"phone": "020 123"})
    assert bad.status == 422 and "phone" in (await bad.json())["error"]["fields"]
    assert dial.find("Dial/Client") is None
    number = dial.find("Dial/Number")
    assert number is not None and number.text == "+31205550123"
    _, connected = await post(centre, number.get("url", ""), call("CA22b"))
    assert connected is not None and list(connected) == []
    async with centre.services.read_uow() as uow:
        stored = await uow.work.get_offer(offer["offer_id"])
    assert stored is not None and stored.status.value == "accepted"
    await desk.close()

    cleared = await centre.client.patch(f"/api/agents/{agent_id}", headers=centre.supervisor,
                                        json={"phone": ""})
    assert (await cleared.json())["phone"] is None


async def test_after_the_conversation_the_caller_rates_it_once_within_the_cap(
        switchboard_with_agents: tuple[Centre, Any]) -> None:
    centre, twilio = switchboard_with_agents
    ringing = await put_through(centre, twilio, "Eva", "CA23")
    desk = ringing.desk
    action = ringing.dial.find("Dial").get("action", "")  # type: ignore[union-attr]

    _, asked = await post(centre, action, call("CA23", DialCallStatus="completed"))
    assert asked is not None
    gather = asked.find("Gather")
    assert gather is not None and gather.get("numDigits") == "1"
    assert "Hoe tevreden bent u over dit gesprek?" in says(asked)
    _, thanked = await post(centre, gather.get("action", ""), call("CA23", Digits="4"))
    assert thanked is not None and "Dank u wel voor uw antwoord" in says(thanked)
    assert thanked.find("Hangup") is not None
    surveys = await (await centre.client.get(
        f"/api/customers/{ringing.customer_id}/surveys", headers=centre.supervisor)).json()
    assert [(r["score"], r["channel"]) for r in surveys["items"]] == [(4, "phone")]

    # The next call within the frequency cap ends with a goodbye, no question.
    await post(centre, "/webhooks/twilio/voice", call("CA24"))
    _, bye = await post(centre, action.replace("offer=", "offer=x"),
                        call("CA24", DialCallStatus="completed"))
    assert bye is not None and bye.find("Gather") is None
    assert bye.find("Hangup") is not None
    await desk.close()


async def test_no_answer_puts_the_caller_back_for_the_next_agent(
        switchboard_with_agents: tuple[Centre, Any]) -> None:
    centre, twilio = switchboard_with_agents
    ringing = await put_through(centre, twilio, "Bram", "CA21")
    offer, desk = ringing.offer, ringing.desk
    action = ringing.dial.find("Dial").get("action", "")  # type: ignore[union-attr]

    _, back = await post(centre, action, call("CA21", DialCallStatus="no-answer"))
    assert back is not None
    enqueue = back.find("Enqueue")
    assert enqueue is not None and enqueue.text == "q_general"
    async with centre.services.read_uow() as uow:
        stored = await uow.work.get_offer(offer["offer_id"])
    assert stored is not None and stored.status.value == "declined"
    await desk.close()


async def test_a_caller_changes_their_contact_preference_and_it_is_recorded(
        centre: Centre) -> None:
    jan = await known_caller(centre)
    await post(centre, "/webhooks/twilio/voice", call("CA30"))
    _, ask = await post(centre, "/webhooks/twilio/voice/menu?node=root&lang=nl",
                        call("CA30", Digits="4", CallStatus="in-progress"))
    assert ask is not None and "per e-mail benaderen" in says(ask)
    action = ask.find("Gather").get("action", "")  # type: ignore[union-attr]
    _, saved = await post(centre, action, call("CA30", Digits="2"))
    assert saved is not None and "Uw voorkeur is opgeslagen: telefoon." in says(saved)

    async with centre.services.read_uow() as uow:
        customer = await uow.customers.get(jan["customer_id"])
    assert customer is not None and customer.preferred_channel is not None
    assert customer.preferred_channel.value == "phone"
    async with centre.services.engine.connect() as conn:
        import sqlalchemy as sa

        from core.storage.tables import outbox
        [payload] = (await conn.execute(sa.select(outbox.c.payload).where(
            outbox.c.topic == "customer.profile_changed"))).scalars().all()
    assert payload["by"] == f"caller {JAN}" and payload["via"] == "phone self-service"
    assert payload["changes"] == {"preferred_channel": {"from": None, "to": "phone"}}


async def test_an_unknown_caller_gets_no_self_service_on_someone_elses_record(
        centre: Centre) -> None:
    await post(centre, "/webhooks/twilio/voice", call("CA31", From="+31699999999"))
    _, answer = await post(centre, "/webhooks/twilio/voice/menu?node=root&lang=nl",
                           call("CA31", From="+31699999999", Digits="4"))
    assert answer is not None and "We herkennen uw telefoonnummer niet" in says(answer)


async def test_a_caller_who_hangs_up_in_the_queue_is_logged_as_abandoned(
        centre: Centre) -> None:
    jan = await known_caller(centre)
    await post(centre, "/webhooks/twilio/voice", call("CA40"))
    await post(centre, "/webhooks/twilio/voice/menu?node=root&lang=nl",
               call("CA40", Digits="0", CallStatus="in-progress"))
    centre.clock.advance(timedelta(seconds=95))
    await post(centre, "/webhooks/twilio/voice/status",
               call("CA40", CallStatus="completed", CallDuration="101"))

    timeline = await (await centre.client.get(
        f"/api/customers/{jan['customer_id']}/timeline", headers=centre.supervisor)).json()
    [phone] = [c for c in timeline["items"] if c["channel"] == "phone"]
    assert phone["metadata"]["outcome"] == "abandoned"
    assert phone["metadata"]["wait_s"] == "95" and phone["metadata"]["duration_s"] == "101"
    assert phone["metadata"]["menu_path"] == "root:0 > agent"
    assert phone["case_id"] is not None


async def test_a_caller_who_hangs_up_while_an_agent_is_rung_frees_that_agent(
        switchboard_with_agents: tuple[Centre, Any]) -> None:
    centre, twilio = switchboard_with_agents
    ringing = await put_through(centre, twilio, "Fleur", "CA41")

    await post(centre, "/webhooks/twilio/voice/status",
               call("CA41", CallStatus="completed", CallDuration="40"))

    withdrawn = await receive(ringing.desk, "offer_withdrawn")
    assert withdrawn["offer_id"] == ringing.offer["offer_id"]
    async with centre.services.read_uow() as uow:
        offer = await uow.work.get_offer(ringing.offer["offer_id"])
        assert offer is not None
        item = await uow.work.get_item(offer.work_item_id)
        load = await uow.work.get_load(ringing.agent_id)
        stored_call = await uow.calls.get("CA41")
    assert offer.status.value == "withdrawn"
    assert item is not None and item.status.value == "cancelled"
    assert load is not None and load.total == 0
    assert stored_call is not None and stored_call.outcome is not None
    assert stored_call.outcome.value == "abandoned"
    await ringing.desk.close()
