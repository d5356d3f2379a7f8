"""The live wallboard's push side: from events to fresh boards on supervisors' screens.

```
events ─► the notify consumer group (one process handles each event)
            └─► push channel "wallboard": {"type": "board_changed", "topic": …}
                  └─► every web process's WallboardHub (only while a supervisor watches)
                        └─► one coalesced recompute ─► every supervisor socket of the process
```

The hub recomputes at most once per ``coalesce_s`` however many hints arrive (the first
hint after a quiet spell at once, the rest of a burst in one go after the window) and
shares each board between all the process's sockets, serialised once. Pushes are hints and
may be lost, so it also recomputes every ``refresh_s`` when nothing happened, which also
turns the day over at midnight and shows changes that announce no event (a new agent).
Ages grow without events: boards carry timestamps and the server time, and the page counts
the seconds itself (``docs/supervisor-protocol.md``).

The supervisors' alert channel (SLA warnings and breaches, routed cases) is forwarded to
every socket as it comes, and marks the board changed too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.domain.events import Envelope
from core.ports import Push
from routing.wallboard import (
    AgentBoard,
    Board,
    QueueBoard,
    ServiceLevel,
    SlaCounts,
    WorkInHand,
)

log = logging.getLogger(__name__)

WALLBOARD = "wallboard"  # the push channel of change hints
# Events after which the board may look different.
BOARD_TOPICS = frozenset({
    "case.updated",  # status, first response, priority: service level and SLA alerts
    "routing.case_routed", "routing.work_waiting", "routing.offer_made",
    "routing.offer_answered", "routing.work_completed", "routing.work_cancelled",
    "routing.after_contact_work",
    "agent.presence_changed",
    "sla.warning", "sla.breached",
})
COALESCE_S = 0.5
REFRESH_S = 30.0
WATCHER_QUEUE = 64  # messages a slow socket may lag behind before it loses the oldest


async def hint_board_changed(push: Push, envelope: Envelope) -> None:
    """Tell every process's wallboard hub when an event may have changed the board (called
    by the notifier, which sees every event once)."""
    if envelope.topic in BOARD_TOPICS:
        await push.publish(WALLBOARD, {"type": "board_changed", "topic": envelope.topic})


class Watcher:
    """One socket's view of the hub: the serialised messages it still has to send."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[str] = asyncio.Queue(WATCHER_QUEUE)

    def offer(self, text: str) -> None:
        if self._queue.full():  # a newer board follows; the oldest message goes
            with contextlib.suppress(asyncio.QueueEmpty):
                self._queue.get_nowait()
        self._queue.put_nowait(text)

    async def next(self) -> str:
        return await self._queue.get()


@dataclass(slots=True)
class HubStats:
    hints: int = 0  # change hints received
    alerts: int = 0  # alert-channel messages forwarded
    recomputes: int = 0  # boards computed (and broadcast)
    failures: int = 0  # recomputes that failed (the database was away)


Observer = Callable[[str], None]  # "hint", "alert", "recompute", "failure" or "stopped"


class WallboardHub:
    """One per web process: a shared, coalesced board for every supervisor socket. Runs
    only while at least one socket watches; its task is cancelled when the last leaves or
    the application shuts down (``close``)."""

    def __init__(self, *, push: Push, compute: Callable[[], Awaitable[Board]],
                 alert_channel: str, coalesce_s: float = COALESCE_S,
                 refresh_s: float = REFRESH_S) -> None:
        self._push = push
        self._alert_channel = alert_channel  # forwarded to every socket as it comes
        self._compute = compute
        self._coalesce_s = coalesce_s
        self._refresh_s = refresh_s
        self._watchers: set[Watcher] = set()
        self._lock = asyncio.Lock()
        self._dirty = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._latest: str | None = None
        self._seq = 0
        self._observers: list[Observer] = []
        self.stats = HubStats()

    def observe(self, observer: Observer) -> None:
        """A hook for tests and metrics: called on every hint, alert, recompute and failure,
        and when the hub stops."""
        self._observers.append(observer)

    @property
    def running(self) -> bool:
        return self._task is not None

    @contextlib.asynccontextmanager
    async def watch(self) -> AsyncIterator[Watcher]:
        """Receive every board (the newest one at once, when there is one) and every
        alert-channel message until the block ends."""
        watcher = Watcher()
        async with self._lock:
            self._watchers.add(watcher)
            if self._latest is not None:
                watcher.offer(self._latest)
            if self._task is None:
                self._task = asyncio.create_task(self._run(), name="wallboard-hub")
        try:
            yield watcher
        finally:
            # At once, so a cancelled handler cannot leave its watcher behind.
            self._watchers.discard(watcher)
            if not self._watchers:
                async with self._lock:
                    if not self._watchers:  # nobody joined meanwhile
                        await self._stop()

    def refresh(self) -> None:
        """Recompute soon (within the coalescing window)."""
        self._dirty.set()

    async def close(self) -> None:
        async with self._lock:
            self._watchers.clear()
            await self._stop()

    async def _stop(self) -> None:
        task, self._task = self._task, None
        self._latest = None  # nobody keeps it fresh any more
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self._notify("stopped")

    def _broadcast(self, text: str) -> None:
        for watcher in list(self._watchers):
            watcher.offer(text)

    def _notify(self, what: str) -> None:
        for observer in list(self._observers):
            try:
                observer(what)
            except Exception:  # an observer must not stop the board
                log.exception("wallboard observer failed")

    async def _run(self) -> None:
        async with (self._push.subscribe(WALLBOARD) as hints,
                    self._push.subscribe(self._alert_channel) as alerts,
                    asyncio.TaskGroup() as tasks):
            tasks.create_task(self._follow_hints(hints), name="wallboard-hints")
            tasks.create_task(self._follow_alerts(alerts), name="wallboard-alerts")
            tasks.create_task(self._recompute(), name="wallboard-recompute")

    async def _follow_hints(self, hints: AsyncIterator[dict[str, object]]) -> None:
        async for _ in hints:
            self.stats.hints += 1
            self._dirty.set()
            self._notify("hint")

    async def _follow_alerts(self, alerts: AsyncIterator[dict[str, object]]) -> None:
        async for message in alerts:
            self.stats.alerts += 1
            self._broadcast(json.dumps(message, default=str))
            self._dirty.set()
            self._notify("alert")

    async def _recompute(self) -> None:
        self._dirty.set()  # the first board
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._dirty.wait(), timeout=self._refresh_s)
            self._dirty.clear()
            try:
                board = await self._compute()
            except Exception:  # the database is away: the next hint or refresh tries again
                log.exception("could not compute the wallboard")
                self.stats.failures += 1
                self._notify("failure")
            else:
                self._seq += 1
                self._latest = json.dumps(snapshot_message(board, seq=self._seq))
                self._broadcast(self._latest)
                self.stats.recomputes += 1
                self._notify("recompute")
            # Whatever arrives meanwhile is taken in by one recompute after the window.
            await asyncio.sleep(self._coalesce_s)


# --- the snapshot message (docs/supervisor-protocol.md) -----------------------------------


def _at(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _age_s(since: datetime | None, now: datetime) -> int | None:
    return None if since is None else max(0, int((now - since).total_seconds()))


def _service_level(level: ServiceLevel) -> dict[str, Any]:
    ratio = level.ratio
    return {"in_target": level.in_target, "late": level.late, "overdue": level.overdue,
            "ratio": None if ratio is None else round(ratio, 4)}


def _sla(counts: SlaCounts) -> dict[str, int]:
    return {"warnings": counts.warnings, "breaches": counts.breaches}


def _queue(queue: QueueBoard, now: datetime) -> dict[str, Any]:
    return {"id": queue.id, "name": queue.name,
            "waiting": {c.value: n for c, n in sorted(queue.waiting.items())},
            "waiting_total": queue.waiting_total, "offered": queue.offered,
            "oldest_waiting_since": _at(queue.oldest_waiting_since),
            "longest_wait_s": _age_s(queue.oldest_waiting_since, now),
            "service_level": _service_level(queue.service_level), "sla": _sla(queue.sla)}


def _agent(agent: AgentBoard, now: datetime) -> dict[str, Any]:
    return {
        "id": agent.id, "name": agent.name,
        "teams": [{"id": team_id, "name": name} for team_id, name in agent.teams],
        "presence": agent.presence.value, "presence_since": _at(agent.presence_since),
        "in_presence_s": _age_s(agent.presence_since, now),
        "work": [_work(w) for w in agent.work],
        "capacity": {"used": agent.capacity_used, "total": agent.capacity_total,
                     "channels": {c.value: {"used": cap.used, "total": cap.total}
                                  for c, cap in sorted(agent.capacity.items())}},
    }


def _work(w: WorkInHand) -> dict[str, Any]:
    wrapping = w.after_contact_work_since is not None
    return {"case_id": w.case_id, "case_reference": w.case_reference,
            "channel": w.channel.value, "queue_id": w.queue_id,
            # After-contact work is a state of its own, timed from the conversation's end.
            "state": "after_contact_work" if wrapping else w.state.value,
            "since": _at(w.after_contact_work_since if wrapping else w.since),
            "expires_at": _at(w.expires_at), "wrap_up_due_at": _at(w.wrap_up_due_at)}


def snapshot_message(board: Board, *, seq: int) -> dict[str, Any]:
    now = board.generated_at
    oldest = board.oldest_waiting_since
    waiting = board.waiting
    return {
        "type": "snapshot", "seq": seq, "generated_at": _at(now),
        "day_started_at": _at(board.day_started_at), "timezone": board.timezone,
        "queues": [_queue(q, now) for q in board.queues],
        "agents": [_agent(a, now) for a in board.agents],
        "sla_alerts": [{"case_id": a.case_id, "case_reference": a.case_reference,
                        "queue_id": a.queue_id, "kind": a.kind.value, "state": a.state.value,
                        "due_at": _at(a.due_at)} for a in board.alerts],
        "totals": {
            "waiting": {c.value: n for c, n in sorted(waiting.items())},
            "waiting_total": sum(waiting.values()),
            "offered": sum(q.offered for q in board.queues),
            "oldest_waiting_since": _at(oldest), "longest_wait_s": _age_s(oldest, now),
            "service_level": _service_level(board.service_level), "sla": _sla(board.sla),
            "agents": {p.value: n for p, n in sorted(board.presence.items())},
            "capacity": {"used": sum(a.capacity_used for a in board.agents),
                         "total": sum(a.capacity_total for a in board.agents)},
        },
    }
