"""Generic CTI: a PBX reports a call; the agent's screen pops, the call is logged."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from core.domain.workforce import Role
from tests.support.centre import Centre, available, receive, running_centre

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
SECRET = "pbx-shared-secret"


@pytest.fixture
async def centre(database_url: str) -> AsyncIterator[Centre]:
    async with running_centre(database_url, START, workers=("relay",),
                              extra_settings={"cti_secret": SECRET}) as running:
        yield running


def signed(body: dict[str, object]) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    digest = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"X-Switchboard-Signature": f"sha256={digest}",
                 "Content-Type": "application/json"}


async def test_ringing_pops_the_callers_record_on_the_named_agent(centre: Centre) -> None:
    jan = await centre.contact(channel="email", external_id="<cti-1@example.nl>",
                               **{"from": {"email": "jan@example.nl", "phone": "+31612345678",
                                           "name": "Jan de Vries"}}, subject="Factuur")
    agent_id, headers = await centre.agent("Anna", tier=1, skills={}, queues=["q_general"])
    desk = await available(centre, headers)

    ringing = {"event": "ringing", "call_id": "pbx-77", "caller": "06 12345678",
               "dialled": "+31201234567", "agent": "anna"}
    first = await centre.client.post("/api/cti/events", json=ringing,
                                     headers=centre.supervisor)
    pop = await receive(desk, "screen_pop")
    assert first.status == 202
    assert pop["call_id"] == "pbx-77" and pop["caller"] == "+31612345678"
    assert pop["customer"]["id"] == jan["customer_id"]
    assert pop["customer"]["display_name"] == "Jan de Vries"
    assert [c["id"] for c in pop["open_cases"]] == [jan["case_id"]]

    again = await centre.client.post("/api/cti/events", json=ringing,
                                     headers=centre.supervisor)
    assert (await again.json())["applied"] is False  # a resent event changes nothing

    for event in ("answered", "ended"):
        raw, sig = signed({"event": event, "call_id": "pbx-77", "caller": "+31612345678",
                           "agent": agent_id})
        response = await centre.client.post("/api/cti/events", data=raw, headers=sig)
        assert response.status == 202
    timeline = await (await centre.client.get(
        f"/api/customers/{jan['customer_id']}/timeline", headers=centre.supervisor)).json()
    [call] = [c for c in timeline["items"] if c["channel"] == "phone"]
    assert call["metadata"]["outcome"] == "answered" and call["metadata"]["agent_id"] == agent_id
    await desk.close()


async def test_unknown_callers_pop_as_unknown(centre: Centre) -> None:
    _, headers = await centre.agent("Bram", tier=1, skills={}, queues=["q_general"])
    desk = await available(centre, headers)
    await centre.client.post("/api/cti/events", headers=centre.supervisor, json={
        "event": "ringing", "call_id": "pbx-78", "caller": "+31687654321", "agent": "bram"})
    pop = await receive(desk, "screen_pop")
    assert pop["customer"] is None and pop["caller"] == "+31687654321"
    await desk.close()


async def test_cti_events_need_a_token_or_a_valid_signature(centre: Centre) -> None:
    event = {"event": "ringing", "call_id": "pbx-79", "caller": "+31612345678"}
    anonymous = await centre.client.post("/api/cti/events", json=event)
    raw, sig = signed(event)
    forged = await centre.client.post("/api/cti/events", data=raw + b" ", headers=sig)
    agent_token = await centre.services.access.create_token(role=Role.AGENT, name="a")
    as_agent = await centre.client.post("/api/cti/events", json=event,
                                        headers={"Authorization": f"Bearer {agent_token}"})
    bad = await centre.client.post("/api/cti/events", headers=centre.supervisor,
                                   json={"event": "exploded", "call_id": "x", "caller": "1"})
    unknown_agent = await centre.client.post("/api/cti/events", headers=centre.supervisor,
                                             json={**event, "agent": "nobody"})
    assert anonymous.status == 401 and forged.status == 403 and as_agent.status == 403
    assert bad.status == 422 and unknown_agent.status == 422
