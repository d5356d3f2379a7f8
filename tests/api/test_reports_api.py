"""Reports for supervisors over HTTP, from a day of real contacts: e-mails answered and not,
a call answered in ten seconds and one abandoned in the queue, a web form and a chat the
visitor gave up on — each through the channel that takes it in, on the test clock — then
the exact figures of the summary and the rows of the CSV export."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import ClientPayloadError, ClientWebSocketResponse
from twilio.request_validator import RequestValidator

from core.domain.channels import Channel
from core.domain.sla import SlaKind
from core.domain.workforce import Role
from core.ports import ContactLine
from core.storage.reports import SqlReports
from tests.conftest import Api
from tests.support.centre import WAIT_S, Centre, available, receive, running_centre
from tests.support.fake_twilio import FakeTwilio, fake_twilio

TOKEN = "twilio-test-token-0123456789abcdef"
PUBLIC = "https://switchboard.example.nl"
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # 11:00 in Amsterdam: office hours
HOSTILE = '=HYPERLINK("http://evil.example/x","Klik hier")'
ZOE = "Zoë Daniëls"
REPORT = "/api/reports/summary?from=2026-11-23&to=2026-11-23"
EXPORT = "/api/reports/contacts.csv?from=2026-11-23&to=2026-11-23"


@pytest.fixture
async def centre(database_url: str) -> AsyncIterator[tuple[Centre, FakeTwilio]]:
    async with fake_twilio() as twilio, running_centre(database_url, MONDAY, extra_settings={
            "twilio_auth_token": TOKEN, "public_url": PUBLIC, "twilio_account_sid": "ACtest",
            "twilio_api_url": twilio.url}) as running:
        yield running, twilio


async def test_a_day_of_contacts_gives_exact_figures_and_csv_rows(
        centre: tuple[Centre, FakeTwilio]) -> None:
    c, twilio = centre
    anna, headers = await c.agent("Anna", tier=1, skills={}, queues=["q_general"])
    desk = await available(c, headers)

    # 10:00 Zoë's question; Anna takes it 20 s later, answers at 10:30, opens wrap-up at
    # 10:39 and wraps up at 10:40.
    zoe = await email(c, "<z1@example.nl>", "zoe@example.nl", ZOE, queue="q_general")
    offer = await receive(desk, "offer")
    c.clock.advance(timedelta(seconds=20))
    await desk.send_json({"type": "accept", "offer_id": offer["offer_id"]})
    await receive(desk, "accepted")
    # 10:00:20 a complaint under a hostile name, in a queue nobody serves: never answered.
    hostile = await email(c, "<h1@example.nl>", "evil@example.nl", HOSTILE,
                          queue="q_complaints", subject="Klacht",
                          body="Ik wil een klacht indienen over de levering.")
    await routed(c, hostile["case_id"])
    c.clock.set(MONDAY + timedelta(minutes=20))
    await email(c, "<z2@example.nl>", "zoe@example.nl", ZOE, case_id=zoe["case_id"])
    c.clock.set(MONDAY + timedelta(minutes=30))
    await c.contact(channel="email", direction="outbound", external_id="<r1@switchboard>",
                    case_id=zoe["case_id"], subject="Re: Vraag",
                    body="Morgen.", **{"from": {"email": "zoe@example.nl"}})
    await until(lambda: first_response_stopped(c, zoe["case_id"]), "the clock stopped")
    c.clock.set(MONDAY + timedelta(minutes=39))
    await desk.send_json({"type": "start_wrap_up", "case_id": zoe["case_id"]})
    after = await receive(desk, "after_contact_work")
    assert (after["started_at"], after["due_at"]) == (
        "2026-11-23T10:39:00+00:00", "2026-11-23T10:41:00+00:00")  # the default 120 s
    c.clock.set(MONDAY + timedelta(minutes=40))
    await wrap_up(desk, zoe["case_id"])

    # 10:40:00 a caller waits in the complaints queue and hangs up after 45 s.
    await voice(c, "/webhooks/twilio/voice", "CA2", From="+31687654321")
    await voice(c, "/webhooks/twilio/voice/menu?node=root&lang=nl", "CA2",
                From="+31687654321", Digits="2", CallStatus="in-progress")
    c.clock.advance(timedelta(seconds=45))
    await voice(c, "/webhooks/twilio/voice/status", "CA2", From="+31687654321",
                CallStatus="completed", CallDuration="50")
    # 10:40:45 a caller asks for an agent; Anna picks up after 10 s and talks for 2 minutes.
    call_case = await answered_call(c, twilio, desk, "CA1")
    c.clock.advance(timedelta(minutes=2))
    await voice(c, "/webhooks/twilio/voice/status", "CA1", CallStatus="completed",
                CallDuration="140")
    await wrap_up(desk, call_case)

    # 16:00 a web form (not due yet), then a chat the visitor ends before anyone answers.
    c.clock.set(MONDAY + timedelta(hours=6))
    form = await c.contact(channel="webform", external_id="form-1", queue="q_complaints",
                           subject="Openingstijden", body="Wanneer zijn jullie open?",
                           **{"from": {"email": "piet@example.nl", "name": "Piet"}})
    await routed(c, form["case_id"])
    c.clock.advance(timedelta(seconds=10))
    await abandoned_chat(c)
    # Zoë rates her answered question 4 out of 5 (asked by phone, say).
    invitation = await c.services.surveys.start(
        customer_id=zoe["customer_id"], channel=Channel.PHONE, case_id=zoe["case_id"],
        contact_id=zoe["contact_id"])
    assert invitation is not None
    await c.services.surveys.record_answer(invitation.id, channel=Channel.PHONE, score=4)

    response = await c.client.get(REPORT, headers=c.supervisor)
    assert response.status == 200, await response.text()
    report = await response.json()

    assert report["period"] == {"from": "2026-11-23", "to": "2026-11-23", "timezone": "UTC",
                                "start": "2026-11-23T00:00:00+00:00",
                                "end": "2026-11-24T00:00:00+00:00"}
    volumes = report["volumes"]
    assert volumes["total"] == 8
    assert volumes["by_channel"] == {
        "chat": {"inbound": 1, "outbound": 0, "total": 1},
        "email": {"inbound": 3, "outbound": 1, "total": 4},
        "phone": {"inbound": 2, "outbound": 0, "total": 2},
        "webform": {"inbound": 1, "outbound": 0, "total": 1}}
    assert volumes["by_case_type"] == {"complaint": 2, "question": 6}
    assert volumes["by_day"] == [{"date": "2026-11-23", "total": 8,
                                  "by_channel": {"chat": 1, "email": 4, "phone": 2,
                                                 "webform": 1},
                                  "by_case_type": {"complaint": 2, "question": 6}}]

    assert report["service_level"]["calls"] == {
        "target_s": 20, "entered_queue": 2, "waiting": 0, "offered": 2, "answered": 1,
        "answered_within_target": 1, "abandoned": 1, "callbacks": 0, "percent": 50.0}
    first_response = report["service_level"]["first_response"]
    assert first_response["email_and_webform"] == {"met": 1, "missed": 1, "pending": 1,
                                                   "percent": 50.0}
    assert first_response["by_channel"] == {
        "chat": {"met": 0, "missed": 0, "pending": 1, "percent": None},
        "email": {"met": 1, "missed": 1, "pending": 0, "percent": 50.0},
        "phone": {"met": 1, "missed": 1, "pending": 0, "percent": 50.0},
        "webform": {"met": 0, "missed": 0, "pending": 1, "percent": None}}

    assert report["speed_of_answer"]["by_channel"]["email"] == {"accepted": 1,
                                                                "average_s": 20.0}
    assert report["speed_of_answer"]["by_channel"]["phone"] == {"accepted": 1,
                                                                "average_s": 10.0}
    # From the stored times: accept → wrap-up, split at the conversation's end (the e-mail
    # when Anna opened wrap-up, the call when it ended and she wrapped up at once).
    none = {"talk_average_s": None, "after_contact_work_average_s": None}
    assert report["handle_time"]["by_channel"] == {
        "chat": {"accepted": 0, "measured": 0, "average_s": None, **none},
        "email": {"accepted": 1, "measured": 1, "average_s": 2380.0,
                  "talk_average_s": 2320.0, "after_contact_work_average_s": 60.0},
        "phone": {"accepted": 1, "measured": 1, "average_s": 120.0,
                  "talk_average_s": 120.0, "after_contact_work_average_s": 0.0},
        "webform": {"accepted": 0, "measured": 0, "average_s": None, **none}}
    assert report["handle_time"]["total"] == {
        "accepted": 2, "measured": 2, "average_s": 1250.0, "talk_average_s": 1220.0,
        "after_contact_work_average_s": 30.0}
    assert report["first_response_time"]["by_channel"]["email"] == {"responded": 1,
                                                                     "average_s": 1800.0}
    assert report["first_response_time"]["by_channel"]["phone"] == {"responded": 1,
                                                                     "average_s": 10.0}

    assert report["abandonment"] == {
        "calls": {"offered": 2, "abandoned": 1, "percent": 50.0},
        "chats": {"chats": 1, "answered": 0, "abandoned": 1, "waiting": 0, "percent": 100.0}}
    both = {"wrapped_up": 1, "automatic": 0, "by_outcome": {"resolved": 1},
            "by_disposition": {"answered": 1}}
    assert report["outcomes"] == {
        "total": {"wrapped_up": 2, "automatic": 0, "by_outcome": {"resolved": 2},
                  "by_disposition": {"answered": 2}},
        "by_channel": {"email": both, "phone": both}}
    # Both were wrapped up resolved, but Zoë wrote twice: only the call was resolved at the
    # first contact.
    assert report["first_contact_resolution"] == {
        "wrapped_up": 2, "first_contact": 1, "percent": 50.0,
        "by_channel": {"email": {"wrapped_up": 1, "first_contact": 0, "percent": 0.0},
                       "phone": {"wrapped_up": 1, "first_contact": 1, "percent": 100.0}}}

    queues = {q["id"]: q for q in report["queues"]}
    assert set(queues) == {"q_general", "q_complaints"}
    assert queues["q_general"]["routed"] == 2 and queues["q_general"]["accepted"] == 2
    assert queues["q_general"]["average_handle_s"] == 1250.0
    assert queues["q_general"]["average_after_contact_work_s"] == 30.0
    assert queues["q_general"]["outcomes"] == {"resolved": 2}
    assert queues["q_general"]["first_contact_resolution"]["percent"] == 50.0
    assert queues["q_general"]["calls"] == {"offered": 1, "answered_within_target": 1,
                                            "abandoned": 0, "service_level_percent": 100.0}
    assert queues["q_complaints"]["routed"] == 4 and queues["q_complaints"]["accepted"] == 0
    assert queues["q_complaints"]["first_response"] == {"met": 0, "missed": 2, "pending": 2,
                                                        "percent": 0.0}
    assert queues["q_complaints"]["calls"]["abandoned"] == 1
    [agent] = report["agents"]
    assert agent["id"] == anna and agent["name"] == "Anna"
    assert (agent["accepted"], agent["handled"], agent["average_handle_s"]) == (2, 2, 1250.0)
    assert agent["average_answer_s"] == 15.0
    assert (agent["average_talk_s"], agent["average_after_contact_work_s"]) == (1220.0, 30.0)
    assert agent["outcomes"] == {"resolved": 2}
    assert report["satisfaction"] == {
        "responses": 1, "csat": {"count": 1, "average": 4.0, "satisfied_pct": 100.0},
        "nps": {"count": 0, "score": None}}

    # A stricter target: the call answered in 10 s misses 5 s.
    strict = await (await c.client.get(REPORT + "&answer_within_s=5",
                                       headers=c.supervisor)).json()
    assert strict["service_level"]["calls"]["answered_within_target"] == 0
    assert strict["service_level"]["calls"]["percent"] == 0.0

    export = await c.client.get(EXPORT, headers=c.supervisor)
    assert export.status == 200
    assert export.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert export.headers["Transfer-Encoding"] == "chunked"  # streamed, no length known
    assert export.headers["Content-Disposition"] == \
        'attachment; filename="contacts-2026-11-23_2026-11-23.csv"'
    raw = await export.read()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert ZOE.encode("utf-8") in raw
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [(r["channel"], r["direction"]) for r in rows] == [
        ("email", "inbound"), ("email", "inbound"), ("email", "inbound"),
        ("email", "outbound"), ("phone", "inbound"), ("phone", "inbound"),
        ("webform", "inbound"), ("chat", "inbound")]
    first, evil, second, reply, abandoned, answered, webform, chat = rows
    assert first["customer_name"] == ZOE and first["customer_id"] == zoe["customer_id"]
    assert first["received_at"] == "2026-11-23T10:00:00+00:00"
    assert first["case"].startswith("SW-") and first["case_type"] == "question"
    assert first["case_status"] == "resolved" and first["queue"] == "q_general"
    assert (first["wait_s"], first["handle_s"], first["talk_s"], first["acw_s"],
            first["first_response_s"], first["sla_met"], first["outcome"],
            first["disposition"], first["channel_outcome"], first["csat"]) == \
        ("20", "2380", "2320", "60", "1800", "yes", "resolved", "answered", "", "4")
    # The follow-up and the reply are on the same case, but were not routed themselves.
    assert second["case"] == reply["case"] == first["case"]
    assert (second["wait_s"], second["handle_s"], second["sla_met"], second["outcome"]) == \
        ("", "", "", "")
    assert evil["customer_name"] == "'" + HOSTILE
    assert (evil["case_type"], evil["sla_met"], evil["wait_s"]) == ("complaint", "no", "")
    assert (abandoned["channel_outcome"], abandoned["outcome"], abandoned["wait_s"],
            abandoned["sla_met"]) == ("abandoned", "", "45", "no")
    assert (answered["channel_outcome"], answered["outcome"], answered["wait_s"],
            answered["handle_s"], answered["talk_s"], answered["acw_s"],
            answered["first_response_s"], answered["sla_met"]) == \
        ("answered", "resolved", "10", "120", "120", "0", "10", "yes")
    assert (webform["sla_met"], webform["queue"]) == ("", "q_complaints")
    assert (chat["channel_outcome"], chat["outcome"], chat["sla_met"]) == \
        ("abandoned", "", "")

    semicolons = await (await c.client.get(EXPORT + "&sep=semicolon",
                                           headers=c.supervisor)).read()
    assert semicolons.decode("utf-8-sig").splitlines()[0].startswith("contact_id;received_at;")
    await desk.close()


async def test_only_supervisors_see_reports_and_days_are_checked(api: Api) -> None:
    supervisor = api.headers(Role.SUPERVISOR)
    assert (await api.client.get("/api/reports/summary")).status == 401
    assert (await api.client.get("/api/reports/summary",
                                 headers=api.headers(Role.AGENT))).status == 403
    assert (await api.client.get("/api/reports/contacts.csv",
                                 headers=api.headers(Role.AGENT))).status == 403
    assert (await api.client.get("/api/reports/summary",
                                 headers=api.headers(Role.ADMIN))).status == 200

    for query, field in (("from=2026-11-24&to=2026-11-23", "from"),
                         ("from=2025-01-01&to=2026-11-23", "to"),
                         ("from=2026-02-30", "from"), ("to=gisteren", "to"),
                         ("answer_within_s=0", "answer_within_s"), ("days=3", "days")):
        refused = await api.client.get(f"/api/reports/summary?{query}", headers=supervisor)
        assert refused.status == 422, query
        assert field in (await refused.json())["error"]["fields"], query
    assert (await api.client.get("/api/reports/contacts.csv?sep=tab",
                                 headers=supervisor)).status == 422

    # By default the last seven days, today included, in UTC (no business time zone set).
    empty = await (await api.client.get("/api/reports/summary", headers=supervisor)).json()
    today = datetime.now(UTC).date()
    assert empty["period"]["to"] == today.isoformat()
    assert empty["period"]["from"] == (today - timedelta(days=6)).isoformat()
    assert len(empty["volumes"]["by_day"]) == 7
    assert empty["volumes"]["total"] == 0
    assert empty["service_level"]["calls"]["percent"] is None
    assert empty["first_contact_resolution"]["percent"] is None
    # Only a start: the week from it.
    week = await (await api.client.get("/api/reports/summary?from=2026-03-27",
                                       headers=supervisor)).json()
    assert (week["period"]["from"], week["period"]["to"]) == ("2026-03-27", "2026-04-02")

    export = await api.client.get("/api/reports/contacts.csv?from=2026-11-23",
                                  headers=supervisor)
    assert export.status == 200
    assert (await export.read()).decode("utf-8") == \
        "\ufeffcontact_id,received_at,channel,direction,customer_id,customer_name,case," \
        "case_type,case_status,queue,wait_s,handle_s,talk_s,acw_s,first_response_s,sla_met," \
        "outcome,disposition,channel_outcome,csat\r\n"

    described = await (await api.client.get("/api/openapi.json")).json()
    summary = described["paths"]["/api/reports/summary"]["get"]
    assert {p["name"] for p in summary["parameters"]} == {"from", "to", "answer_within_s"}
    assert "/api/reports/contacts.csv" in described["paths"]


# --- driving the channels ------------------------------------------------------------------


async def email(c: Centre, message_id: str, address: str, name: str, **extra: Any,
                ) -> dict[str, Any]:
    text = {"subject": "Vraag", "body": "Wanneer komt mijn bestelling?", **extra}
    return await c.contact(channel="email", external_id=message_id,
                           **{"from": {"email": address, "name": name}}, **text)


async def voice(c: Centre, path_qs: str, sid: str, **params: str) -> str:
    """A Twilio webhook, signed as Twilio signs it."""
    form = {"CallSid": sid, "AccountSid": "AC123", "From": "+31612345678",
            "To": "+31201234567", "CallStatus": "ringing", "Direction": "inbound", **params}
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + path_qs, form)
    response = await c.client.post(path_qs, data=form,
                                   headers={"X-Twilio-Signature": signature})
    assert response.status in (200, 204), await response.text()
    return await response.text()


async def answered_call(c: Centre, twilio: FakeTwilio, desk: ClientWebSocketResponse,
                        sid: str) -> str:
    """A caller asks for an agent; the offer rings Anna, who picks up ten seconds later."""
    await voice(c, "/webhooks/twilio/voice", sid)
    await voice(c, "/webhooks/twilio/voice/menu?node=root&lang=nl", sid, Digits="0",
                CallStatus="in-progress")
    offer = await receive(desk, "offer")
    assert offer["channel"] == "phone"
    [(_, update)] = await twilio.wait_for_updates(1)
    dial = await voice(c, update["Url"].removeprefix(PUBLIC), sid)
    agent_leg = dial.split('url="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    c.clock.advance(timedelta(seconds=10))
    await voice(c, agent_leg, sid + "-agent")
    case_id: str = offer["case"]["id"]
    return case_id


async def abandoned_chat(c: Centre) -> None:
    url = c.client.make_url("/")
    ws = await c.client.ws_connect("/chat/ws",
                                   headers={"Origin": f"{url.scheme}://{url.host}:{url.port}"})
    await ws.send_json({"type": "hello", "name": "Eva", "language": "nl"})
    welcome = await receive(ws, "welcome")
    await ws.send_json({"type": "message", "text": "Is er iemand?", "client_msg_id": "m-1"})
    await receive(ws, "ack")

    async def chat_case() -> str | None:
        async with c.services.read_uow() as uow:
            found = await uow.chat.get_conversation(welcome["conversation_id"])
        return found.case_id if found is not None else None

    case_id = await until(chat_case, "the chat became a case")
    await routed(c, case_id)
    c.clock.advance(timedelta(seconds=30))
    await ws.send_json({"type": "end"})
    assert (await receive(ws, "message"))["event"] == "ended"
    await ws.close()


async def wrap_up(desk: ClientWebSocketResponse, case_id: str) -> None:
    await desk.send_json({"type": "wrap_up", "case_id": case_id, "disposition": "answered",
                          "outcome": "resolved"})
    assert (await receive(desk, "wrapped_up"))["case_id"] == case_id


async def routed(c: Centre, case_id: str) -> None:
    async def item() -> object:
        async with c.services.read_uow() as uow:
            return await uow.work.item_for_case(case_id)
    await until(item, f"case {case_id} was routed")


async def first_response_stopped(c: Centre, case_id: str) -> bool:
    async with c.services.read_uow() as uow:
        clocks = await uow.sla.clocks_for_case(case_id)
    return any(k.kind is SlaKind.FIRST_RESPONSE and k.stopped for k in clocks)


async def until(probe: Callable[[], Awaitable[Any]], what: str) -> Any:
    """What the workers do on their own, awaited with a deadline; the test clock stays put
    meanwhile, so every time they record is the one the test set."""
    try:
        async with asyncio.timeout(WAIT_S):
            while True:
                found = await probe()
                if found:
                    return found
                await asyncio.sleep(0.01)  # a poll interval, not a wait for time to pass
    except TimeoutError:
        raise AssertionError(f"not within {WAIT_S} s: {what}") from None


async def test_an_export_that_fails_part_way_is_cut_short_not_passed_off_as_complete(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    created = await api.client.post("/api/contacts", headers=api.headers(Role.AGENT), json={
        "channel": "email", "external_id": "<x1@example.nl>",
        "from": {"email": "jan@example.nl"}, "subject": "Vraag"})
    assert created.status == 202
    today = datetime.now(UTC).date().isoformat()
    real = SqlReports.contact_lines

    async def breaks_after_one(self: SqlReports, start: datetime, end: datetime, *,
                               now: datetime) -> AsyncIterator[ContactLine]:
        async for line in real(self, start, end, now=now):
            yield line
        raise ConnectionError("the database went away")

    monkeypatch.setattr(SqlReports, "contact_lines", breaks_after_one)
    export = await api.client.get(f"/api/reports/contacts.csv?from={today}",
                                  headers=api.headers(Role.SUPERVISOR))
    assert export.status == 200  # the headers were sent with the first row
    with pytest.raises(ClientPayloadError):
        await export.read()
