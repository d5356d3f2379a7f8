"""``switchboard bench voice``: Twilio webhook answers per second and their latency.

Starts the service on a fresh SQLite file (or ``--database-url``) on a loopback port and
sends signed incoming-call webhooks (half from known customers, who are looked up and
greeted by name) and menu steps, ``--concurrency`` at a time, the way Twilio does. Beside
it, the raw limit measured the same way: a bare aiohttp handler returning fixed TwiML.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web
from twilio.request_validator import RequestValidator

from core.config import Settings
from core.domain.channels import Channel, Direction
from core.domain.commands import IngestContact, Party
from core.storage import migrate
from core.storage.engine import build_engine
from workers import bootstrap
from workers.web.app import build_app

TOKEN = "bench-token"  # noqa: S105 - signs requests to a throwaway local service
PUBLIC = "https://switchboard.bench"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--calls", type=int, default=1000,
                        help="voice: incoming calls (each: webhook + one menu step)")
    parser.add_argument("--concurrency", type=int, default=20,
                        help="voice: webhooks in flight at once")


async def _fire(base: str, requests: list[tuple[str, dict[str, str]]],
                concurrency: int) -> tuple[list[float], float]:
    validator = RequestValidator(TOKEN)
    latencies: list[float] = []
    queue: asyncio.Queue[tuple[str, dict[str, str]]] = asyncio.Queue()
    for item in requests:
        queue.put_nowait(item)

    async def worker(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            path, params = queue.get_nowait()
            signature = validator.compute_signature(PUBLIC + path, params)
            started = time.perf_counter()
            async with session.post(base + path, data=params,
                                    headers={"X-Twilio-Signature": signature}) as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"{path}: HTTP {response.status}")
            latencies.append(time.perf_counter() - started)

    async with aiohttp.ClientSession() as session:
        started = time.perf_counter()
        async with asyncio.TaskGroup() as tasks:
            for _ in range(concurrency):
                tasks.create_task(worker(session))
        return latencies, time.perf_counter() - started


def _calls(count: int) -> list[tuple[str, dict[str, str]]]:
    requests = []
    for n in range(count):
        number = f"+316{10_000_000 + (n % 500 if n % 2 == 0 else 50_000 + n):08d}"
        params = {"CallSid": f"CAbench{n:06d}", "From": number, "To": "+31201234567",
                  "CallStatus": "ringing", "AccountSid": "ACbench"}
        requests.append(("/webhooks/twilio/voice", params))
        requests.append(("/webhooks/twilio/voice/menu?node=root&lang=nl&attempt=0",
                         {**params, "CallStatus": "in-progress", "Digits": "3"}))
    return requests


async def _service(args: argparse.Namespace, tmp: str) -> tuple[list[float], float]:
    url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
    engine = build_engine(url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()
    settings = Settings(database_url=url, redis_url=None, twilio_auth_token=TOKEN,
                        public_url=PUBLIC, log_level="WARNING")
    async with bootstrap.build(settings) as services:
        for n in range(0, 1000, 2):  # the known half of the callers
            await services.ingestion.ingest(IngestContact(
                channel=Channel.EMAIL, direction=Direction.INBOUND, external_id=f"<b{n}@x>",
                party=Party(name=f"Klant {n}", email=f"k{n}@example.nl",
                            phone=f"+316{10_000_000 + n % 500:08d}")))
        runner = web.AppRunner(build_app(services))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        try:
            return await _fire(f"http://{host}:{port}", _calls(args.calls), args.concurrency)
        finally:
            await runner.cleanup()


async def _bare(args: argparse.Namespace) -> tuple[list[float], float]:
    body = ('<?xml version="1.0" encoding="UTF-8"?><Response><Say>Welkom</Say>'
            "</Response>")

    async def answer(request: web.Request) -> web.Response:
        await request.post()
        return web.Response(text=body, content_type="application/xml")

    app = web.Application()
    app.router.add_post("/webhooks/twilio/voice", answer)
    app.router.add_post("/webhooks/twilio/voice/menu", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        return await _fire(f"http://{host}:{port}", _calls(args.calls), args.concurrency)
    finally:
        await runner.cleanup()


def _summary(label: str, latencies: list[float], elapsed: float) -> str:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (f"  {label}: {len(ordered) / elapsed:.0f} webhooks/s, "
            f"p50 {statistics.median(ordered) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
            f"max {ordered[-1] * 1000:.1f} ms")


async def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        served, served_s = await _service(args, tmp)
    bare, bare_s = await _bare(args)
    target = "SQLite (temporary file)" if args.database_url is None else "the given database"
    print("\n".join([
        f"$ switchboard bench voice --calls {args.calls} --concurrency {args.concurrency}",
        f"{args.calls} calls (half from known customers), each an incoming-call webhook and "
        f"a self-service menu step, signed, {args.concurrency} in flight; {target}",
        _summary("Switchboard", served, served_s),
        _summary("raw limit (bare aiohttp handler, fixed TwiML)", bare, bare_s),
    ]))
    return 0
