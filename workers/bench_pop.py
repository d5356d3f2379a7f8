"""``switchboard bench pop``: from the routing decision to the screen-pop on the agent's
WebSocket.

The service runs here on a loopback port (a fresh SQLite file unless ``--database-url``;
the in-process bus unless ``--pop-redis-url``, then Redis Streams and Redis pub/sub as in
production) with every worker. Customers have history on several channels, a gold segment
and a value, and some a possible duplicate; the demo's Dutch and English scripts and
knowledge snippets are installed. Simulated agents sit on real ``/agent/ws`` connections,
accept each offer and wrap it up leaving the case open, so later pops of the same customer
carry open cases with running SLA clocks. Contacts arrive over ``POST /api/contacts``,
``--pop-agents`` at a time.

For every offer frame received: ``decided_at`` (the dispatcher chose the agent) to the
moment the frame was read off the socket, split at ``assembled_at`` (the pop was read) and
``sent_at`` (the frame left the server). Beside it, the pop's read by itself: every offer's
pop read again afterwards, one at a time, with nothing else running.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from core.config import Settings
from core.domain.audit import Actor
from core.domain.channels import Channel, Direction
from core.domain.commands import IngestContact, Party
from core.domain.workforce import Agent, Presence, Queue, Role, Tier
from core.services.screen_pop import KNOWLEDGE_KEY, SCRIPTS_KEY, ScreenPops
from core.storage import migrate
from core.storage.engine import build_engine
from routing.scripts import DEMO_KNOWLEDGE, DEMO_SCRIPTS, ScriptSuggester
from workers import bootstrap
from workers.demo import QUEUES
from workers.runtime import run_workers
from workers.services import Services
from workers.web.app import build_app

WORKERS = ["relay", "router", "dispatcher", "sla", "notifier"]
# The demo's rules without tiers: every simulated agent may take every contact at once.
RULES: dict[str, object] = {"default_queue": "q_general", "rules": [
    {"id": "gold", "name": "Gold first", "condition": 'segment == "gold"',
     "actions": {"priority": 3, "tags": ["gold"]}, "stop": False},
    {"id": "complaints", "name": "Complaints", "condition": 'classification == "complaint"',
     "actions": {"queue": "q_complaints", "skills": {"complaints": 3},
                 "case_type": "complaint", "tags": ["klacht"]}, "stop": True},
    {"id": "invoices", "name": "Invoices", "condition": '"factuur" in words',
     "actions": {"queue": "q_billing", "skills": {"billing": 2}}, "stop": True}]}
TEXTS = [
    ("Klacht over de levering", "Ik ben zeer ontevreden, mijn pakket is nog steeds niet "
                                "bezorgd. Dit is schandalig!"),
    ("Vraag over mijn factuur", "Ik begrijp het bedrag op mijn laatste factuur niet."),
    ("Where is my parcel?", "I ordered last week and the delivery still has not arrived."),
    ("Adreswijziging", "Ik wil graag mijn adres wijzigen naar Dorpsstraat 1."),
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pops", type=int, default=300,
                        help="pop: contacts routed and popped (one offer each)")
    parser.add_argument("--pop-agents", type=int, default=4,
                        help="pop: agents on WebSockets; as many contacts in flight")
    parser.add_argument("--pop-customers", type=int, default=50,
                        help="pop: customers the contacts come from (each with history)")
    parser.add_argument("--pop-redis-url", default=None,
                        help="pop: run the bus and pushes on this Redis (default in-process)")


@dataclass(frozen=True, slots=True)
class Sample:
    offer_id: str
    total_s: float  # decided_at → frame read by the agent
    read_s: float  # decided_at → assembled_at (push, then the pop's read)
    build_s: float  # assembled_at → sent_at (script choice, JSON)
    wire_s: float  # sent_at → frame read (serialising, socket, parsing)
    size: int  # bytes of the frame


class Desk:
    """One simulated agent: records each offer, accepts it and wraps it up left open. A
    request the server refuses as a conflict (the agent's load changed under it: another
    offer was made at that moment) is sent again, as a desktop would."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, done: asyncio.Queue[str]) -> None:
        self._ws = ws
        self._done = done
        self._asked: deque[dict[str, Any]] = deque()  # answered in order, one by one
        self.samples: list[Sample] = []

    async def _ask(self, request: dict[str, Any]) -> None:
        self._asked.append(request)
        await self._ws.send_json(request)

    async def run(self) -> None:
        async for frame in self._ws:
            if frame.type is not aiohttp.WSMsgType.TEXT:
                continue
            now = datetime.now(UTC)
            message: dict[str, Any] = frame.json()
            kind = message.get("type")
            if kind == "offer":
                self.samples.append(_sample(message, now, len(frame.data)))
                await self._ask({"type": "accept", "offer_id": message["offer_id"]})
                continue
            if kind not in ("accepted", "wrapped_up", "error") or not self._asked:
                continue
            asked = self._asked.popleft()
            if kind == "accepted":
                await self._ask({"type": "wrap_up", "case_id": message["case_id"],
                                 "disposition": "answered", "outcome": "open"})
            elif kind == "wrapped_up":
                self._done.put_nowait(message["case_id"])
            elif message.get("code") == "conflict":
                await self._ask(asked)
            else:
                raise RuntimeError(f"agent socket error: {message}")


def _sample(offer: dict[str, Any], received: datetime, size: int) -> Sample:
    decided = datetime.fromisoformat(offer["decided_at"])
    assembled = datetime.fromisoformat(offer["screen_pop"]["assembled_at"])
    sent = datetime.fromisoformat(offer["sent_at"])
    return Sample(offer_id=offer["offer_id"], total_s=(received - decided).total_seconds(),
                  read_s=(assembled - decided).total_seconds(),
                  build_s=(sent - assembled).total_seconds(),
                  wire_s=(received - sent).total_seconds(), size=size)


async def _seed(services: Services, args: argparse.Namespace) -> list[str]:
    """Queues, rules, scripts, agents (returns their tokens) and customers with history."""
    now = services.clock.now()
    async with services.uow() as uow:
        for queue in QUEUES:
            await uow.workforce.add_queue(Queue(id=queue.id, name=queue.name))
        for n in range(args.pop_agents):
            await uow.workforce.add_agent(Agent(
                id=f"agent_{n}", name=f"Agent {n}", username=f"agent{n}",
                tier=Tier.FIRST_LINE, skills={"complaints": 5, "billing": 5, "nl": 5},
                queue_ids=[q.id for q in QUEUES], presence=Presence.OFFLINE,
                presence_since=now))
        for key, document in ((SCRIPTS_KEY, DEMO_SCRIPTS), (KNOWLEDGE_KEY, DEMO_KNOWLEDGE)):
            await uow.routing.put_document(key, document, expected_revision=None, by="bench",
                                           at=now)
        await uow.commit()
    bench = Actor(id=None, name="bench", role=None)
    saved = await services.rules_admin.save_draft(RULES, actor=bench, comment="bench")
    await services.rules_admin.publish(version=saved.number, actor=bench, comment="bench")
    for c in range(args.pop_customers):
        email = f"klant{c}@example.nl"
        history = [(Channel.EMAIL, Party(name=f"Klant {c}", email=email)),
                    (Channel.PHONE, Party(email=email, phone=f"+3161{c:07d}")),
                    (Channel.CHAT, Party(email=email, visitor_id=f"vis_{c}"))]
        if c % 5 == 0:  # someone else holds a number this customer will call from
            history.append((Channel.PHONE, Party(phone=f"+3162{c:07d}")))
        for n, (channel, party) in enumerate(history):
            await services.ingestion.ingest(IngestContact(
                channel=channel, direction=Direction.INBOUND, external_id=f"hist-{c}-{n}",
                party=party, summary=f"Eerder contact {n}", open_case=False))
    async with services.uow() as uow:
        for c in range(args.pop_customers):
            found = await uow.customers.search(email=f"klant{c}@example.nl", phone=None,
                                               text=None, limit=1)
            if found:
                found[0].segment = "gold" if c % 3 == 0 else "silver"
                found[0].value = float(250 * (c % 8))
                await uow.customers.update_profile(found[0])
        await uow.commit()
    return [await services.access.create_token(role=Role.AGENT, name=f"Agent {n}",
                                               agent_id=f"agent_{n}")
            for n in range(args.pop_agents)]


async def _measure(services: Services, args: argparse.Namespace, base: str,
                   agent_tokens: list[str]) -> tuple[list[Sample], float]:
    admin = await services.access.create_token(role=Role.ADMIN, name="bench admin")
    done: asyncio.Queue[str] = asyncio.Queue()
    async with aiohttp.ClientSession() as session:
        desks: list[Desk] = []
        sockets = []
        for token in agent_tokens:
            ws = await session.ws_connect(f"{base}/agent/ws", max_msg_size=0,
                                          headers={"Authorization": f"Bearer {token}"})
            await ws.send_json({"type": "presence", "status": "available"})
            sockets.append(ws)
            desks.append(Desk(ws, done))
        readers = [asyncio.create_task(d.run()) for d in desks]
        headers = {"Authorization": f"Bearer {admin}"}
        started = time.perf_counter()
        try:
            in_flight = 0
            for n in range(args.pops):
                if in_flight >= args.pop_agents:
                    await _next(done, readers)
                    in_flight -= 1
                c = n % args.pop_customers
                subject, body = TEXTS[n % len(TEXTS)]
                party: dict[str, str] = {"email": f"klant{c}@example.nl"}
                if c % 5 == 0:
                    party["phone"] = f"+3162{c:07d}"
                async with session.post(f"{base}/api/contacts", headers=headers, json={
                        "channel": "email", "external_id": f"<bench-{n}@example.nl>",
                        "from": party, "subject": subject, "body": body}) as response:
                    if response.status not in (201, 202):
                        raise RuntimeError(f"contact {n}: HTTP {response.status}")
                in_flight += 1
            for _ in range(in_flight):
                await _next(done, readers)
            elapsed = time.perf_counter() - started
        finally:
            for ws in sockets:
                await ws.close()
            for reader in readers:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError, RuntimeError):
                    await reader
    return [s for d in desks for s in d.samples], elapsed


async def _next(done: asyncio.Queue[str], readers: list[asyncio.Task[None]]) -> None:
    """The next wrapped-up contact; a reader that failed fails the run instead of hanging."""
    waiting = asyncio.ensure_future(done.get())
    finished, _ = await asyncio.wait([waiting, *readers], timeout=60,
                                     return_when=asyncio.FIRST_COMPLETED)
    if waiting not in finished:
        waiting.cancel()
        for reader in readers:
            if reader in finished:
                reader.result()  # raises what went wrong
        raise RuntimeError("no offer was answered within 60 s")


def _ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000


async def read_alone(services: Services, samples: list[Sample]) -> list[float]:
    """The pop's read by itself, each offer again with nothing else running."""
    pops = ScreenPops(services.read_uow, clock=services.clock, suggester=ScriptSuggester())
    timings = []
    for sample in samples:
        async with services.read_uow() as uow:
            offer = await uow.work.get_offer(sample.offer_id)
        assert offer is not None
        started = time.perf_counter()
        await pops.for_offer(offer)
        timings.append(time.perf_counter() - started)
    return timings


def report(samples: list[Sample], alone: list[float], elapsed: float,
           args: argparse.Namespace, target: str) -> list[str]:
    def line(name: str, values: list[float]) -> str:
        return (f"  {name:<34} p50 {_ms(values, 0.50):7.1f} ms  p95 {_ms(values, 0.95):7.1f} ms"
                f"  p99 {_ms(values, 0.99):7.1f} ms  max {max(values) * 1000:7.1f} ms")

    sizes = sorted(s.size for s in samples)
    command = (f"$ switchboard bench pop --pops {args.pops} --pop-agents {args.pop_agents} "
               f"--pop-customers {args.pop_customers}")
    for option, value in (("--database-url", args.database_url),
                          ("--pop-redis-url", args.pop_redis_url)):
        if value:
            command += f" {option} {value}"
    return [
        command,
        f"{len(samples)} offers with their screen-pop to {args.pop_agents} agents on "
        f"/agent/ws, {args.pop_agents} contacts in flight, {len(samples) / elapsed:.0f} "
        f"pops/s; {target}",
        line("routing decision -> pop received", [s.total_s for s in samples]),
        line("  decision -> pop read (push+read)", [s.read_s for s in samples]),
        line("  pop read -> frame sent", [s.build_s for s in samples]),
        line("  frame sent -> received", [s.wire_s for s in samples]),
        line("the pop's read alone (idle service)", alone),
        f"  frame size: median {sizes[len(sizes) // 2] / 1024:.1f} KiB, "
        f"max {sizes[-1] / 1024:.1f} KiB",
    ]


async def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        engine = build_engine(url)
        try:
            await migrate.upgrade(engine)
        finally:
            await engine.dispose()
        settings = Settings(database_url=url, redis_url=args.pop_redis_url,
                            log_level="WARNING")
        async with bootstrap.build(settings) as services:
            tokens = await _seed(services, args)
            runner = web.AppRunner(build_app(services))
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            host, port = runner.addresses[0][:2]
            stop = asyncio.Event()
            workers = asyncio.create_task(run_workers(services, WORKERS, stop))
            try:
                samples, elapsed = await _measure(services, args, f"http://{host}:{port}",
                                                  tokens)
            finally:
                stop.set()
                await workers
                await runner.cleanup()
            alone = await read_alone(services, samples)
    target = ("SQLite (temporary file)" if args.database_url is None else "the given database")
    target += ", in-process bus" if args.pop_redis_url is None else ", Redis bus and pushes"
    print("\n".join(report(samples, alone, elapsed, args, target)))
    return 0
