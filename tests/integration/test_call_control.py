"""Controlling a live call from the desk: the agent who holds it (or a supervisor) hangs up
through Twilio's REST API, and a transferred call leaves the agent for the queue's music
until the next agent is rung. Twilio's REST API is a real local server (tests/support/
fake_twilio.py) that answers as Twilio does; the webhooks are signed as Twilio signs them."""

from __future__ import annotations

from typing import Any

from core.domain.workforce import Role
from tests.integration.test_voice import (
    PUBLIC,
    call,
    post,
    put_through,
    switchboard_with_agents,
)
from tests.support.centre import Centre, available, receive

__all__ = ["switchboard_with_agents"]  # the fixture, shared with the voice tests


async def token_of(centre: Centre, name: str, agent_id: str) -> dict[str, str]:
    token = await centre.services.access.create_token(role=Role.AGENT, name=name,
                                                      agent_id=agent_id)
    return {"Authorization": f"Bearer {token}"}


async def test_only_the_agent_holding_the_call_ends_it(
        switchboard_with_agents: tuple[Centre, Any]) -> None:
    centre, twilio = switchboard_with_agents
    ringing = await put_through(centre, twilio, "Anna", "CA70")
    anna = await token_of(centre, "Anna", ringing.agent_id)
    _, bram = await centre.agent("Bram", tier=1, skills={}, queues=["q_general"])
    # Anna is rung and has not answered yet: not hers to end.
    assert (await centre.client.post("/api/calls/CA70/hangup", headers=anna)).status == 403
    client = ringing.dial.find("Dial/Client")
    assert client is not None
    await post(centre, client.get("url", ""), call("CA70b"))  # she picks up: she holds it

    refused = await centre.client.post("/api/calls/CA70/hangup", headers=bram)
    assert refused.status == 403
    assert "another agent" in (await refused.json())["error"]["message"]
    assert (await centre.client.post("/api/calls/CA99/hangup", headers=anna)).status == 404

    ended = await centre.client.post("/api/calls/CA70/hangup", headers=anna)
    assert ended.status == 202, await ended.text()
    assert (await ended.json()) == {"sid": "CA70", "status": "ending"}
    updates = await twilio.wait_for_updates(2)  # the redirect that rang Anna, then this
    assert updates[1] == ("CA70", {"Status": "completed"})
    # Twilio has not called back yet, and says the call is over: a clear 409.
    again = await centre.client.post("/api/calls/CA70/hangup", headers=anna)
    assert again.status == 409
    assert "ended already" in (await again.json())["error"]["message"]

    await post(centre, "/webhooks/twilio/voice/status",
               call("CA70", CallStatus="completed", CallDuration="42"))
    async with centre.services.read_uow() as uow:
        stored = await uow.calls.get("CA70")
    assert stored is not None and stored.ended_at is not None and stored.duration_s == 42
    late = await centre.client.post("/api/calls/CA70/hangup", headers=centre.supervisor)
    assert late.status == 409 and "(completed)" in (await late.json())["error"]["message"]
    assert len(twilio.updated) == 2  # decided here, without asking Twilio
    await ringing.desk.close()


async def test_a_transferred_call_goes_back_to_the_queue_and_rings_the_next_agent(
        switchboard_with_agents: tuple[Centre, Any]) -> None:
    centre, twilio = switchboard_with_agents
    ringing = await put_through(centre, twilio, "Anna", "CA80")
    client = ringing.dial.find("Dial/Client")
    assert client is not None
    await post(centre, client.get("url", ""), call("CA80b"))  # Anna picks up: accepted
    desk, case_id = ringing.desk, ringing.offer["case"]["id"]
    bram_id, bram_headers = await centre.agent("Bram", tier=1, skills={},
                                               queues=["q_general"])
    bram = await available(centre, bram_headers)

    await desk.send_json({"type": "transfer", "case_id": case_id, "queue": "q_general"})
    await receive(desk, "transferred")
    offer = await receive(bram, "offer")
    assert offer["case"]["id"] == case_id
    # Twilio is told to take the caller from Anna into the queue, then to ring Bram.
    [_, (held_sid, hold), (rung_sid, rung)] = await twilio.wait_for_updates(3)
    assert (held_sid, hold["Url"]) == (
        "CA80", f"{PUBLIC}/webhooks/twilio/voice/hold?case={case_id}&lang=nl")
    assert (rung_sid, rung["Url"]) == (
        "CA80", f"{PUBLIC}/webhooks/twilio/voice/bridge?offer={offer['offer_id']}")
    # Holding while Bram's offer is open rings him (whichever redirect Twilio got last).
    _, ring = await post(centre, hold["Url"].removeprefix(PUBLIC), call("CA80"))
    assert ring is not None
    dialled = ring.find("Dial/Client")
    assert dialled is not None and dialled.text == bram_id

    # Bram declines; nobody else serves the queue: the caller waits with its music.
    await bram.send_json({"type": "decline", "offer_id": offer["offer_id"]})
    await receive(bram, "declined")
    _, held = await post(centre, hold["Url"].removeprefix(PUBLIC), call("CA80"))
    assert held is not None
    enqueue = held.find("Enqueue")
    assert enqueue is not None and enqueue.text == "q_general"
    assert enqueue.get("waitUrl") == "/webhooks/twilio/voice/wait?lang=nl"

    # Nobody holds the waiting call; a supervisor may end any call.
    ended = await centre.client.post("/api/calls/CA80/hangup", headers=centre.supervisor)
    assert ended.status == 202, await ended.text()
    assert (await twilio.wait_for_updates(4))[3] == ("CA80", {"Status": "completed"})
    await bram.close()
    await desk.close()
