"""Supervisors tune routing safely through the API: invalid rules are refused with the
place of the error, every change is a version, a draft is simulated against real past
contacts before publishing, and a bad publish is rolled back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.support.centre import WAIT_S, Centre, running_centre

# A Tuesday morning in office hours.
START = datetime(2026, 11, 17, 9, 30, tzinfo=UTC)

V1: dict[str, Any] = {
    "default_queue": "q_general",
    "rules": [{"id": "complaints", "name": "Complaints to the complaints desk",
               "condition": 'classification == "complaint"',
               "actions": {"queue": "q_complaints", "tier": 2}, "stop": True}],
}
# The draft a supervisor wants to try: complaints back to the general queue, but urgent.
V2: dict[str, Any] = {
    "default_queue": "q_general",
    "rules": [{"id": "complaints", "name": "Complaints urgent in general",
               "condition": 'classification == "complaint"',
               "actions": {"queue": "q_general", "priority": 4}, "stop": True}],
}


@pytest.fixture
async def centre(database_url: str) -> AsyncIterator[Centre]:
    async with running_centre(database_url, START) as running:
        yield running


async def routed(centre: Centre, case_id: str) -> dict[str, Any]:
    """The case's routing record once the router has decided (polled with a deadline)."""
    async with asyncio.timeout(WAIT_S):
        while True:
            response = await centre.client.get(f"/api/cases/{case_id}/routing",
                                               headers=centre.supervisor)
            body: dict[str, Any] = await response.json()
            if body["decisions"]:
                return body
            await asyncio.sleep(0.02)


async def test_an_invalid_rule_is_refused_with_where_and_what(centre: Centre) -> None:
    response = await centre.client.put("/api/routing/rules", headers=centre.supervisor, json={
        "default_queue": "q_general",
        "rules": [{"id": "bad", "name": "Bad", "condition": 'segment == "gold" and',
                   "actions": {"queue": "q_nowhere"}}]})

    assert response.status == 422
    fields = (await response.json())["error"]["fields"]
    assert "rules[0].condition" in fields
    assert "rules[0].actions.queue" in fields
    versions = await (await centre.client.get("/api/routing/rules/versions",
                                              headers=centre.supervisor)).json()
    assert versions["items"] == []


async def test_agents_may_not_change_rules(centre: Centre) -> None:
    _, agent = await centre.agent("Anna", tier=1, skills={}, queues=["q_general"])
    response = await centre.client.put("/api/routing/rules", headers=agent,
                                       json={**V1, "comment": "mine"})
    assert response.status == 403


async def test_publish_simulate_against_past_contacts_and_roll_back(centre: Centre) -> None:
    v1 = await centre.publish(V1)
    complaint = await centre.contact(
        channel="email", external_id="<k1@example.nl>", **{"from": {"email": "a@example.nl"}},
        subject="Klacht", body="Ik ben zeer ontevreden over de levering.")
    question = await centre.contact(
        channel="email", external_id="<v1@example.nl>", **{"from": {"email": "b@example.nl"}},
        subject="Vraag", body="Wanneer wordt mijn pakket bezorgd?")
    before = await routed(centre, complaint["case_id"])
    assert before["decisions"][0]["outcome"]["queue"] == "q_complaints"
    assert before["decisions"][0]["rule_set_version"] == v1
    await routed(centre, question["case_id"])

    saved = await centre.client.put("/api/routing/rules", headers=centre.supervisor,
                                    json={**V2, "comment": "complaints to general, urgent"})
    assert saved.status == 201
    v2 = (await saved.json())["version"]
    overview = await (await centre.client.get("/api/routing/rules",
                                              headers=centre.supervisor)).json()
    assert (overview["active"]["version"], overview["draft"]["version"]) == (v1, v2)

    simulated = await centre.client.post("/api/routing/simulate", headers=centre.supervisor,
                                         json={"last": 10})
    assert simulated.status == 200, await simulated.text()
    report = await simulated.json()
    by_case = {r["case_id"]: r for r in report["results"]}
    assert (report["count"], report["changed"]) == (2, 1)
    changed = by_case[complaint["case_id"]]
    assert changed["differences"]["queue"] == {"before": "q_complaints", "after": "q_general"}
    assert changed["differences"]["priority"]["after"] == 4
    assert by_case[question["case_id"]]["changed"] is False
    # Simulating changed nothing: the draft is not live.
    overview = await (await centre.client.get("/api/routing/rules",
                                              headers=centre.supervisor)).json()
    assert overview["active"]["version"] == v1

    published = await centre.client.post("/api/routing/rules/publish",
                                         headers=centre.supervisor,
                                         json={"version": v2, "comment": "go"})
    assert published.status == 200
    rolled = await centre.client.post("/api/routing/rules/rollback",
                                      headers=centre.supervisor, json={"comment": "too many"})
    assert rolled.status == 200
    assert (await rolled.json())["version"] == v1
    overview = await (await centre.client.get("/api/routing/rules",
                                              headers=centre.supervisor)).json()
    assert overview["active"]["version"] == v1
    assert [(a["action"], a["version"]) for a in overview["activations"]] == [
        ("rollback", v1), ("publish", v2), ("publish", v1)]

    # Old versions stay readable, with author and comment.
    old = await (await centre.client.get(f"/api/routing/rules/versions/{v2}",
                                         headers=centre.supervisor)).json()
    assert old["comment"] == "complaints to general, urgent"
    assert old["author"] == "supervisor"
    assert old["rules"][0]["actions"]["queue"] == "q_general"

    # New work follows the rolled-back rules again.
    later = await centre.contact(
        channel="email", external_id="<k2@example.nl>", **{"from": {"email": "c@example.nl"}},
        subject="Klacht", body="Dit is schandalig, ik wil mijn geld terug.")
    decision = (await routed(centre, later["case_id"]))["decisions"][0]
    assert (decision["outcome"]["queue"], decision["rule_set_version"]) == ("q_complaints", v1)


async def test_simulate_a_hypothetical_contact(centre: Centre) -> None:
    response = await centre.client.post("/api/routing/simulate", headers=centre.supervisor,
                                        json={"rules": V1, "facts": {
                                            "channel": "email", "classification": "complaint"}})
    assert response.status == 200, await response.text()
    result = (await response.json())["results"][0]
    assert result["after"]["queue"] == "q_complaints"
    assert result["after"]["matched"] == ["complaints"]
