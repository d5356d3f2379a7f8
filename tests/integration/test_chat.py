"""Live chat over real WebSockets: a visitor, the routing, an agent, dropped connections
and hostile clients."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import ClientWebSocketResponse, WSMsgType

from tests.support.centre import Centre, available, receive, running_centre

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday, inside office hours
WAIT_S = 10.0


@pytest.fixture
async def centre(database_url: str) -> AsyncIterator[Centre]:
    async with running_centre(database_url, START) as running:
        yield running


def origin(centre: Centre) -> dict[str, str]:
    url = centre.client.make_url("/")
    return {"Origin": f"{url.scheme}://{url.host}:{url.port}"}


async def visitor(centre: Centre, **hello: Any) -> tuple[ClientWebSocketResponse, dict[str, Any]]:
    ws = await centre.client.ws_connect("/chat/ws", headers=origin(centre))
    await ws.send_json({"type": "hello", **hello})
    welcome = await receive(ws, "welcome")
    return ws, welcome


async def say(ws: ClientWebSocketResponse, text: str, client_msg_id: str) -> dict[str, Any]:
    await ws.send_json({"type": "message", "text": text, "client_msg_id": client_msg_id})
    return await receive(ws, "ack")


async def message_from(ws: ClientWebSocketResponse, sender: str) -> dict[str, Any]:
    async with asyncio.timeout(WAIT_S):
        while True:
            found: dict[str, Any] = await ws.receive_json()
            if found["type"] == "message" and found["from"] == sender:
                return found


async def chat_case(centre: Centre, conversation_id: str) -> str:
    async with asyncio.timeout(WAIT_S):
        while True:
            async with centre.services.read_uow() as uow:
                conversation = await uow.chat.get_conversation(conversation_id)
            if conversation is not None and conversation.case_id:
                return conversation.case_id
            await asyncio.sleep(0.02)


async def test_a_visitor_chat_reaches_an_agent_and_back(centre: Centre) -> None:
    _, headers = await centre.agent("Anna", tier=1, skills={},
                                    queues=["q_general", "q_complaints"])
    desk = await available(centre, headers)
    ws, welcome = await visitor(centre, name="Piet", language="nl", topic="Bezorging")
    assert welcome["agents_available"] is True and welcome["visitor_id"].startswith("vis_")

    ack = await say(ws, "Waar is mijn pakket?", "c-1")
    assert ack["seq"] == 1
    offer = await receive(desk, "offer")
    case_id = await chat_case(centre, welcome["conversation_id"])
    assert offer["case"]["id"] == case_id and offer["channel"] == "chat"
    await desk.send_json({"type": "accept", "offer_id": offer["offer_id"]})
    joined = await message_from(ws, "system")
    assert joined["event"] == "agent_joined" and joined["text"] == "Anna"

    await ws.send_json({"type": "typing", "typing": True})
    assert (await receive(desk, "chat_typing"))["conversation_id"] == welcome["conversation_id"]
    answer = await centre.client.post(
        f"/api/chat/conversations/{welcome['conversation_id']}/messages", headers=headers,
        json={"text": "Het komt morgen."})
    assert answer.status == 201
    from_agent = await message_from(ws, "agent")
    assert from_agent["text"] == "Het komt morgen." and from_agent["seq"] == 3

    await say(ws, "Dank u!", "c-2")
    pushed = await receive(desk, "chat_message")
    while pushed["from"] != "visitor":  # the desk also hears its own messages (other tabs)
        pushed = await receive(desk, "chat_message")
    assert pushed["text"] == "Dank u!" and pushed["case_id"] == case_id

    await desk.send_json({"type": "wrap_up", "case_id": case_id, "disposition": "answered",
                          "outcome": "resolved"})
    assert (await message_from(ws, "system"))["event"] == "agent_left"
    await ws.send_json({"type": "end"})
    assert (await message_from(ws, "system"))["event"] == "ended"
    async with centre.services.read_uow() as uow:
        case = await uow.cases.get(case_id)
        contact = (await uow.contacts.for_case(case_id, limit=5))[0]
    assert case is not None and contact.channel.value == "chat"
    assert contact.transcript is not None
    assert "Waar is mijn pakket?" in contact.transcript and "Het komt morgen." in contact.transcript
    await ws.close()
    await desk.close()


async def test_messages_sent_during_a_drop_arrive_once_and_in_order(centre: Centre) -> None:
    _, headers = await centre.agent("Bram", tier=1, skills={},
                                    queues=["q_general", "q_complaints"])
    ws, welcome = await visitor(centre)
    await say(ws, "Hallo?", "c-1")
    conversation = welcome["conversation_id"]
    await ws.close()  # the train goes into a tunnel

    for text in ("Een", "Twee", "Drie"):
        posted = await centre.client.post(f"/api/chat/conversations/{conversation}/messages",
                                          headers=headers, json={"text": text})
        assert posted.status == 201

    back, again = await visitor(centre, visitor_id=welcome["visitor_id"],
                                conversation_id=conversation, after_seq=1)
    assert again["resumed"] is True and again["conversation_id"] == conversation
    received = [await message_from(back, "agent") for _ in range(3)]
    assert [m["text"] for m in received] == ["Een", "Twee", "Drie"]
    assert [m["seq"] for m in received] == [2, 3, 4]

    # The widget resends its unacknowledged message after reconnecting: stored once.
    assert (await say(back, "Hallo?", "c-1"))["seq"] == 1
    await centre.client.post(f"/api/chat/conversations/{conversation}/messages",
                             headers=headers, json={"text": "Vier"})
    live = await message_from(back, "agent")
    assert live["text"] == "Vier" and live["seq"] == 5
    await back.send_json({"type": "ping"})
    await receive(back, "pong")  # nothing else (no duplicate) came before it
    await back.close()


async def test_someone_elses_conversation_cannot_be_resumed(centre: Centre) -> None:
    ws, welcome = await visitor(centre)
    await say(ws, "Geheim", "c-1")
    other, theirs = await visitor(centre, conversation_id=welcome["conversation_id"],
                                  after_seq=0)
    assert theirs["conversation_id"] != welcome["conversation_id"]
    assert theirs["resumed"] is False
    await other.send_json({"type": "ping"})
    first = await other.receive_json()
    assert first == {"type": "pong"}
    await ws.close()
    await other.close()


async def test_a_typed_email_is_a_claim_not_a_key_to_someone_elses_record(
        centre: Centre) -> None:
    existing = await centre.contact(channel="email", external_id="<jan-1@example.nl>",
                                    **{"from": {"email": "jan@example.nl", "name": "Jan"}},
                                    subject="Mijn adres", body="Mijn geheime adres is ...")
    ws, welcome = await visitor(centre, name="Jan", email="jan@example.nl")
    await say(ws, "Wat is mijn adres?", "c-1")
    case_id = await chat_case(centre, welcome["conversation_id"])
    async with centre.services.read_uow() as uow:
        case = await uow.cases.get(case_id)
        assert case is not None
        customer = await uow.customers.get(case.customer_id)
    assert case.customer_id != existing["customer_id"]
    assert customer is not None
    claims = [i for i in customer.identifiers if i.claimed]
    assert [c.value for c in claims] == ["jan@example.nl"]
    # Nothing from Jan's e-mail ever goes to the chat.
    await ws.send_json({"type": "ping"})
    assert (await ws.receive_json()) == {"type": "pong"}
    await ws.close()


async def test_without_agents_the_visitor_can_leave_a_message(centre: Centre) -> None:
    ws, welcome = await visitor(centre, name="Els")
    assert welcome["agents_available"] is False
    await ws.send_json({"type": "leave_message", "text": "Bel mij terug aub.",
                        "email": "els@example.nl"})
    left = await receive(ws, "message_left")
    async with centre.services.read_uow() as uow:
        case = await uow.cases.get(left["case_id"])
    assert case is not None and case.subject == "Bel mij terug aub."
    await ws.close()


async def test_hostile_clients_get_errors_and_others_are_unaffected(centre: Centre) -> None:
    bystander, _ = await visitor(centre)
    ws, _ = await visitor(centre)

    await ws.send_str("{not json")
    assert (await receive(ws, "error"))["code"] == "bad_json"
    await ws.send_json({"type": "message", "text": "x" * 5000, "client_msg_id": "big"})
    assert (await receive(ws, "error"))["code"] == "refused"
    await ws.send_json({"type": "dance"})
    assert (await receive(ws, "error"))["code"] == "unknown_type"
    await ws.send_str(json.dumps({"type": "message", "text": "<script>alert(1)</script>",
                                  "client_msg_id": "xss"}))
    assert (await receive(ws, "ack"))["seq"] == 1

    await ws.send_str("x" * (20 * 1024))  # larger than a frame may be
    closed = await ws.receive()
    assert closed.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING)
    assert ws.close_code == 1009

    await bystander.send_json({"type": "ping"})
    assert (await receive(bystander, "pong")) == {"type": "pong"}
    await bystander.close()


async def test_floods_are_slowed_then_cut_off(centre: Centre) -> None:
    ws, _ = await visitor(centre)
    codes = []
    for n in range(40):
        if ws.closed:
            break
        await ws.send_json({"type": "ping", "n": n})
    async with asyncio.timeout(WAIT_S):
        async for frame in ws:
            if frame.type is WSMsgType.TEXT:
                codes.append(json.loads(frame.data).get("code"))
    assert "rate_limited" in codes
    assert ws.close_code == 1008


async def test_the_chat_refuses_foreign_origins_and_silent_clients(centre: Centre) -> None:
    refused = await centre.client.get("/chat/ws", headers={
        "Origin": "https://evil.example", "Connection": "Upgrade", "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
    assert refused.status == 403
    ws = await centre.client.ws_connect("/chat/ws", headers=origin(centre))
    await ws.send_json({"type": "message", "text": "hi", "client_msg_id": "1"})
    await ws.receive()
    assert ws.close_code == 1008


async def test_a_returning_visitor_is_the_same_customer(centre: Centre) -> None:
    first, welcome = await visitor(centre, name="Piet")
    await say(first, "Eerste vraag", "c-1")
    await first.send_json({"type": "end"})
    await message_from(first, "system")
    await first.close()

    later, again = await visitor(centre, visitor_id=welcome["visitor_id"])
    assert again["conversation_id"] != welcome["conversation_id"]  # a new conversation…
    await say(later, "Tweede vraag", "c-1")
    cases = [await chat_case(centre, c) for c in (welcome["conversation_id"],
                                                   again["conversation_id"])]
    async with centre.services.read_uow() as uow:
        customers = {(await uow.cases.get(c)).customer_id for c in cases}  # type: ignore[union-attr]
    assert len(customers) == 1  # …from the same customer
    await later.close()
