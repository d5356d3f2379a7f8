"""Wrap-up end to end on the real service — HTTP API, workers, agent WebSockets — on SQLite
and PostgreSQL: the conversation ending puts the agent in after-contact work (shown on the
wallboard, capacity held), wrap-up records a disposition from the supervisors' list and an
outcome the case follows, a planned callback comes back as phone work at its time, and
after-contact work that runs out of time is wrapped up by the desk timer on the test clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from core.domain.channels import Channel
from core.domain.work import WorkItem, WorkKind, WorkStatus, WrapUpOutcome
from routing.wallboard import Wallboard
from tests.support.centre import Centre, available, receive, running_centre
from tests.support.mail import MAIL_FROM

START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # a Tuesday, office hours in Amsterdam


@pytest.fixture
async def centre(database_url: str) -> AsyncIterator[Centre]:
    # Replies are queued for an SMTP server nobody runs: sending is not what is tested.
    mail = {"mail_from": MAIL_FROM, "smtp_url": SecretStr("smtp://127.0.0.1:9")}
    async with running_centre(database_url, START, extra_settings=mail) as running:
        yield running


async def stored(centre: Centre, case_id: str) -> list[WorkItem]:
    """The case's work items, oldest first, as the database holds them."""
    async with centre.services.read_uow() as uow:
        item = await uow.work.item_for_case(case_id)
        offers = await uow.work.offers_for_case(case_id)
        ids = dict.fromkeys([o.work_item_id for o, _ in offers]
                            + ([item.id] if item else []))
        found = [await uow.work.get_item(i) for i in ids]
    return [i for i in found if i is not None]


async def test_a_reply_starts_after_contact_work_and_a_planned_callback_comes_back(
        centre: Centre) -> None:
    _, anna = await centre.agent("Anna", tier=1, skills={}, queues=["q_general"])
    desk = await available(centre, anna)
    opened = await centre.contact(channel="email", external_id="<w-1@example.nl>",
                                  **{"from": {"email": "jan@example.nl", "name": "Jan"}},
                                  subject="Mijn factuur klopt niet", queue="q_general")
    case_id = opened["case_id"]
    offer = await receive(desk, "offer")
    centre.clock.advance(timedelta(seconds=5))
    await desk.send_json({"type": "accept", "offer_id": offer["offer_id"]})
    await receive(desk, "accepted")

    # 09:05:05 Anna's reply leaves: the conversation is over, after-contact work begins.
    centre.clock.advance(timedelta(minutes=5))
    replied = await centre.client.post(f"/api/cases/{case_id}/replies", headers=anna,
                                       json={"body": "Ik bel u vanmiddag terug."})
    assert replied.status == 202, await replied.text()
    acw = await receive(desk, "after_contact_work")
    assert acw == {"type": "after_contact_work", "case_id": case_id,
                   "started_at": "2026-11-24T09:05:05+00:00",
                   "due_at": "2026-11-24T09:07:05+00:00", "reason": "reply sent"}
    assert (await receive(desk, "presence"))["status"] == "after_contact_work"
    board = await Wallboard(centre.services.read_uow, centre.clock).snapshot()
    [agent] = board.agents
    assert (agent.presence.value, agent.presence_since) == ("after_contact_work",
                                                            START + timedelta(seconds=305))
    assert [(w.case_id, w.after_contact_work_since) for w in agent.work] == [
        (case_id, START + timedelta(seconds=305))]
    assert agent.capacity[Channel.EMAIL].used == 1  # held until wrapped up
    [held] = (await (await centre.client.get("/api/cases?held_by=me",
                                             headers=anna)).json())["items"]
    assert held["work"]["after_contact_work"] is True
    assert held["work"]["wrap_up_due_at"] == "2026-11-24T09:07:05+00:00"

    # A code nobody configured is refused with the ones that would do.
    await desk.send_json({"type": "wrap_up", "case_id": case_id, "disposition": "gebeld"})
    refused = await receive(desk, "error")
    assert (refused["code"], refused["ref"]) == ("invalid", "wrap_up")
    assert "use one of answered, information, callback_planned" in refused["message"]
    await desk.send_json({"type": "wrap_up", "case_id": case_id,
                          "disposition": "callback_planned", "outcome": "callback_planned"})
    assert "callback_at" in (await receive(desk, "error"))["message"]

    # 09:06:05 she promises to call back at 14:00 (13:00 UTC).
    centre.clock.advance(timedelta(minutes=1))
    callback_at = "2026-11-24T14:00:00+01:00"
    await desk.send_json({"type": "wrap_up", "case_id": case_id,
                          "disposition": "callback_planned", "outcome": "callback_planned",
                          "callback_at": callback_at})
    done = await receive(desk, "wrapped_up")
    assert done == {"type": "wrapped_up", "case_id": case_id,
                    "disposition": "callback_planned", "outcome": "callback_planned",
                    "callback_at": "2026-11-24T13:00:00+00:00", "automatic": False}
    assert (await receive(desk, "presence"))["status"] == "available"

    contact_work, callback = await stored(centre, case_id)
    assert (contact_work.status, contact_work.kind) == (WorkStatus.COMPLETED, WorkKind.CONTACT)
    assert (contact_work.accepted_at, contact_work.conversation_ended_at,
            contact_work.completed_at) == (START + timedelta(seconds=5),
                                           START + timedelta(seconds=305),
                                           START + timedelta(seconds=365))
    assert (contact_work.disposition, contact_work.outcome) == (
        "callback_planned", WrapUpOutcome.CALLBACK_PLANNED)
    assert (callback.kind, callback.status, callback.channel) == (
        WorkKind.CALLBACK, WorkStatus.QUEUED, Channel.PHONE)
    case = await (await centre.client.get(f"/api/cases/{case_id}", headers=anna)).json()
    assert case["status"] == "open"  # the case stays open for the callback
    assert (case["work"]["kind"], case["work"]["waiting_since"]) == (
        "callback", "2026-11-24T13:00:00+00:00")
    board = await Wallboard(centre.services.read_uow, centre.clock).snapshot()
    assert board.waiting == {}  # a callback for later is not waiting yet

    # At 14:00 the callback is phone work, offered to Anna who promised it.
    centre.clock.set(datetime(2026, 11, 24, 13, 0, tzinfo=UTC))
    centre.services.wakeups.dispatch.set()
    again = await receive(desk, "offer")
    assert (again["case"]["id"], again["channel"]) == (case_id, "phone")
    await desk.close()


async def test_after_contact_work_that_runs_out_is_wrapped_up_for_the_agent(
        centre: Centre) -> None:
    # Work in the complaints queue (where unrouted chats land: the first queue) gets 30 s of
    # after-contact work; elsewhere the default.
    read = await (await centre.client.get("/api/routing/config/policy",
                                          headers=centre.supervisor)).json()
    bad = await centre.client.put("/api/routing/config/policy", headers=centre.supervisor,
                                  json={"document": {**read["document"],
                                                     "after_contact_work_s_by_queue":
                                                         {"q_complaints": 3}},
                                        "revision": read["revision"]})
    assert bad.status == 422
    assert "after_contact_work_s_by_queue.q_complaints" in \
        (await bad.json())["error"]["fields"]
    saved = await centre.client.put("/api/routing/config/policy", headers=centre.supervisor,
                                    json={"document": {**read["document"],
                                                       "after_contact_work_s_by_queue":
                                                           {"q_complaints": 30}},
                                          "revision": read["revision"]})
    assert saved.status == 200, await saved.text()

    anna_id, anna = await centre.agent("Anna", tier=1, skills={},
                                       queues=["q_general", "q_complaints"])
    desk = await available(centre, anna)
    url = centre.client.make_url("/")
    visitor = await centre.client.ws_connect("/chat/ws", headers={
        "Origin": f"{url.scheme}://{url.host}:{url.port}"})
    await visitor.send_json({"type": "hello", "name": "Piet"})
    await receive(visitor, "welcome")
    await visitor.send_json({"type": "message", "text": "Hallo?", "client_msg_id": "c-1"})
    offer = await receive(desk, "offer")
    case_id = offer["case"]["id"]
    await desk.send_json({"type": "accept", "offer_id": offer["offer_id"]})
    await receive(desk, "accepted")

    centre.clock.advance(timedelta(minutes=2))
    await visitor.send_json({"type": "end"})  # the visitor leaves: after-contact work
    acw = await receive(desk, "after_contact_work")
    assert (acw["reason"], acw["due_at"]) == ("chat ended by the visitor",
                                              "2026-11-24T09:02:30+00:00")
    async with centre.services.read_uow() as uow:
        assert (await uow.work.get_load(anna_id)).holding(Channel.CHAT) == 1  # type: ignore[union-attr]

    # 31 s later the desk timer wraps it up for her: disposition "auto", the case as it was.
    centre.clock.advance(timedelta(seconds=31))
    centre.services.wakeups.offers.set()
    done = await receive(desk, "wrapped_up")
    assert (done["case_id"], done["disposition"], done["outcome"], done["automatic"]) == (
        case_id, "auto", "open", True)
    assert (await receive(desk, "presence"))["status"] == "available"
    [item] = await stored(centre, case_id)
    assert (item.status, item.disposition, item.outcome) == (
        WorkStatus.COMPLETED, "auto", WrapUpOutcome.OPEN)
    assert item.completed_at == START + timedelta(seconds=151)
    async with centre.services.read_uow() as uow:
        assert (await uow.work.get_load(anna_id)).holding(Channel.CHAT) == 0  # type: ignore[union-attr]
    case = await (await centre.client.get(f"/api/cases/{case_id}", headers=anna)).json()
    assert case["status"] == "open"
    await visitor.close()
    await desk.close()


async def test_supervisors_keep_the_codes_per_queue_and_rest_clients_wrap_up(
        centre: Centre) -> None:
    codes: list[dict[str, Any]] = [
        {"code": "answered", "labels": {"nl": "Beantwoord", "en": "Answered"}},
        {"code": "complaint_logged", "labels": {"nl": "Klacht vastgelegd",
                                                "en": "Complaint logged"},
         "queues": ["q_complaints"]}]
    path = "/api/routing/config/dispositions"
    refused = await centre.client.put(path, headers=centre.supervisor, json={"document": [
        {"code": "auto", "labels": {"nl": "x", "en": "x"}},
        {"code": "answered", "labels": {"nl": "Beantwoord"}, "queues": ["q_nope"]}]})
    assert refused.status == 422
    assert set((await refused.json())["error"]["fields"]) == {
        "dispositions[0].code", "dispositions[1].labels.en", "dispositions[1].queues[0]"}
    saved = await centre.client.put(path, headers=centre.supervisor, json={"document": codes})
    assert saved.status == 200, await saved.text()

    _, anna = await centre.agent("Anna", tier=1, skills={}, queues=["q_general"])
    listed = await (await centre.client.get("/api/dispositions?queue=q_general",
                                            headers=anna)).json()
    assert [d["code"] for d in listed["items"]] == ["answered"]
    assert listed["outcomes"] == ["resolved", "follow_up", "callback_planned", "open"]
    complaints = await (await centre.client.get("/api/dispositions?queue=q_complaints",
                                                headers=anna)).json()
    assert [d["code"] for d in complaints["items"]] == ["answered", "complaint_logged"]

    desk = await available(centre, anna)
    opened = await centre.contact(channel="email", external_id="<w-3@example.nl>",
                                  **{"from": {"email": "els@example.nl"}}, subject="Vraag",
                                  queue="q_general")
    offer = await receive(desk, "offer")
    await desk.send_json({"type": "accept", "offer_id": offer["offer_id"]})
    await receive(desk, "accepted")
    wrap_up = f"/api/cases/{opened['case_id']}/wrap-up"
    wrong = await centre.client.post(wrap_up, headers=anna, json={
        "disposition": "complaint_logged", "outcome": "resolved"})
    assert wrong.status == 422
    assert "use one of answered" in (await wrong.json())["error"]["fields"]["disposition"]
    assert (await centre.client.post(wrap_up, headers=centre.supervisor, json={
        "disposition": "answered"})).status == 422  # a supervisor holds no work

    # An older client's "pending" is the follow-up outcome: the case waits on the customer.
    done = await centre.client.post(wrap_up, headers=anna, json={
        "disposition": "answered", "outcome": "pending"})
    assert done.status == 200, await done.text()
    work = await done.json()
    assert (work["status"], work["outcome"], work["disposition"]) == (
        "completed", "follow_up", "answered")
    case = await (await centre.client.get(f"/api/cases/{opened['case_id']}",
                                          headers=anna)).json()
    assert (case["status"], case["work"]) == ("pending", None)
    await desk.close()
