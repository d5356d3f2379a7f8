"""A whole contact centre under test: the real service (HTTP API, workers, agent
WebSockets) on one database, with a clock the test moves by hand."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import ClientWebSocketResponse
from aiohttp.test_utils import TestClient, TestServer

from core.config import Settings
from core.domain.workforce import Queue, Role, Team
from tests.support.clock import FakeClock
from workers import bootstrap
from workers.runtime import run_workers
from workers.services import Services
from workers.web.app import build_app

WAIT_S = 10.0
ALL_WORKERS = ("relay", "router", "dispatcher", "sla", "notifier")


@dataclass
class Centre:
    services: Services
    client: TestClient
    clock: FakeClock
    supervisor: dict[str, str]
    admin: dict[str, str]

    async def agent(self, name: str, *, tier: int, skills: dict[str, int],
                    queues: list[str]) -> tuple[str, dict[str, str]]:
        created = await self.client.post("/api/agents", headers=self.admin, json={
            "name": name, "username": name.lower(), "tier": tier, "skills": skills,
            "queues": queues})
        assert created.status == 201, await created.text()
        agent_id: str = (await created.json())["id"]
        token = await self.services.access.create_token(role=Role.AGENT, name=name,
                                                        agent_id=agent_id)
        return agent_id, {"Authorization": f"Bearer {token}"}

    async def publish(self, rules: dict[str, Any]) -> int:
        saved = await self.client.put("/api/routing/rules", headers=self.supervisor,
                                      json={**rules, "comment": "test rules"})
        assert saved.status == 201, await saved.text()
        version: int = (await saved.json())["version"]
        published = await self.client.post("/api/routing/rules/publish",
                                           headers=self.supervisor, json={"version": version})
        assert published.status == 200, await published.text()
        return version

    async def contact(self, **body: Any) -> dict[str, Any]:
        response = await self.client.post("/api/contacts", headers=self.admin, json=body)
        assert response.status in (201, 202), await response.text()
        result: dict[str, Any] = await response.json()
        return result


@asynccontextmanager
async def running_centre(database_url: str, start: datetime, *,
                         workers: tuple[str, ...] = ALL_WORKERS,
                         queues: tuple[str, ...] = ("q_general", "q_complaints"),
                         extra_settings: dict[str, Any] | None = None,
                         ) -> AsyncIterator[Centre]:
    clock = FakeClock(start)
    # Workers finish what they hold for at most drain_timeout_s when stopped; a short
    # drain keeps teardown quick, and the wait below allows for it on a busy machine.
    settings = Settings(database_url=database_url, redis_url=None, http_port=0,
                        **{"drain_timeout_s": 2.0, **(extra_settings or {})})
    async with bootstrap.build(settings, clock=clock) as services:
        async with services.uow() as uow:
            await uow.workforce.add_team(Team(id="team_2", name="Tweede lijn"))
            for queue_id in queues:
                await uow.workforce.add_queue(Queue(id=queue_id, name=queue_id))
            await uow.commit()
        client = TestClient(TestServer(build_app(services)))
        await client.start_server()
        stop = asyncio.Event()
        running = asyncio.create_task(run_workers(services, list(workers), stop))
        tokens = {role: await services.access.create_token(role=role, name=role.value)
                  for role in (Role.SUPERVISOR, Role.ADMIN)}
        try:
            yield Centre(services, client, clock,
                         {"Authorization": f"Bearer {tokens[Role.SUPERVISOR]}"},
                         {"Authorization": f"Bearer {tokens[Role.ADMIN]}"})
        finally:
            stop.set()
            await _stopped(running, timeout_s=settings.drain_timeout_s + WAIT_S * 3)
            await client.close()


async def _stopped(running: asyncio.Task[None], *, timeout_s: float) -> None:
    """Wait for the workers to stop; if they do not, show where every task is stuck (a
    shutdown that hangs is a bug worth a stack trace, not just a TimeoutError)."""
    done, _ = await asyncio.wait({running}, timeout=timeout_s)
    if done:
        running.result()
        return
    stacks = io.StringIO()
    for task in asyncio.all_tasks():
        task.print_stack(limit=12, file=stacks)
    running.cancel()
    raise AssertionError(f"workers did not stop within {timeout_s} s; tasks:\n"
                         f"{stacks.getvalue()}")


async def receive(ws: ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    """The next message of this type, skipping others; fails after WAIT_S."""
    async with asyncio.timeout(WAIT_S):
        while True:
            message: dict[str, Any] = await ws.receive_json()
            if message["type"] == kind:
                return message


async def available(centre: Centre, headers: dict[str, str]) -> ClientWebSocketResponse:
    ws = await centre.client.ws_connect("/agent/ws", headers=headers)
    await receive(ws, "hello")
    await ws.send_json({"type": "presence", "status": "available"})
    assert (await receive(ws, "presence"))["status"] == "available"
    return ws
