"""A web process told to stop (SIGTERM sets the same event) drains: it stops listening,
tells every open desktop to go elsewhere (close 1001 "going away", so the desktop
reconnects to another process at once instead of reporting an error), and returns within
its drain timeout."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from aiohttp import WSCloseCode, WSMsgType

from core.config import Settings
from core.domain.workforce import Role
from tests.conftest import sqlite_url
from workers import bootstrap
from workers.runtime import serve

DRAIN_S = 2.0
WAIT_S = 30.0  # the import-heavy start of a loaded machine, not the drain


@pytest.fixture
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return sqlite_url(request, tmp_path)


async def test_a_stopping_web_process_sends_desktops_away_and_ends_within_its_drain(
        database: str) -> None:
    settings = Settings(database_url=database, redis_url=None, http_port=0,
                        serve_workers="none", drain_timeout_s=DRAIN_S)
    async with bootstrap.build(settings) as setup:
        admin = await setup.access.create_token(role=Role.ADMIN, name="admin")
    stop = asyncio.Event()
    listening: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    server = asyncio.create_task(serve(settings, stop=stop, ready=listening.set_result))
    try:
        url = await asyncio.wait_for(asyncio.shield(listening), WAIT_S)
        async with aiohttp.ClientSession() as http:
            created = await http.post(f"{url}/api/agents", json={
                "name": "Anna", "username": "anna", "tier": 1, "skills": {},
                "queues": []}, headers={"Authorization": f"Bearer {admin}"})
            assert created.status == 201, await created.text()
            async with bootstrap.build(settings) as setup:
                token = await setup.access.create_token(
                    role=Role.AGENT, name="anna", agent_id=(await created.json())["id"])
            desk = await http.ws_connect(f"{url}/agent/ws",
                                         headers={"Authorization": f"Bearer {token}"})
            assert (await desk.receive_json())["type"] == "hello"

            stop.set()
            async with asyncio.timeout(DRAIN_S + 5.0):
                closing = await desk.receive()
                await server
            assert (closing.type, closing.data) == (WSMsgType.CLOSE, WSCloseCode.GOING_AWAY)
            with pytest.raises(aiohttp.ClientConnectionError):
                await http.get(f"{url}/healthz")  # no longer listening
    finally:
        stop.set()
        if not server.done():
            server.cancel()
        await asyncio.gather(server, return_exceptions=True)
