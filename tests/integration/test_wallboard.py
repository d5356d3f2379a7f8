"""The supervisors' live wallboard end to end: the real service (HTTP API, workers, agent
and supervisor WebSockets) on SQLite and PostgreSQL, with a clock the test moves by hand.

Contacts arrive through the API and agents work on their desktops; the supervisor socket
must show the board change without asking. Nothing sleeps: every wait is for a message,
with a deadline.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis.asyncio as redis
from aiohttp import ClientWebSocketResponse, WSServerHandshakeError
from aiohttp.test_utils import TestClient, TestServer

from core.config import Settings
from core.domain.audit import SYSTEM
from core.domain.contact import Case, CaseStatus, CaseType
from core.domain.customer import Customer
from core.domain.events import Envelope
from core.domain.sla import SlaClock, SlaKind
from core.domain.workforce import Presence, Queue, Role
from core.services.agents import AgentChanges
from tests.conftest import REDIS_URL, unavailable
from tests.support.centre import (
    ALL_WORKERS,
    WAIT_S,
    Centre,
    available,
    receive,
    running_centre,
)
from tests.support.clock import FakeClock
from workers import bootstrap
from workers.runtime import run_workers
from workers.services import Services
from workers.wallboard import WallboardHub
from workers.web.app import build_app
from workers.web.supervisor_ws import WALLBOARD_HUB

# A Tuesday morning in office hours: 10:30 in Amsterdam.
START = datetime(2026, 11, 17, 9, 30, tzinfo=UTC)
RULES: dict[str, Any] = {"default_queue": "q_general", "rules": []}

Snapshot = dict[str, Any]


@pytest.fixture
async def centre(database_url: str) -> AsyncIterator[Centre]:
    async with running_centre(database_url, START) as running:
        await running.publish(RULES)
        yield running


async def supervisor(centre: Centre, headers: dict[str, str] | None = None
                     ) -> ClientWebSocketResponse:
    return await centre.client.ws_connect("/supervisor/ws",
                                          headers=headers or centre.supervisor)


async def snapshot_where(ws: ClientWebSocketResponse, test: Callable[[Snapshot], bool],
                         seen: list[Snapshot] | None = None) -> Snapshot:
    """The first snapshot that passes ``test``, skipping others; fails after WAIT_S."""
    async with asyncio.timeout(WAIT_S):
        while True:
            message: Snapshot = await ws.receive_json()
            if message["type"] != "snapshot":
                continue
            if seen is not None:
                seen.append(message)
            if test(message):
                return message


def queue(board: Snapshot, queue_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(q for q in board["queues"] if q["id"] == queue_id)
    return found


def agent(board: Snapshot, agent_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(a for a in board["agents"] if a["id"] == agent_id)
    return found


async def chat(centre: Centre, n: int) -> dict[str, Any]:
    return await centre.contact(channel="chat", external_id=f"chat-{n}",
                                **{"from": {"email": f"visitor{n}@example.nl",
                                            "name": f"Bezoeker {n}"}},
                                subject="Vraag over mijn bestelling")


def hub_of(centre: Centre) -> WallboardHub:
    app = centre.client.app
    assert app is not None
    hub: WallboardHub = app[WALLBOARD_HUB]
    return hub


async def test_the_board_shows_work_arriving_being_taken_and_done(centre: Centre) -> None:
    anna, anna_headers = await centre.agent("Anna", tier=1, skills={}, queues=["q_general"])
    ws = await supervisor(centre)

    first = await ws.receive_json()  # the full board at once
    assert first["type"] == "snapshot"
    assert [q["id"] for q in first["queues"]] == ["q_complaints", "q_general"]
    assert queue(first, "q_general")["waiting_total"] == 0
    assert agent(first, anna)["presence"] == "offline"
    assert first["day_started_at"] == "2026-11-16T23:00:00+00:00"  # midnight, Amsterdam
    assert first["timezone"] == "Europe/Amsterdam"

    contact = await chat(centre, 1)
    board = await snapshot_where(ws, lambda b: queue(b, "q_general")["waiting_total"] == 1)
    general = queue(board, "q_general")
    assert general["waiting"] == {"chat": 1}
    assert general["oldest_waiting_since"] == START.isoformat()
    assert board["totals"]["waiting_total"] == 1

    # Ages grow without events: a refresh (or the page, from the timestamps) shows them.
    centre.clock.advance(timedelta(seconds=90))
    await ws.send_json({"type": "refresh"})
    board = await snapshot_where(ws, lambda b: queue(b, "q_general")["longest_wait_s"] == 90)
    assert board["totals"]["longest_wait_s"] == 90

    anna_ws = await available(centre, anna_headers)
    offered = await snapshot_where(ws, lambda b: [w["state"] for w in agent(b, anna)["work"]]
                                   == ["offered"])
    assert agent(offered, anna)["presence"] == "available"
    assert queue(offered, "q_general")["waiting_total"] == 0
    assert queue(offered, "q_general")["offered"] == 1

    offer = await receive(anna_ws, "offer")
    assert offer["case"]["id"] == contact["case_id"]
    centre.clock.advance(timedelta(seconds=20))  # within the offer's 30 s
    await anna_ws.send_json({"type": "accept", "offer_id": offer["offer_id"]})
    await receive(anna_ws, "accepted")
    board = await snapshot_where(ws, lambda b: [w["state"] for w in agent(b, anna)["work"]]
                                 == ["assigned"])
    [work] = agent(board, anna)["work"]
    assert work["case_id"] == contact["case_id"]
    assert work["case_reference"] == offer["case"]["reference"]
    assert work["channel"] == "chat"
    assert work["since"] == centre.clock.now().isoformat()
    assert agent(board, anna)["capacity"]["channels"]["chat"] == {"used": 1, "total": 3}
    assert queue(board, "q_general")["offered"] == 0
    # Taking a chat is its first response, under two minutes in: within any target.
    assert queue(board, "q_general")["service_level"] == {
        "in_target": 1, "late": 0, "overdue": 0, "ratio": 1.0}
    assert board["totals"]["service_level"]["ratio"] == 1.0

    await anna_ws.send_json({"type": "wrap_up", "case_id": contact["case_id"],
                             "disposition": "answered"})
    await receive(anna_ws, "wrapped_up")
    board = await snapshot_where(ws, lambda b: agent(b, anna)["work"] == [])
    assert agent(board, anna)["capacity"]["used"] == 0

    await anna_ws.send_json({"type": "presence", "status": "away"})
    board = await snapshot_where(ws, lambda b: agent(b, anna)["presence"] == "away")
    assert agent(board, anna)["presence_since"] == centre.clock.now().isoformat()
    assert board["totals"]["agents"] == {"away": 1}
    await anna_ws.close()
    await ws.close()


async def test_sla_warnings_and_breaches_reach_the_supervisor(centre: Centre) -> None:
    ws = await supervisor(centre)
    await ws.receive_json()
    await centre.contact(channel="email", external_id="<vraag-1@example.nl>",
                         **{"from": {"email": "piet@example.nl"}}, subject="Vraag",
                         body="Wanneer wordt mijn pakket bezorgd?")
    await snapshot_where(ws, lambda b: queue(b, "q_general")["waiting_total"] == 1)

    # Standard first response: 8 business hours, from Tuesday 10:30 to Wednesday 09:30.
    centre.clock.set(datetime(2026, 11, 18, 11, 0, tzinfo=UTC))  # Wednesday 12:00
    centre.services.wakeups.sla.set()
    warning = await receive(ws, "sla_warning")
    breach = await receive(ws, "sla_breached")
    assert warning["kind"] == breach["kind"] == "first_response"
    assert "supervisors notified" in breach["escalation"]

    board = await snapshot_where(ws, lambda b: queue(b, "q_general")["sla"]["breaches"] == 1)
    assert board["day_started_at"] == "2026-11-17T23:00:00+00:00"
    assert queue(board, "q_general")["sla"] == {"warnings": 0, "breaches": 1}
    [alert] = board["sla_alerts"]
    assert alert["kind"] == "first_response"
    assert alert["state"] == "breach"
    assert alert["due_at"] == breach["due_at"]
    # Overdue today and still unanswered: it counts against today's service level.
    assert queue(board, "q_general")["service_level"] == {
        "in_target": 0, "late": 0, "overdue": 1, "ratio": 0.0}
    await ws.close()


async def test_a_burst_of_events_is_recomputed_a_few_times_for_all_supervisors(
        centre: Centre) -> None:
    sockets = [await supervisor(centre) for _ in range(3)]
    for ws in sockets:
        assert (await ws.receive_json())["type"] == "snapshot"
    hub = hub_of(centre)
    burst = 200
    hints_before, recomputes_before = hub.stats.hints, hub.stats.recomputes
    all_hinted = asyncio.Event()

    def count(what: str) -> None:
        if hub.stats.hints - hints_before >= burst:
            all_hinted.set()

    hub.observe(count)
    await centre.services.bus.publish([
        Envelope(id=f"evt_burst_{n}", topic="agent.presence_changed",
                 payload={"agent_id": "agt_nobody", "presence": "away", "reason": "test"},
                 occurred_at=centre.clock.now())
        for n in range(burst)])
    async with asyncio.timeout(WAIT_S):
        await all_hinted.wait()
    after_burst = hub.stats.recomputes
    # Every hint has arrived; the board they ask for follows on every socket.
    seqs = []
    for ws in sockets:
        board = await snapshot_where(ws, lambda b: b["seq"] > after_burst)
        seqs.append(board["seq"])
    assert len(set(seqs)) == 1  # one computation, shared by every socket
    recomputes = hub.stats.recomputes - recomputes_before
    assert 1 <= recomputes <= 10, f"{burst} events cost {recomputes} recomputes"
    for ws in sockets:
        await ws.close()


async def test_the_hub_runs_only_while_someone_watches(centre: Centre) -> None:
    hub = hub_of(centre)
    assert not hub.running
    ws = await supervisor(centre)
    first = await ws.receive_json()
    assert hub.running
    late = await supervisor(centre)
    # A second screen gets the board at once, from the computation already made.
    assert (await late.receive_json())["seq"] == first["seq"]
    assert hub.stats.recomputes == 1
    stopped = asyncio.Event()
    hub.observe(lambda what: stopped.set() if what == "stopped" else None)
    await ws.close()
    assert hub.running  # one screen still watches
    await late.close()
    async with asyncio.timeout(WAIT_S):
        await stopped.wait()
    assert not hub.running


async def test_agents_and_strangers_are_refused(centre: Centre) -> None:
    _, agent_headers = await centre.agent("Anna", tier=1, skills={}, queues=["q_general"])
    with pytest.raises(WSServerHandshakeError) as refused:
        await supervisor(centre, agent_headers)
    assert refused.value.status == 403
    with pytest.raises(WSServerHandshakeError) as anonymous:
        await centre.client.ws_connect("/supervisor/ws")
    assert anonymous.value.status == 401
    ws = await supervisor(centre, centre.admin)  # admins may watch too
    assert (await ws.receive_json())["type"] == "snapshot"
    await ws.send_json({"type": "ping"})
    assert (await receive(ws, "pong")) == {"type": "pong"}
    await ws.send_json({"type": "take_over"})
    error = await receive(ws, "error")
    assert (error["code"], error["ref"]) == ("unknown_type", "take_over")
    await ws.close()


# --- the clock query: only what the board can count or show ------------------------------


async def test_the_board_reads_only_the_clocks_it_can_count_or_show(
        services: Services) -> None:
    now = datetime(2026, 11, 17, 11, 0, tzinfo=UTC)  # Tuesday 12:00 in Amsterdam
    since = datetime(2026, 11, 16, 23, 0, tzinfo=UTC)
    yesterday = since - timedelta(hours=5)
    hour = timedelta(hours=1)
    first, resolution = SlaKind.FIRST_RESPONSE, SlaKind.RESOLUTION
    # name: (kind, clock fields, case fields, wanted)
    clocks: dict[str, tuple[SlaKind, dict[str, Any], dict[str, Any], bool]] = {
        "answered today": (first, {"stopped_at": now - hour}, {}, True),
        "answered yesterday": (first, {"stopped_at": yesterday}, {}, False),
        "resolved today": (resolution, {"stopped_at": now - hour}, {}, False),
        "running, fine": (first, {}, {}, False),
        "breached yesterday": (first, {"breached": True, "warned": True,
                                       "due_at": yesterday}, {}, True),
        "past its warning, not yet flagged": (resolution, {"warn_at": now - hour}, {}, True),
        "past its target, not yet flagged": (first, {"due_at": now}, {}, True),
        "paused after a warning": (first, {"warned": True, "paused_at": now - hour,
                                           "running_since": None, "due_at": None,
                                           "warn_at": None}, {}, False),
        "answered, follower behind": (first, {}, {"first_responded_at": now - hour}, True),
        "answered yesterday, follower behind": (first, {}, {"first_responded_at": yesterday},
                                                False),
        "resolved, follower behind": (first, {}, {"status": CaseStatus.RESOLVED,
                                                  "resolved_at": now - hour}, True),
        "resolution clock of a resolved case": (resolution, {}, {
            "status": CaseStatus.RESOLVED, "resolved_at": now - hour}, False),
    }
    async with services.uow() as uow:
        await uow.customers.add(Customer(id="cus_1", created_at=yesterday,
                                         updated_at=yesterday))
        for number, (kind, clock_fields, case_fields, _) in enumerate(
                clocks.values(), start=1001):
            await uow.cases.add(Case(**{
                "id": f"cas_{number}", "number": number, "customer_id": "cus_1",
                "type": CaseType.QUESTION, "status": CaseStatus.OPEN,
                "queue_id": "q_general", "created_at": yesterday, "updated_at": yesterday,
                **case_fields}))
            await uow.sla.add_clock(SlaClock(**{
                "id": f"sla_{number}", "case_id": f"cas_{number}", "kind": kind,
                "policy_id": "sla_standard", "calendar_id": "cal_office_nl",
                "target_s": 8 * 3600, "warn_at_fraction": 0.8, "started_at": yesterday,
                "running_since": yesterday, "due_at": now + 4 * hour,
                "warn_at": now + 2 * hour, **clock_fields}))
        await uow.commit()
    async with services.read_uow() as uow:
        found = await uow.wallboard.board_clocks(since=since, now=now)
    names = {f"sla_{n}": name for n, name in enumerate(clocks, start=1001)}
    assert sorted(names[c.clock.id] for c in found) == sorted(
        name for name, (*_, wanted) in clocks.items() if wanted)
    [lagging] = [c for c in found if names[c.clock.id] == "answered, follower behind"]
    assert lagging.case_number == 1009
    assert lagging.queue_id == "q_general"
    assert lagging.first_responded_at == now - hour
    assert lagging.case_status is CaseStatus.OPEN


# --- across processes: Redis pub/sub carries the hints ------------------------------------


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (OSError, redis.RedisError) as err:
        unavailable(f"Redis at {REDIS_URL}", err)
    finally:
        await client.aclose()
    yield REDIS_URL


@pytest.mark.redis
async def test_a_web_process_without_workers_hears_of_changes_made_in_another(
        database_url: str, redis_url: str) -> None:
    stream = f"switchboard-test:{uuid.uuid4().hex}"
    settings = Settings(database_url=database_url, redis_url=redis_url, redis_stream=stream,
                        http_port=0)
    clock = FakeClock(START)
    async with bootstrap.build(settings, clock=clock) as worker_process, \
            bootstrap.build(settings, clock=clock) as web_process:
        async with worker_process.uow() as uow:
            await uow.workforce.add_queue(Queue(id="q_general", name="Algemeen"))
            await uow.commit()
        anna = await worker_process.agents.create(name="Anna", username="anna",
                                                  changes=AgentChanges(queue_ids=["q_general"]),
                                                  actor=SYSTEM)
        stop = asyncio.Event()
        workers = asyncio.create_task(run_workers(worker_process, list(ALL_WORKERS), stop))
        client = TestClient(TestServer(build_app(web_process)))
        await client.start_server()
        token = await web_process.access.create_token(role=Role.SUPERVISOR, name="sup")
        try:
            ws = await client.ws_connect("/supervisor/ws",
                                         headers={"Authorization": f"Bearer {token}"})
            first = await ws.receive_json()
            assert agent(first, anna.id)["presence"] == "offline"
            await worker_process.desk.set_presence(anna.id, Presence.AVAILABLE)
            board = await snapshot_where(
                ws, lambda b: agent(b, anna.id)["presence"] == "available")
            assert queue(board, "q_general")["name"] == "Algemeen"
            await ws.close()
        finally:
            stop.set()
            await asyncio.wait_for(workers, timeout=WAIT_S)
            await client.close()
            cleaner = redis.Redis.from_url(redis_url)
            keys = [k async for k in cleaner.scan_iter(match=f"{stream}*")]
            if keys:
                await cleaner.delete(*keys)
            await cleaner.aclose()
