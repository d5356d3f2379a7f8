"""Routing end to end on the real service: the HTTP API, the workers (relay, router,
dispatcher, notifier) and agents on real WebSocket connections — on SQLite and PostgreSQL.

A Dutch complaint by e-mail from a gold customer must reach an available 2nd-line agent
with the complaint skill; when that agent does not take it, the offer moves on.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.centre import WAIT_S, Centre, available, receive, running_centre

# A Tuesday morning in office hours, Europe/Amsterdam.
START = datetime(2026, 11, 17, 9, 30, tzinfo=UTC)

RULES: dict[str, Any] = {
    "default_queue": "q_general",
    "rules": [
        {"id": "gold", "name": "Gold first", "condition": 'segment == "gold"',
         "actions": {"priority": 3, "tags": ["gold"]}, "stop": False},
        {"id": "complaints", "name": "Complaints to 2nd line",
         "condition": 'classification == "complaint"',
         "actions": {"queue": "q_complaints", "tier": 2, "skills": {"complaints": 3},
                     "tags": ["klacht"]}, "stop": True},
    ],
}


@pytest.fixture
async def centre(database_url: str) -> AsyncIterator[Centre]:
    async with running_centre(database_url, START) as running:
        yield running


async def gold_complaint(centre: Centre) -> str:
    first = await centre.client.post("/api/contacts", headers=centre.admin, json={
        "channel": "email", "external_id": "<earlier@example.nl>",
        "from": {"email": "marieke@example.nl", "name": "Marieke Jansen"},
        "subject": "Adreswijziging", "body": "Mijn nieuwe adres is Dorpsstraat 1."})
    customer_id = (await first.json())["customer_id"]
    patched = await centre.client.patch(f"/api/customers/{customer_id}",
                                        headers=centre.supervisor, json={"segment": "gold"})
    assert patched.status == 200, await patched.text()
    complaint = await centre.client.post("/api/contacts", headers=centre.admin, json={
        "channel": "email", "external_id": "<klacht-1@example.nl>",
        "from": {"email": "marieke@example.nl"},
        "subject": "Klacht over de levering",
        "body": "Ik ben zeer ontevreden over jullie service. Dit is schandalig!"})
    assert complaint.status == 202, await complaint.text()
    case_id: str = (await complaint.json())["case_id"]
    return case_id


async def test_a_dutch_gold_complaint_reaches_an_available_second_line_complaint_agent(
        centre: Centre) -> None:
    await centre.publish(RULES)
    _, first_line = await centre.agent("Anna", tier=1, skills={"nl": 5},
                                       queues=["q_general", "q_complaints"])
    chris, second_line = await centre.agent("Chris", tier=2, skills={"complaints": 4},
                                            queues=["q_complaints"])
    anna_ws = await available(centre, first_line)
    chris_ws = await available(centre, second_line)

    case_id = await gold_complaint(centre)
    offer = await receive(chris_ws, "offer")

    assert offer["case"]["id"] == case_id
    assert offer["case"]["type"] == "complaint"
    assert offer["case"]["priority"] == "high"
    assert offer["case"]["queue"] == "q_complaints"
    assert offer["screen_pop"]["customer"]["segment"] == "gold"
    assert [c["subject"] for c in offer["screen_pop"]["timeline"]] == [
        "Klacht over de levering", "Adreswijziging"]
    await chris_ws.send_json({"type": "accept", "offer_id": offer["offer_id"]})
    assert (await receive(chris_ws, "accepted"))["case_id"] == case_id

    routing = await (await centre.client.get(f"/api/cases/{case_id}/routing",
                                             headers=centre.supervisor)).json()
    decision = routing["decisions"][0]
    assert decision["outcome"]["matched"] == ["gold", "complaints"]
    assert decision["classification"]["case_type"] == "complaint"
    assert routing["offers"][0]["agent_id"] == chris
    assert routing["offers"][0]["status"] == "accepted"
    # Anna (1st line) may get the earlier question, but never saw the complaint.
    await anna_ws.send_json({"type": "ping"})
    seen: list[dict[str, Any]] = []
    while (message := await anna_ws.receive_json())["type"] != "pong":
        seen.append(message)
    assert case_id not in [m["case"]["id"] for m in seen if m["type"] == "offer"]
    await anna_ws.close()
    await chris_ws.close()


async def test_an_offer_nobody_takes_moves_on_after_a_decline_and_a_timeout(
        centre: Centre) -> None:
    await centre.publish(RULES)
    agents = {}
    sockets = {}
    for name in ("Chris", "Dirk", "Eva"):
        agent_id, headers = await centre.agent(name, tier=2, skills={"complaints": 4},
                                               queues=["q_complaints"])
        agents[agent_id] = name
        sockets[name] = await available(centre, headers)
        centre.clock.advance(timedelta(seconds=1))  # distinct idle times: Chris idles longest

    await gold_complaint(centre)
    first = await receive(sockets["Chris"], "offer")
    await sockets["Chris"].send_json({"type": "decline", "offer_id": first["offer_id"]})
    await receive(sockets["Chris"], "declined")

    second = await receive(sockets["Dirk"], "offer")
    assert second["case"]["id"] == first["case"]["id"]
    # Dirk lets it ring: past the offer timeout the offer is withdrawn and moves on.
    centre.clock.advance(timedelta(seconds=31))
    centre.services.wakeups.offers.set()
    withdrawn = await receive(sockets["Dirk"], "offer_withdrawn")
    assert withdrawn == {"type": "offer_withdrawn", "offer_id": second["offer_id"],
                         "reason": "expired"}
    third = await receive(sockets["Eva"], "offer")
    assert third["case"]["id"] == first["case"]["id"]
    await sockets["Eva"].send_json({"type": "accept", "offer_id": third["offer_id"]})
    await receive(sockets["Eva"], "accepted")
    for ws in sockets.values():
        await ws.close()


async def test_an_agent_who_keeps_missing_offers_is_set_away(centre: Centre) -> None:
    await centre.publish(RULES)
    _, headers = await centre.agent("Chris", tier=2, skills={"complaints": 4},
                                    queues=["q_complaints"])
    chris = await available(centre, headers)
    await gold_complaint(centre)

    offer = await receive(chris, "offer")
    for missed in range(1, 4):  # the default policy allows three misses in a row
        centre.clock.advance(timedelta(seconds=31))
        centre.services.wakeups.offers.set()
        # The next offer may overtake the notice that this one lapsed: the dispatcher
        # pushes offers itself, the notice comes round through the bus.
        withdrawn, offer = await _lapsed_then_next(chris, offer["offer_id"],
                                                   expect_next=missed < 3)
        assert withdrawn["reason"] == "expired"

    presence = await receive(chris, "presence")
    assert presence == {"type": "presence", "status": "away",
                        "reason": "missed 3 offers in a row"}
    agents = await (await centre.client.get("/api/agents", headers=centre.supervisor)).json()
    assert [a["presence"] for a in agents["items"]] == ["away"]
    await chris.close()


async def test_first_line_transfers_to_second_line_and_the_case_is_wrapped_up(
        centre: Centre) -> None:
    await centre.publish(RULES)
    _, anna_headers = await centre.agent("Anna", tier=1, skills={}, queues=["q_general"])
    chris_id, chris_headers = await centre.agent("Chris", tier=2, skills={},
                                                 queues=["q_general"])
    anna = await available(centre, anna_headers)
    created = await centre.contact(
        channel="email", external_id="<vraag@example.nl>",
        **{"from": {"email": "kees@example.nl", "name": "Kees"}},
        subject="Vraag over mijn contract", body="Wanneer loopt mijn contract af?")
    case_id = created["case_id"]
    offer = await receive(anna, "offer")
    assert offer["case"]["id"] == case_id
    await anna.send_json({"type": "accept", "offer_id": offer["offer_id"]})
    await receive(anna, "accepted")

    chris = await available(centre, chris_headers)
    await anna.send_json({"type": "transfer", "case_id": case_id, "second_line": True})
    await receive(anna, "transferred")
    handed_on = await receive(chris, "offer")
    # The case travels with its history: same case, same contact, now for 2nd line.
    assert handed_on["case"]["id"] == case_id
    assert handed_on["contact"]["subject"] == "Vraag over mijn contract"
    await chris.send_json({"type": "accept", "offer_id": handed_on["offer_id"]})
    await receive(chris, "accepted")
    await chris.send_json({"type": "wrap_up", "case_id": case_id,
                           "disposition": "answered", "outcome": "resolved"})
    await receive(chris, "wrapped_up")

    case = await (await centre.client.get(f"/api/cases/{case_id}",
                                          headers=centre.supervisor)).json()
    assert (case["status"], case["owner"]) == ("resolved", chris_id)
    routing = await (await centre.client.get(f"/api/cases/{case_id}/routing",
                                             headers=centre.supervisor)).json()
    assert [o["status"] for o in routing["offers"]] == ["accepted", "accepted"]
    assert routing["offers"][1]["trace"]["requirements"]["tiers"] == [2]
    await anna.close()
    await chris.close()


async def test_a_case_resolved_while_it_is_offered_is_taken_back_from_the_agent(
        centre: Centre) -> None:
    await centre.publish(RULES)
    chris, headers = await centre.agent("Chris", tier=2, skills={"complaints": 4},
                                        queues=["q_complaints"])
    chris_ws = await available(centre, headers)
    case_id = await gold_complaint(centre)
    offer = await receive(chris_ws, "offer")

    # A colleague answered the customer some other way and resolves the case meanwhile.
    resolved = await centre.client.patch(f"/api/cases/{case_id}", headers=centre.supervisor,
                                         json={"status": "resolved"})
    assert resolved.status == 200, await resolved.text()

    withdrawn = await receive(chris_ws, "offer_withdrawn")
    assert withdrawn["offer_id"] == offer["offer_id"]
    await chris_ws.send_json({"type": "accept", "offer_id": offer["offer_id"]})
    assert (await receive(chris_ws, "error"))["code"] == "conflict"
    routing = await (await centre.client.get(f"/api/cases/{case_id}/routing",
                                             headers=centre.supervisor)).json()
    assert [o["status"] for o in routing["offers"]] == ["withdrawn"]
    async with centre.services.read_uow() as uow:
        load = await uow.work.get_load(chris)
        assert await uow.work.item_for_case(case_id) is None  # nothing live left
    assert load is not None and load.total == 0
    await chris_ws.close()


async def _lapsed_then_next(ws: Any, offer_id: str, *, expect_next: bool,
                            ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The withdrawal of ``offer_id`` and, when expected, the next offer, in either order."""
    withdrawn: dict[str, Any] = {}
    following: dict[str, Any] = {}
    async with asyncio.timeout(WAIT_S):
        while not withdrawn or (expect_next and not following):
            message = await ws.receive_json()
            if message["type"] == "offer_withdrawn" and message["offer_id"] == offer_id:
                withdrawn = message
            elif message["type"] == "offer" and message["offer_id"] != offer_id:
                following = message
    return withdrawn, following
