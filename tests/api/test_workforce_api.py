"""Teams and queues over HTTP, and routing on an installation that has none yet."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from core.domain.workforce import Role
from core.storage.tables import inbox, outbox
from tests.conftest import Api
from tests.support.centre import running_centre


async def test_supervisors_create_teams_and_queues(api: Api) -> None:
    supervisor = api.headers(Role.SUPERVISOR)
    team = await api.client.post("/api/teams", headers=supervisor,
                                 json={"id": "tweede-lijn", "name": "Tweede lijn"})
    queue = await api.client.post("/api/queues", headers=supervisor, json={
        "id": "klachten", "name": "Klachten", "team": "tweede-lijn",
        "description": "Alle klachten"})
    assert team.status == 201 and queue.status == 201

    again = await api.client.post("/api/queues", headers=supervisor,
                                  json={"id": "klachten", "name": "Nog eens"})
    unknown_team = await api.client.post("/api/queues", headers=supervisor,
                                         json={"id": "x", "name": "X", "team": "nope"})
    bad_id = await api.client.post("/api/queues", headers=supervisor,
                                   json={"id": "Met Spaties", "name": "X"})
    by_agent = await api.client.post("/api/queues", headers=api.headers(Role.AGENT),
                                     json={"id": "y", "name": "Y"})
    assert again.status == 409 and unknown_team.status == 422
    assert bad_id.status == 422 and by_agent.status == 403

    listed = await (await api.client.get("/api/queues", headers=api.headers(Role.AGENT))).json()
    assert listed["teams"] == [{"id": "tweede-lijn", "name": "Tweede lijn"}]
    assert listed["queues"] == [{"id": "klachten", "name": "Klachten", "team": "tweede-lijn",
                                 "description": "Alle klachten",
                                 "archived_at": None}]


async def test_without_any_queue_a_case_waits_unrouted_instead_of_failing(
        database_url: str) -> None:
    start = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    async with running_centre(database_url, start, workers=("relay", "router"),
                              queues=()) as centre:
        created = await centre.contact(channel="email", external_id="<q1@example.nl>",
                                       **{"from": {"email": "jan@example.nl"}},
                                       subject="Vraag")
        deadline = asyncio.get_running_loop().time() + 10
        while not await _router_handled(centre):  # the router took case.opened, or gave up
            assert asyncio.get_running_loop().time() < deadline, "the router never ran"
            await asyncio.sleep(0.05)
        assert await centre.services.bus.dead_letters("router") == []
        async with centre.services.read_uow() as uow:
            assert await uow.work.item_for_case(created["case_id"]) is None


async def _router_handled(centre: Any) -> bool:
    if await centre.services.bus.dead_letters("router"):
        return True
    async with centre.services.engine.connect() as conn:
        handled = await conn.scalar(sa.select(sa.func.count()).select_from(
            inbox.join(outbox, outbox.c.id == inbox.c.envelope_id)).where(
            inbox.c.consumer_group == "router", outbox.c.topic == "case.opened"))
    return bool(handled)
