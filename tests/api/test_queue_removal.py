"""Supervisors rename teams and remove queues, over HTTP on a running centre (SQLite and
PostgreSQL). A queue that still has work, or that the published rules, the phone menu, a
web form or the desk's scripts send work to, is not removed: the 409 says what refers to
it. Otherwise it is archived: gone from every list and choice, its agents no longer serve
it, and nothing new reaches it, while reports keep naming it for its past contacts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from channels.webforms.definitions import DEMO_FORMS
from core.domain.audit import AuditAction, AuditFilter
from tests.support.centre import WAIT_S, Centre, running_centre

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday, inside office hours
RULES: dict[str, Any] = {"default_queue": "q_general", "rules": [
    {"id": "retouren", "name": "Retouren", "condition": '"retour" in words',
     "actions": {"queue": "q_returns"}, "stop": True}]}


@pytest.fixture
async def centre(database_url: str) -> AsyncIterator[Centre]:
    async with running_centre(database_url, START) as running:
        yield running


async def queue_of_case(centre: Centre, case_id: str) -> str:
    """The queue routing put the case's work in (polled: routing runs in the workers)."""
    async with asyncio.timeout(WAIT_S):
        while True:
            async with centre.services.read_uow() as uow:
                item = await uow.work.item_for_case(case_id)
            if item is not None:
                return item.queue_id
            await asyncio.sleep(0.02)


async def renames_a_team(centre: Centre) -> None:
    renamed = await centre.client.patch("/api/teams/team_2", headers=centre.supervisor,
                                        json={"name": "  Tweede lijn Noord "})
    assert renamed.status == 200, await renamed.text()
    assert await renamed.json() == {"id": "team_2", "name": "Tweede lijn Noord"}
    listed = await (await centre.client.get("/api/queues", headers=centre.supervisor)).json()
    assert listed["teams"] == [{"id": "team_2", "name": "Tweede lijn Noord"}]

    made = await centre.client.post("/api/teams", headers=centre.supervisor,
                                    json={"id": "team_3", "name": "Derde lijn"})
    assert made.status == 201
    taken = await centre.client.patch("/api/teams/team_3", headers=centre.supervisor,
                                      json={"name": "Tweede lijn Noord"})
    assert taken.status == 409
    assert (await centre.client.patch("/api/teams/team_9", headers=centre.supervisor,
                                      json={"name": "X"})).status == 404
    assert (await centre.client.patch("/api/teams/team_3", headers=centre.supervisor,
                                      json={"name": " "})).status == 422
    _, agent = await centre.agent("Dirk", tier=1, skills={}, queues=["q_general"])
    assert (await centre.client.patch("/api/teams/team_3", headers=agent,
                                      json={"name": "X"})).status == 403
    async with centre.services.read_uow() as uow:
        entries, _ = await uow.audit.page(AuditFilter(action=AuditAction.TEAM_RENAMED),
                                          limit=10, cursor=None)
    assert [(e.subject_id, e.details) for e in entries] == [
        ("team_2", {"from": "Tweede lijn", "to": "Tweede lijn Noord"})]


async def test_teams_are_renamed_and_a_queue_in_use_is_kept_and_removed_once_free(
        centre: Centre) -> None:
    await renames_a_team(centre)
    boss = centre.supervisor
    made = await centre.client.post("/api/queues", headers=boss,
                                    json={"id": "q_returns", "name": "Retouren"})
    assert made.status == 201, await made.text()
    anna_id, _ = await centre.agent("Anna", tier=1, skills={},
                                    queues=["q_general", "q_returns"])
    await centre.publish(RULES)
    script = {"scripts": [{"id": "retour-script", "title": "Retour", "queue": "q_returns",
                           "text": "Goedendag {customer.first_name}."}]}
    assert (await centre.client.put("/api/scripts", headers=boss, json=script)).status == 200
    form = DEMO_FORMS[0].model_dump(mode="json")
    assert (await centre.client.put(f"/api/forms/{form['id']}", headers=boss,
                                    json={**form, "queue": "q_returns"})).status == 200
    waiting = await centre.contact(channel="email", external_id="<retour-1@example.nl>",
                                   **{"from": {"email": "piet@example.nl"}},
                                   subject="Retour", body="Ik wil dit retour sturen.")
    assert await queue_of_case(centre, waiting["case_id"]) == "q_returns"

    refused = await centre.client.delete("/api/queues/q_returns", headers=boss)
    assert refused.status == 409
    reason = (await refused.json())["error"]["message"]
    for part in ("1 contact waiting in it", "the published routing rules, version 1 "
                 "(rules > retouren)", "the desk's scripts (scripts > retour-script)",
                 f"the web forms ({form['id']})"):
        assert part in reason, (part, reason)
    # The demo phone menu is in effect (none saved) and sends callers to q_general.
    general = await centre.client.delete("/api/queues/q_general", headers=boss)
    assert general.status == 409
    assert "the phone menu (" in (await general.json())["error"]["message"]

    # Free it: the case resolved (its waiting work goes), rules, script and form changed.
    resolved = await centre.client.patch(f"/api/cases/{waiting['case_id']}", headers=boss,
                                         json={"status": "resolved"})
    assert resolved.status == 200, await resolved.text()
    await centre.publish({"default_queue": "q_general", "rules": []})
    assert (await centre.client.put("/api/scripts", headers=boss,
                                    json={"scripts": []})).status == 200
    assert (await centre.client.put(f"/api/forms/{form['id']}", headers=boss,
                                    json=form)).status == 200
    removed = await centre.client.delete("/api/queues/q_returns", headers=boss)
    assert removed.status == 200, await removed.text()
    body = await removed.json()
    assert (body["id"], body["name"], body["agents_removed"]) == (
        "q_returns", "Retouren", [anna_id])
    assert body["archived_at"] == START.isoformat()

    listed = await (await centre.client.get("/api/queues", headers=boss)).json()
    assert "q_returns" not in {q["id"] for q in listed["queues"]}
    every = await (await centre.client.get("/api/queues?archived=true", headers=boss)).json()
    assert {q["id"]: q["archived_at"] for q in every["queues"]}["q_returns"] is not None
    anna = await (await centre.client.get(f"/api/agents/{anna_id}", headers=boss)).json()
    assert anna["queues"] == ["q_general"]
    assert (await centre.client.delete("/api/queues/q_returns", headers=boss)).status == 404
    same_id = await centre.client.post("/api/queues", headers=boss,
                                       json={"id": "q_returns", "name": "Nieuw"})
    same_name = await centre.client.post("/api/queues", headers=boss,
                                         json={"id": "q_returns2", "name": "Retouren"})
    assert same_id.status == 409 and same_name.status == 409
    assert "removed" in (await same_name.json())["error"]["message"]

    # Nothing new reaches it; the report still names it for the contact it had.
    later = await centre.contact(channel="email", external_id="<retour-2@example.nl>",
                                 **{"from": {"email": "piet@example.nl"}},
                                 subject="Nog een retour", queue="q_returns")
    assert await queue_of_case(centre, later["case_id"]) == "q_general"
    report = await (await centre.client.get(
        "/api/reports/summary?from=2026-11-23&to=2026-11-23", headers=boss)).json()
    assert {q["id"]: q["name"] for q in report["queues"]}.get("q_returns") == "Retouren"
    async with centre.services.read_uow() as uow:
        entries, _ = await uow.audit.page(AuditFilter(action=AuditAction.QUEUE_REMOVED),
                                          limit=10, cursor=None)
    assert [(e.subject_id, e.details["agents"]) for e in entries] == [
        ("q_returns", [anna_id])]
