"""A worker-only process (``switchboard worker relay``), started as an operator or
Kubernetes would, answers on its management port: liveness, readiness (database and bus)
and its own Prometheus metrics — which count the contact it relayed — and it stops cleanly
on SIGTERM.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from core.config import Settings
from core.domain.channels import Channel, Direction
from core.domain.commands import IngestContact, Party
from tests.conftest import sqlite_url
from workers import bootstrap

ROOT = Path(__file__).resolve().parents[2]
START_WITHIN_S = 60.0  # imports alone take seconds on a loaded 2-core machine
WAIT_S = 10.0
BANNER = re.compile(r"metrics and probes at (http://\S+)/metrics")


@pytest.fixture
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return sqlite_url(request, tmp_path)


@pytest.fixture
async def relay_process(database: str) -> AsyncIterator[tuple[asyncio.subprocess.Process,
                                                                 str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHBOARD_")}
    env.update(SWITCHBOARD_DATABASE_URL=database, SWITCHBOARD_METRICS_PORT="0",
               SWITCHBOARD_LOG_FORMAT="json", PYTHONPATH=str(ROOT))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "workers.cli", "worker", "relay", cwd=ROOT, env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    try:
        yield process, await _management_url(process)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def _management_url(process: asyncio.subprocess.Process) -> str:
    assert process.stdout is not None
    seen: list[str] = []
    async with asyncio.timeout(START_WITHIN_S):
        while line := (await process.stdout.readline()).decode(errors="replace"):
            seen.append(line)
            if found := BANNER.search(line):
                return found.group(1)
    raise AssertionError("the worker exited before it was running:\n" + "".join(seen))


async def metrics(http: aiohttp.ClientSession, url: str) -> dict[str, float]:
    async with http.get(f"{url}/metrics") as response:
        assert response.status == 200
        text = await response.text()
    return {f"{s.name}{sorted(s.labels.items())}": s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def test_a_worker_process_answers_probes_and_metrics_and_stops_on_sigterm(
        relay_process: tuple[asyncio.subprocess.Process, str], database: str) -> None:
    process, url = relay_process
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=WAIT_S)) as http:
        async with http.get(f"{url}/healthz") as live:
            assert live.status == 200
        async with http.get(f"{url}/readyz") as ready:
            assert (ready.status, await ready.json()) == (200, {
                "status": "ready", "checks": {"database": "ok", "bus": "ok"}})

        # A contact committed by another process: this relay publishes it, and counts it.
        async with bootstrap.build(Settings(database_url=database, redis_url=None)) as other:
            await other.ingestion.ingest(IngestContact(
                channel=Channel.EMAIL, direction=Direction.INBOUND,
                external_id="<relayed@example.nl>", party=Party(email="jan@example.nl")))
        received = "switchboard_contacts_received_total[('channel', 'email'), " \
                   "('direction', 'inbound')]"
        deadline = asyncio.get_running_loop().time() + WAIT_S
        while (found := await metrics(http, url)).get(received) != 1:
            assert asyncio.get_running_loop().time() < deadline, found.get(received)
            await asyncio.sleep(0.1)  # the relay polls for other processes' rows
        assert found["switchboard_worker_running[('worker', 'relay')]"] == 1
        assert found["process_resident_memory_bytes[]"] > 0
        # Installation-wide gauges come from web processes only: no duplicates to add up.
        assert not [name for name in found if name.startswith("switchboard_queue_")]

    process.send_signal(signal.SIGTERM)
    async with asyncio.timeout(WAIT_S):
        assert await process.wait() == 0
