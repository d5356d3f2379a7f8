"""``switchboard bench`` (end to end): contacts per second from arrival to the agent's
screen-pop, and the latency of that pop, through the real protocols.

Contacts arrive over the contact API (``POST /api/contacts``, as a channel adapter or
integration sends them); simulated agents sit on real agent WebSockets, accept every offer
the moment it is pushed and wrap it up at once, so capacity never limits the run. A contact
counts when its offer frame — with the screen-pop — reaches an agent.

Two phases: first as fast as ``--concurrency`` requests in flight allow (the sustained
maximum), then an open-loop run at half that rate, where the arrival → pop latency is
measured (latency at saturation measures only the queue). Beside them, the raw limits
measured the same way in the same run: a bare aiohttp handler, an HTTP POST that pushes to
a WebSocket, and a bare per-row commit loop on the same kind of database.

Without ``--url`` the service is started here on the embedded default (a temporary SQLite
file, the in-process bus, every worker in this process); with ``--url`` (and ``--token``,
an admin token) an already-running service is driven instead.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import sqlalchemy as sa
from aiohttp import web

from core.config import Settings
from core.domain.workforce import Role
from core.storage import migrate
from core.storage.engine import build_engine
from workers import bootstrap
from workers.runtime import WORKERS, run_workers
from workers.web.app import build_app

QUEUE = "q_bench"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--contacts", type=int, default=2000,
                        help="end to end: contacts sent in the throughput phase")
    parser.add_argument("--bench-agents", type=int, default=20, dest="bench_agents",
                        help="end to end: simulated agents on real WebSockets")
    parser.add_argument("--url", default=None,
                        help="end to end: drive this running service instead of starting one")
    parser.add_argument("--token", default=None, help="end to end: an admin token for --url")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


@dataclass
class Pops:
    """When each contact was sent and when its pop arrived, by external id."""

    sent: dict[str, float] = field(default_factory=dict)
    popped: dict[str, float] = field(default_factory=dict)
    all_popped: asyncio.Event = field(default_factory=asyncio.Event)
    expected: int = 0

    def pop(self, external_id: str) -> None:
        if external_id in self.sent and external_id not in self.popped:
            self.popped[external_id] = time.perf_counter()
            if len(self.popped) >= self.expected:
                self.all_popped.set()

    def latencies_ms(self, ids: list[str]) -> list[float]:
        return sorted((self.popped[i] - self.sent[i]) * 1000 for i in ids if i in self.popped)


class Agent:
    """One simulated agent: accepts every offer at once and wraps it up."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, pops: Pops) -> None:
        self._ws = ws
        self._pops = pops

    async def serve(self) -> None:
        await self._ws.send_json({"type": "presence", "status": "available"})
        async for message in self._ws:
            if message.type is not aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            if data.get("type") == "offer":
                contact = data.get("contact") or {}
                self._pops.pop(str(contact.get("external_id")))
                await self._ws.send_json({"type": "accept", "offer_id": data["offer_id"]})
            elif data.get("type") == "accepted":
                await self._ws.send_json({"type": "wrap_up", "case_id": data["case_id"],
                                          "disposition": "answered"})


@dataclass
class Target:
    base: str
    admin: dict[str, str]


async def _post(session: aiohttp.ClientSession, url: str, headers: dict[str, str],
                body: dict[str, Any]) -> dict[str, Any]:
    async with session.post(url, json=body, headers=headers) as response:
        if response.status >= 300:
            raise RuntimeError(f"POST {url}: {response.status} {await response.text()}")
        found: dict[str, Any] = await response.json()
        return found


@contextlib.asynccontextmanager
async def seated_agents(target: Target, session: aiohttp.ClientSession, count: int,
                        pops: Pops, tokens: Any) -> AsyncIterator[None]:
    """``count`` agents on the bench queue, connected and available."""
    run = uuid.uuid4().hex[:6]
    with contextlib.suppress(RuntimeError):  # the queue may exist from an earlier run
        await _post(session, f"{target.base}/api/queues", target.admin,
                    {"id": QUEUE, "name": "Bench"})
    sockets = []
    for n in range(count):
        agent = await _post(session, f"{target.base}/api/agents", target.admin, {
            "name": f"Bench {n}", "username": f"bench-{run}-{n}", "queues": [QUEUE],
            "capacity": {"email": 50}})
        token = await tokens(agent["id"])
        sockets.append(await session.ws_connect(
            f"{target.base}/agent/ws", headers={"Authorization": f"Bearer {token}"}))
    agents = [asyncio.create_task(Agent(ws, pops).serve(), name="bench-agent")
              for ws in sockets]
    try:
        yield
    finally:
        for ws in sockets:
            await ws.close()
        for task in agents:
            task.cancel()
        await asyncio.gather(*agents, return_exceptions=True)


def _contact(run: str, n: int) -> dict[str, Any]:
    # A third of the contacts come from returning customers, as in a real centre.
    who = n % 300 if n % 3 == 0 else n
    return {"channel": "email", "external_id": f"<bench-{run}-{n}@example.nl>",
            "from": {"email": f"klant{who}@example.nl", "name": f"Klant {who}"},
            "subject": "Vraag over mijn bestelling", "body": "Waar blijft mijn pakket?",
            "queue": QUEUE}


async def _closed_loop(target: Target, session: aiohttp.ClientSession, pops: Pops,
                       count: int, concurrency: int, run: str) -> tuple[list[str], float]:
    ids = [f"<bench-{run}-{n}@example.nl>" for n in range(count)]
    pops.expected = len(pops.popped) + count
    pops.all_popped.clear()
    numbers = iter(range(count))
    started = time.perf_counter()

    async def sender() -> None:
        for n in numbers:
            body = _contact(run, n)
            pops.sent[body["external_id"]] = time.perf_counter()
            await _post(session, f"{target.base}/api/contacts", target.admin, body)

    async with asyncio.TaskGroup() as tasks:
        for _ in range(concurrency):
            tasks.create_task(sender())
    await asyncio.wait_for(pops.all_popped.wait(), timeout=max(180.0, count / 5))
    return ids, time.perf_counter() - started


async def _open_loop(target: Target, session: aiohttp.ClientSession, pops: Pops,
                     count: int, rate: float, run: str) -> list[str]:
    ids = [f"<bench-{run}-{n}@example.nl>" for n in range(count)]
    pops.expected = len(pops.popped) + count
    pops.all_popped.clear()
    loop = asyncio.get_running_loop()
    start = loop.time()
    in_flight: set[asyncio.Task[Any]] = set()
    for n in range(count):
        due = start + n / rate
        if due > loop.time():
            await asyncio.sleep(due - loop.time())  # pacing the offered load, not waiting
        body = _contact(run, n)
        pops.sent[body["external_id"]] = time.perf_counter()
        task = asyncio.create_task(_post(session, f"{target.base}/api/contacts",
                                         target.admin, body))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    await asyncio.gather(*in_flight)
    await asyncio.wait_for(pops.all_popped.wait(), timeout=max(180.0, count / 5))
    return ids


@contextlib.asynccontextmanager
async def embedded_service(tmp: str) -> AsyncIterator[tuple[Target, Any]]:
    url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
    engine = build_engine(url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()
    settings = Settings(database_url=url, redis_url=None, log_level="WARNING")
    async with bootstrap.build(settings) as services:
        runner = web.AppRunner(build_app(services))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        stop = asyncio.Event()
        workers = asyncio.create_task(run_workers(services, list(WORKERS), stop))
        admin = await services.access.create_token(role=Role.ADMIN, name="bench")

        async def token(agent_id: str) -> str:
            return await services.access.create_token(role=Role.AGENT, name="bench",
                                                      agent_id=agent_id)
        try:
            yield Target(f"http://{host}:{port}", {"Authorization": f"Bearer {admin}"}), token
        finally:
            stop.set()
            await workers
            await runner.cleanup()


@contextlib.asynccontextmanager
async def remote_service(url: str, admin_token: str | None,
                         session: aiohttp.ClientSession) -> AsyncIterator[tuple[Target, Any]]:
    if not admin_token:
        raise SystemExit("switchboard bench --url needs --token (an admin token)")
    target = Target(url.rstrip("/"), {"Authorization": f"Bearer {admin_token}"})

    async def token(agent_id: str) -> str:
        made = await _post(session, f"{target.base}/api/tokens", target.admin,
                           {"role": "agent", "agent_id": agent_id, "name": "bench"})
        return str(made["token"])
    yield target, token


async def _bare_limits(requests: int, concurrency: int) -> dict[str, float]:
    """A bare aiohttp handler's requests per second, and HTTP POST → WebSocket push p50."""
    sockets: list[web.WebSocketResponse] = []

    async def answer(request: web.Request) -> web.Response:
        await request.read()
        for ws in sockets:
            await ws.send_str('{"type": "offer"}')
        return web.json_response({"ok": True}, status=202)

    async def socket(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        sockets.append(ws)
        async for _ in ws:
            pass
        return ws

    app = web.Application()
    app.router.add_post("/api/contacts", answer)
    app.router.add_get("/ws", socket)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    base = f"http://{host}:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            remaining = iter(range(requests))
            started = time.perf_counter()

            async def sender() -> None:
                for _ in remaining:
                    async with session.post(f"{base}/api/contacts", json={"n": 1}) as r:
                        await r.read()

            async with asyncio.TaskGroup() as tasks:
                for _ in range(concurrency):
                    tasks.create_task(sender())
            rate = requests / (time.perf_counter() - started)
            ws = await session.ws_connect(f"{base}/ws")
            pushes = []
            for _ in range(300):
                sent = time.perf_counter()
                async with session.post(f"{base}/api/contacts", json={"n": 1}) as r:
                    await r.read()
                await ws.receive()
                pushes.append((time.perf_counter() - sent) * 1000)
            await ws.close()
    finally:
        await runner.cleanup()
    return {"bare_requests_per_s": round(rate), "post_to_push_ms_p50":
            round(statistics.median(pushes), 3)}


async def _commit_limit(tmp: str, rows: int = 2000) -> float:
    """Rows per second when every row is its own transaction on SQLite: the naive design's
    ceiling on this machine."""
    engine = build_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'commit.db'}")
    table = sa.Table("t", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("v", sa.String(100)))
    try:
        async with engine.begin() as conn:
            await conn.run_sync(table.metadata.create_all)
        started = time.perf_counter()
        for n in range(rows):
            async with engine.begin() as conn:
                await conn.execute(table.insert().values(id=n, v="x" * 50))
        return rows / (time.perf_counter() - started)
    finally:
        await engine.dispose()


def _percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0


async def run(args: argparse.Namespace) -> int:
    concurrency = args.concurrency
    with tempfile.TemporaryDirectory() as tmp:
        # No connection limit: the agents' sockets must not starve the contact posts.
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session, (
                remote_service(args.url, args.token, session) if args.url
                else embedded_service(tmp)) as (target, tokens):
            pops = Pops()
            async with seated_agents(target, session, args.bench_agents, pops, tokens):
                run_id = uuid.uuid4().hex[:8]
                await _closed_loop(target, session, pops, min(100, args.contacts),
                                   concurrency, run_id + "w")  # warm-up
                cpu_started = time.process_time()
                _, elapsed = await _closed_loop(target, session, pops, args.contacts,
                                                concurrency, run_id + "t")
                cpu_s = time.process_time() - cpu_started
                maximum = args.contacts / elapsed
                latency_ids = await _open_loop(target, session, pops,
                                               max(20, args.contacts // 2),
                                               max(1.0, maximum / 2), run_id + "l")
        latencies = pops.latencies_ms(latency_ids)
        commit_rate = await _commit_limit(tmp)
    bare = await _bare_limits(2000, concurrency)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "command": "switchboard bench" + (f" --url {args.url}" if args.url else "")
        + f" --contacts {args.contacts} --bench-agents {args.bench_agents}"
        f" --concurrency {concurrency}",
        "mode": "remote" if args.url else "embedded (SQLite, in-process bus, one process)",
        "contacts_per_s": round(maximum, 1),
        "pop_ms": {"p50": round(statistics.median(latencies), 2),
                   "p95": round(_percentile(latencies, 0.95), 2),
                   "p99": round(_percentile(latencies, 0.99), 2)},
        "pop_measured_at_per_s": round(max(1.0, maximum / 2), 1),
        # CPU of this process (every thread) per contact in the throughput phase: the
        # service's, and the simulated clients' and agents' beside it when embedded.
        "cpu_ms_per_contact": round(cpu_s * 1000 / args.contacts, 2),
        "rss_mb": round(rss_mb, 1),
        "baseline": {**bare, "sqlite_commits_per_s": round(commit_rate)},
    }
    result["ratios"] = {
        "contacts_per_s_to_sqlite_commits": round(maximum / commit_rate, 3),
        "contacts_per_s_to_bare_requests": round(maximum / bare["bare_requests_per_s"], 4),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(_text(result))
    return 0


def _text(r: dict[str, Any]) -> str:
    pop, base = r["pop_ms"], r["baseline"]
    return "\n".join([
        f"$ {r['command']}",
        f"mode: {r['mode']}",
        f"  end to end (arrival → routed → screen-pop on an agent socket): "
        f"{r['contacts_per_s']} contacts/s",
        f"  arrival → pop at {r['pop_measured_at_per_s']}/s (half the maximum): "
        f"p50 {pop['p50']} ms, p95 {pop['p95']} ms, p99 {pop['p99']} ms",
        f"  CPU of this process per contact at the maximum: {r['cpu_ms_per_contact']} ms"
        + (" (service, clients and agents)" if r["mode"] != "remote" else " (the clients)"),
        f"  peak memory of this process: {r['rss_mb']} MB",
        f"  raw limits, same run: bare aiohttp {base['bare_requests_per_s']} requests/s; "
        f"HTTP POST → WebSocket push p50 {base['post_to_push_ms_p50']} ms; "
        f"one-row SQLite commits {base['sqlite_commits_per_s']}/s",
        f"  ratios: {r['ratios']['contacts_per_s_to_sqlite_commits']} of the per-row commit "
        f"rate; {r['ratios']['contacts_per_s_to_bare_requests']} of the bare handler",
    ])
