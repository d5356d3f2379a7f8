"""SLA clocks over a case's life: paused while it waits on the customer, resumed when it
comes back, stopped when met, retargeted when the case is reclassified, and — when due —
a warning, then a breach that escalates the case."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.domain.clock import Clock
from core.domain.contact import CaseStatus, Priority
from core.domain.events import CaseUpdated, Event, SlaBreached, SlaWarning, WorkWaiting
from core.domain.sla import SlaClock, SlaKind
from core.domain.work import WorkStatus
from core.domain.workforce import Tier
from core.ports import UnitOfWork, UnitOfWorkFactory
from routing.calendar import BusinessCalendar
from routing.configuration import calendar_specs, sla_policies
from routing.sla import SlaSignal, evaluate, pause, resume, retarget, select_policy, stop

log = logging.getLogger(__name__)


async def calendars(uow: UnitOfWork) -> dict[str, BusinessCalendar]:
    return {spec.id: BusinessCalendar(spec) for spec in await calendar_specs(uow)}


def _calendar(found: Mapping[str, BusinessCalendar], clock: SlaClock) -> BusinessCalendar:
    # A calendar removed from the configuration must not freeze its clocks.
    return found.get(clock.calendar_id) or next(iter(found.values()))


async def stop_clocks(uow: UnitOfWork, case_id: str, kind: SlaKind | None,
                      now: datetime) -> None:
    found = await calendars(uow)
    for clock in await uow.sla.clocks_for_case(case_id):
        if clock.stopped_at is None and (kind is None or clock.kind is kind):
            stop(clock, _calendar(found, clock), now)
            await uow.sla.save_clock(clock)


async def follow_case_change(uow: UnitOfWork, case_id: str, changes: Mapping[str, Any],
                             now: datetime) -> None:
    """Keep the case's clocks in step with what changed on it. Only clocks that move are
    written (writing back an unchanged clock could only undo someone else's change), and
    the calendars are read only when one moves: the router's own type-and-priority update,
    on clocks it has just started for that very policy, usually moves none."""
    clocks = [c for c in await uow.sla.clocks_for_case(case_id) if c.stopped_at is None]
    if not clocks:
        return
    found: Mapping[str, BusinessCalendar] | None = None
    status = changes.get("status")
    for clock in clocks:
        if status in (CaseStatus.RESOLVED.value, CaseStatus.CLOSED.value) or (
                changes.get("first_responded") and clock.kind is SlaKind.FIRST_RESPONSE):
            move = stop
        elif status == CaseStatus.PENDING.value and clock.paused_at is None:
            move = pause
        elif status == CaseStatus.OPEN.value and clock.paused_at is not None:
            move = resume
        else:
            continue
        if found is None:
            found = await calendars(uow)
        move(clock, _calendar(found, clock), now)
        await uow.sla.save_clock(clock)
    if "type" in changes or "priority" in changes:
        await _retarget(uow, case_id, [c for c in clocks if c.stopped_at is None], found, now)


async def _retarget(uow: UnitOfWork, case_id: str, clocks: list[SlaClock],
                    found: Mapping[str, BusinessCalendar] | None, now: datetime) -> None:
    case = await uow.cases.get(case_id)
    if case is None:
        return
    customer = await uow.customers.get(case.customer_id)
    item = await uow.work.item_for_case(case_id)
    policy = select_policy(await sla_policies(uow), case_type=case.type.value,
                           priority=int(case.priority),
                           segment=customer.segment if customer else None,
                           channel=item.channel.value if item else "email")
    moving = [clock for clock in clocks if policy is not None and clock.policy_id != policy.id]
    if policy is None or not moving:
        return
    if found is None:
        found = await calendars(uow)
    calendar = found.get(policy.calendar_id) or next(iter(found.values()))
    for clock in moving:
        retarget(clock, policy, calendar, now)
        await uow.sla.save_clock(clock)
        if clock.kind is SlaKind.FIRST_RESPONSE:
            case.first_response_due_at = clock.due_at
        else:
            case.resolution_due_at = clock.due_at
    await uow.cases.save(case)


@dataclass(frozen=True, slots=True, kw_only=True)
class Fired:
    clock: SlaClock
    signal: SlaSignal


class SlaTimer:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, *, batch_size: int = 200) -> None:
        self._uow = uow
        self._clock = clock
        self._batch_size = batch_size

    async def next_deadline(self) -> datetime | None:
        async with self._uow() as uow:
            return await uow.sla.next_deadline()

    async def fire_due(self) -> list[Fired]:
        """Fire every warning and breach that is due, in one unit of work per batch."""
        now = self._clock.now()
        async with self._uow() as uow:
            fired: list[Fired] = []
            for clock in await uow.sla.due(now, limit=self._batch_size):
                for signal in evaluate(clock, now):
                    fired.append(Fired(clock=clock, signal=signal))
                    uow.outbox.add(await _signal_events(uow, clock, signal))
                await uow.sla.save_clock(clock)
            await uow.commit()
            return fired


async def _signal_events(uow: UnitOfWork, clock: SlaClock, signal: SlaSignal) -> list[Event]:
    due_at = clock.due_at or clock.started_at
    if signal is SlaSignal.WARNING:
        return [SlaWarning(case_id=clock.case_id, clock_id=clock.id, kind=clock.kind.value,
                           due_at=due_at)]
    escalation, events = await _escalate(uow, clock.case_id)
    events.insert(0, SlaBreached(case_id=clock.case_id, clock_id=clock.id,
                                 kind=clock.kind.value, due_at=due_at,
                                 escalation=tuple(escalation)))
    return events


async def _escalate(uow: UnitOfWork, case_id: str) -> tuple[list[str], list[Event]]:
    """A breach raises the case's priority and, while nobody holds the work, widens it to
    2nd line; supervisors hear of it through the SlaBreached event."""
    steps: list[str] = ["supervisors notified"]
    events: list[Event] = []
    case = await uow.cases.get(case_id)
    if case is None or not case.is_open:
        return steps, events
    if case.priority < Priority.URGENT:
        case.priority = Priority(case.priority + 1)
        steps.append(f"priority raised to {case.priority.name.lower()}")
        await uow.cases.save(case)
        events.append(CaseUpdated(case_id=case_id, changes={"priority": int(case.priority)}))
    item = await uow.work.item_for_case(case_id)
    if item is not None and item.status is WorkStatus.QUEUED:
        item.priority = max(item.priority, int(case.priority))
        if item.tier is Tier.FIRST_LINE:
            item.tier = Tier.SECOND_LINE
            steps.append("work widened to 2nd line")
        await uow.work.save_item(item)
        events.append(WorkWaiting(work_item_id=item.id, queue_id=item.queue_id))
    return steps, events
