"""The supervisors' live wallboard: per queue what waits and for how long, today's service
level and the SLA clocks in trouble; per agent presence, work in hand and capacity; totals.

Everything is read in one read-only unit of work and computed here, so every supervisor
sees the same board and the maths is testable without a database.

**Service level today** counts first responses, the clock customers feel. Since local
midnight (in the timezone of the routing calendar, the one that decides "business hours"):

- *answered in target*: a first response given today within its SLA target — the clock's
  business time used at that moment is at most its target;
- *answered late*: a first response given today past its target;
- *overdue*: no first response yet, and the target ran out today (a clock that ran out on
  an earlier day is not today's to count, but stays on the board as a breach).

``service level = in target / (answered + overdue)``, or none while that is zero. A first
response is the moment its clock stopped, or — when the SLA follower has not stopped it
yet — the moment the case records a first response, resolution or closing, with the
business time used up to then counted on the clock's own calendar.

**SLA alerts** are the running clocks (either kind) of cases not yet answered or ended:
*breach* once the target ran out, *warning* once past the warning threshold. The times
decide, not only the timer's flags, so the board does not wait for the timer to catch up.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

from core.domain.channels import Channel
from core.domain.clock import Clock
from core.domain.contact import CaseStatus
from core.domain.sla import SlaKind
from core.domain.work import WorkStatus
from core.domain.workforce import Presence
from core.ports import BoardClock, HeldWork, UnitOfWorkFactory
from routing.calendar import BusinessCalendar
from routing.configuration import OFFICE
from routing.sla import consumed_s
from routing.sla_clocks import calendars

MAX_ALERTS = 50  # the most urgent clocks listed by name; the counts cover them all
_ENDED = frozenset({CaseStatus.RESOLVED, CaseStatus.CLOSED})


class Outcome(StrEnum):
    IN_TARGET = "in_target"
    LATE = "late"
    OVERDUE = "overdue"


class AlertState(StrEnum):
    WARNING = "warning"
    BREACH = "breach"


@dataclass(slots=True)
class ServiceLevel:
    in_target: int = 0
    late: int = 0
    overdue: int = 0

    def add(self, outcome: Outcome) -> None:
        if outcome is Outcome.IN_TARGET:
            self.in_target += 1
        elif outcome is Outcome.LATE:
            self.late += 1
        else:
            self.overdue += 1

    @property
    def answered(self) -> int:
        return self.in_target + self.late

    @property
    def counted(self) -> int:
        return self.answered + self.overdue

    @property
    def ratio(self) -> float | None:
        """Share answered in target, 0..1; None while there is nothing to count."""
        return self.in_target / self.counted if self.counted else None


@dataclass(slots=True)
class SlaCounts:
    warnings: int = 0
    breaches: int = 0

    def add(self, state: AlertState) -> None:
        if state is AlertState.BREACH:
            self.breaches += 1
        else:
            self.warnings += 1


@dataclass(frozen=True, slots=True, kw_only=True)
class Alert:
    case_id: str
    case_reference: str
    queue_id: str | None
    kind: SlaKind
    state: AlertState
    due_at: datetime | None


@dataclass(slots=True, kw_only=True)
class QueueBoard:
    id: str
    name: str
    waiting: dict[Channel, int] = field(default_factory=dict)  # queued, not being offered
    offered: int = 0  # offered to an agent who has not answered yet
    oldest_waiting_since: datetime | None = None  # queued or offered, the longest wait
    service_level: ServiceLevel = field(default_factory=ServiceLevel)
    sla: SlaCounts = field(default_factory=SlaCounts)

    @property
    def waiting_total(self) -> int:
        return sum(self.waiting.values())

    def wait(self, since: datetime) -> None:
        if self.oldest_waiting_since is None or since < self.oldest_waiting_since:
            self.oldest_waiting_since = since


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkInHand:
    case_id: str
    case_reference: str | None
    channel: Channel
    queue_id: str
    state: WorkStatus  # ASSIGNED, or OFFERED while the agent has not answered
    since: datetime | None
    expires_at: datetime | None
    after_contact_work_since: datetime | None = None  # ASSIGNED and being wrapped up
    wrap_up_due_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Capacity:
    used: int  # held or being offered
    total: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentBoard:
    id: str
    name: str
    teams: list[tuple[str, str]]  # (id, name)
    presence: Presence
    presence_since: datetime
    work: list[WorkInHand]
    capacity: dict[Channel, Capacity]

    @property
    def capacity_used(self) -> int:
        return sum(c.used for c in self.capacity.values())

    @property
    def capacity_total(self) -> int:
        return sum(c.total for c in self.capacity.values())


@dataclass(frozen=True, slots=True, kw_only=True)
class Board:
    generated_at: datetime
    day_started_at: datetime  # local midnight: where "today" begins
    timezone: str
    queues: list[QueueBoard]
    agents: list[AgentBoard]
    alerts: list[Alert]  # the most urgent, breaches first, at most MAX_ALERTS
    service_level: ServiceLevel  # every queue's, and cases routed to none
    sla: SlaCounts

    @property
    def waiting(self) -> dict[Channel, int]:
        total: Counter[Channel] = Counter()
        for queue in self.queues:
            total.update(queue.waiting)
        return dict(total)

    @property
    def oldest_waiting_since(self) -> datetime | None:
        return min((q.oldest_waiting_since for q in self.queues
                    if q.oldest_waiting_since is not None), default=None)

    @property
    def presence(self) -> dict[Presence, int]:
        return dict(Counter(agent.presence for agent in self.agents))


# --- the maths ----------------------------------------------------------------------------


def day_start(zone: ZoneInfo, now: datetime) -> datetime:
    """The first instant (UTC) of the local day *now* falls on in *zone*. Where the clocks
    jump forward at midnight, 00:00 does not exist and the day starts at the jump."""
    if now.tzinfo is None:
        raise ValueError(f"now must be timezone-aware, not {now!r}")
    local_day = now.astimezone(zone).date()
    # fold=0 reads a skipped 00:00 with the offset from before the jump: the jump itself.
    return datetime.combine(local_day, time(0), tzinfo=zone).astimezone(UTC)


def answered_at(board_clock: BoardClock) -> datetime | None:
    """When the first response (or the end of the case) stopped the clock, as far as the
    clock or its case knows."""
    if board_clock.clock.stopped_at is not None:
        return board_clock.clock.stopped_at
    return min((at for at in (board_clock.first_responded_at, board_clock.resolved_at,
                              board_clock.closed_at) if at is not None), default=None)


def first_response_outcome(board_clock: BoardClock, calendar: BusinessCalendar, *,
                           since: datetime, now: datetime) -> Outcome | None:
    """What a first-response clock counts for in the service level of the day that began
    at *since*; None when it does not count today."""
    clock = board_clock.clock
    if clock.kind is not SlaKind.FIRST_RESPONSE:
        return None
    answered = answered_at(board_clock)
    if answered is not None:
        if answered < since:
            return None
        used = clock.consumed_s if clock.stopped else consumed_s(clock, calendar, answered)
        return Outcome.IN_TARGET if used <= clock.target_s else Outcome.LATE
    if clock.running and clock.due_at is not None and since <= clock.due_at <= now:
        return Outcome.OVERDUE
    return None


def alert_state(board_clock: BoardClock, now: datetime) -> AlertState | None:
    """Breach or warning for a clock still running on a case still waiting for it."""
    clock = board_clock.clock
    if not clock.running or board_clock.case_status in _ENDED:
        return None
    if clock.kind is SlaKind.FIRST_RESPONSE and board_clock.first_responded_at is not None:
        return None
    if clock.breached or (clock.due_at is not None and clock.due_at <= now):
        return AlertState.BREACH
    if clock.warned or (clock.warn_at is not None and clock.warn_at <= now):
        return AlertState.WARNING
    return None


def case_reference(number: int) -> str:
    return f"SW-{number}"  # as Case.reference


# --- the use case -------------------------------------------------------------------------


class Wallboard:
    def __init__(self, read_uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._read_uow = read_uow
        self._clock = clock

    async def snapshot(self) -> Board:
        now = self._clock.now()
        async with self._read_uow() as uow:
            found = await calendars(uow)
            routing_calendar = found.get(OFFICE.id) or next(iter(found.values()))
            zone = ZoneInfo(routing_calendar.spec.timezone)
            since = day_start(zone, now)
            queues = await uow.workforce.list_queues()
            teams = {t.id: t.name for t in await uow.workforce.list_teams()}
            agents = [a for a in await uow.workforce.list_agents() if a.active]
            loads = await uow.work.loads([a.id for a in agents])
            waiting = await uow.wallboard.waiting_work(now=now)
            held = await uow.wallboard.held_work()
            clocks = await uow.wallboard.board_clocks(since=since, now=now)

        boards = {q.id: QueueBoard(id=q.id, name=q.name) for q in queues}

        def queue(queue_id: str) -> QueueBoard:
            # Work can sit in a queue that is no longer configured; show it by its id.
            return boards.setdefault(queue_id, QueueBoard(id=queue_id, name=queue_id))

        for group in waiting:
            board = queue(group.queue_id)
            if group.status is WorkStatus.QUEUED:
                board.waiting[group.channel] = board.waiting.get(group.channel, 0) \
                    + group.count
            else:
                board.offered += group.count
            board.wait(group.oldest_enqueued_at)

        total_level, total_sla, alerts = _tally_clocks(clocks, found, queue, since=since,
                                                       now=now)
        work_by_agent = _work_by_agent(held)
        agent_boards = []
        for agent in sorted(agents, key=lambda a: (a.name.casefold(), a.id)):
            load = loads.get(agent.id)
            channels = dict.fromkeys([*agent.capacity, *(load.load if load else {})])
            agent_boards.append(AgentBoard(
                id=agent.id, name=agent.name,
                teams=[(t, teams.get(t, t)) for t in agent.team_ids],
                presence=agent.presence, presence_since=agent.presence_since,
                work=work_by_agent.get(agent.id, []),
                capacity={c: Capacity(used=load.holding(c) if load else 0,
                                      total=agent.capacity.get(c, 0)) for c in channels}))
        return Board(generated_at=now, day_started_at=since, timezone=zone.key,
                     queues=sorted(boards.values(), key=lambda q: (q.name.casefold(), q.id)),
                     agents=agent_boards, alerts=alerts, service_level=total_level,
                     sla=total_sla)


def _tally_clocks(clocks: Iterable[BoardClock], found: Mapping[str, BusinessCalendar],
                  queue: Callable[[str], QueueBoard], *, since: datetime, now: datetime,
                  ) -> tuple[ServiceLevel, SlaCounts, list[Alert]]:
    total_level, total_sla = ServiceLevel(), SlaCounts()
    alerts: list[Alert] = []
    fallback = next(iter(found.values()))
    for board_clock in clocks:
        clock = board_clock.clock
        board = queue(board_clock.queue_id) if board_clock.queue_id else None
        calendar = found.get(clock.calendar_id, fallback)
        outcome = first_response_outcome(board_clock, calendar, since=since, now=now)
        if outcome is not None:
            total_level.add(outcome)
            if board is not None:
                board.service_level.add(outcome)
        state = alert_state(board_clock, now)
        if state is not None:
            total_sla.add(state)
            if board is not None:
                board.sla.add(state)
            alerts.append(Alert(case_id=clock.case_id,
                                case_reference=case_reference(board_clock.case_number),
                                queue_id=board_clock.queue_id, kind=clock.kind, state=state,
                                due_at=clock.due_at))
    far = datetime.max.replace(tzinfo=UTC)
    alerts.sort(key=lambda a: (a.state is not AlertState.BREACH, a.due_at or far,
                               a.case_reference, a.kind))
    return total_level, total_sla, alerts[:MAX_ALERTS]


def _work_by_agent(held: Iterable[HeldWork]) -> dict[str, list[WorkInHand]]:
    found: defaultdict[str, list[WorkInHand]] = defaultdict(list)
    for item in held:
        if item.agent_id is None:
            continue
        found[item.agent_id].append(WorkInHand(
            case_id=item.case_id,
            case_reference=None if item.case_number is None
            else case_reference(item.case_number),
            channel=item.channel, queue_id=item.queue_id, state=item.status,
            since=item.since, expires_at=item.expires_at,
            after_contact_work_since=item.after_contact_work_since,
            wrap_up_due_at=item.wrap_up_due_at))
    return dict(found)
