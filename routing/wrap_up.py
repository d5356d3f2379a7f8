"""After-contact work and wrap-up: from the end of the conversation to the agent being free.

After-contact work (ACW) starts when a channel reports the conversation ended (the call or
chat ended, the agent's reply left: ``ConversationEnded``) or when the agent opens wrap-up,
whichever comes first. The work keeps the agent's capacity until it is wrapped up; an agent
who was available is shown *in after-contact work* (no new offers) until then. Wrap-up
records a disposition code from the supervisors' list (``routing.dispositions``) and an
outcome, which the case follows:

- ``resolved``: the case is resolved;
- ``follow_up``: the case waits on the customer (pending: its SLA clocks pause);
- ``callback_planned``: the case stays open and a callback at the promised time becomes
  phone work in the same queue, offered first to the agent who promised it (sticky), from
  that time on;
- ``open``: the case stays as it is.

The routing policy limits ACW (``after_contact_work_s``, per queue in
``after_contact_work_s_by_queue``): the desk timer wraps up work still in ACW at its
deadline with the disposition ``auto`` and the outcome ``open``. Either way the agent who
was put in ACW is available again once none of their work is in ACW.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from core.domain.channels import Channel
from core.domain.clock import Clock
from core.domain.contact import CaseStatus
from core.domain.errors import Conflict, DomainError, InvalidInput, NotFound
from core.domain.events import (
    AfterContactWorkStarted,
    AgentPresenceChanged,
    CaseUpdated,
    Event,
    WorkCompleted,
)
from core.domain.ids import new_id
from core.domain.work import WorkItem, WorkKind, WorkStatus, WrapUpOutcome
from core.domain.workforce import Presence
from core.ports import UnitOfWork, UnitOfWorkFactory
from routing.configuration import policy as load_policy
from routing.dispositions import AUTO, dispositions

STARTED = "after-contact work"  # the reasons given with the presence changes
ENDED = "wrapped up"
MAX_CALLBACK_AHEAD = timedelta(days=90)
# An agent's wrap-up can race the channel putting the same work into after-contact work
# (the call ended a moment before); the work's version makes one of them read again.
ATTEMPTS = 3

CASE_STATUS: dict[WrapUpOutcome, CaseStatus | None] = {
    WrapUpOutcome.RESOLVED: CaseStatus.RESOLVED,
    WrapUpOutcome.FOLLOW_UP: CaseStatus.PENDING,
    WrapUpOutcome.CALLBACK_PLANNED: None,
    WrapUpOutcome.OPEN: None,
}


T = TypeVar("T")


class NotYours(DomainError):
    """The offer or case belongs to another agent."""


def parse_outcome(value: str) -> WrapUpOutcome:
    try:
        return WrapUpOutcome.parse(value)
    except ValueError:
        raise InvalidInput({"outcome": "must be one of "
                            + ", ".join(o.value for o in WrapUpOutcome)}) from None


async def held_work(uow: UnitOfWork, agent_id: str, case_id: str) -> WorkItem:
    item = await uow.work.item_for_case(case_id)
    if item is None or item.status is not WorkStatus.ASSIGNED:
        raise NotFound("assigned work for case", case_id)
    if item.assigned_agent_id != agent_id:
        raise NotYours(f"case {case_id} is assigned to another agent")
    return item


class WrapUps:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def start(self, agent_id: str, case_id: str) -> WorkItem:
        """The agent opened wrap-up; work already in ACW is left as it is."""
        now = self._clock.now()

        async def attempt(uow: UnitOfWork) -> WorkItem:
            item = await held_work(uow, agent_id, case_id)
            if await _begin(uow, item, now, reason="agent"):
                await uow.commit()
            return item

        return await self._retrying(attempt)

    async def conversation_ended(self, case_id: str, *, at: datetime,
                                 reason: str) -> WorkItem | None:
        """A channel saw the conversation end: the work of whoever holds the case goes into
        ACW, unless it is there already, nobody holds it, or the agent took it only after
        that conversation (the news came late)."""
        async def attempt(uow: UnitOfWork) -> WorkItem | None:
            item = await uow.work.item_for_case(case_id)
            if item is None or item.status is not WorkStatus.ASSIGNED \
                    or item.conversation_ended_at is not None:
                return None
            offer = await uow.work.get_offer(item.offer_id) if item.offer_id else None
            if offer is not None and offer.answered_at is not None and at < offer.answered_at:
                return None
            await _begin(uow, item, at, reason=reason)
            await uow.commit()
            return item

        return await self._retrying(attempt)

    async def finish(self, agent_id: str, case_id: str, *, disposition: str, outcome: str,
                     callback_at: datetime | None = None) -> WorkItem:
        """The agent wraps up: the disposition must be one of the list for the work's queue;
        a planned callback needs its time, in the future (within 90 days)."""
        wanted = parse_outcome(outcome)
        now = self._clock.now()
        _check_callback(wanted, callback_at, now)
        callback_at = callback_at.astimezone(UTC) if callback_at is not None else None
        async def attempt(uow: UnitOfWork) -> WorkItem:
            item = await held_work(uow, agent_id, case_id)
            (await dispositions(uow)).check(disposition, item.queue_id)
            await _complete(uow, item, now, disposition=disposition, outcome=wanted,
                            callback_at=callback_at, automatic=False)
            await uow.commit()
            return item

        return await self._retrying(attempt)

    async def finish_overdue(self, *, limit: int = 100) -> list[WorkItem]:
        """Wrap up work whose ACW time ran out, each in its own unit of work, so an agent
        finishing at the last moment spoils nothing else."""
        now = self._clock.now()
        async with self._uow() as uow:
            due = await uow.work.wrap_ups_due(now, limit=limit)
        done: list[WorkItem] = []
        for stale in due:
            try:
                async with self._uow() as uow:
                    item = await uow.work.get_item(stale.id)
                    if item is None or not item.in_after_contact_work \
                            or item.wrap_up_due_at is None or item.wrap_up_due_at > now:
                        continue
                    await _complete(uow, item, now, disposition=AUTO,
                                    outcome=WrapUpOutcome.OPEN, callback_at=None,
                                    automatic=True)
                    await uow.commit()
                    done.append(item)
            except Conflict:
                continue  # the agent wrapped it up meanwhile
        return done

    async def next_due(self) -> datetime | None:
        async with self._uow() as uow:
            return await uow.work.next_wrap_up_due()

    async def _retrying(self, attempt: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        for remaining in reversed(range(ATTEMPTS)):
            try:
                async with self._uow() as uow:
                    return await attempt(uow)
            except Conflict:
                if not remaining:
                    raise
        raise AssertionError("unreachable")


def _check_callback(outcome: WrapUpOutcome, callback_at: datetime | None,
                    now: datetime) -> None:
    if outcome is not WrapUpOutcome.CALLBACK_PLANNED:
        if callback_at is not None:
            raise InvalidInput({"callback_at": "only with the outcome callback_planned"})
        return
    if callback_at is None:
        raise InvalidInput({"callback_at": "required when the outcome is callback_planned"})
    if callback_at.tzinfo is None:
        raise InvalidInput({"callback_at": "give a time zone (e.g. 2026-11-24T14:00:00+01:00)"})
    if callback_at <= now:
        raise InvalidInput({"callback_at": "must be in the future"})
    if callback_at > now + MAX_CALLBACK_AHEAD:
        raise InvalidInput({"callback_at": "must be within 90 days"})


async def _begin(uow: UnitOfWork, item: WorkItem, at: datetime, *, reason: str) -> bool:
    """Put held work into ACW from ``at``; False when it was already there."""
    limit_s = (await load_policy(uow)).after_contact_work_limit_s(item.queue_id)
    due = at + timedelta(seconds=limit_s) if limit_s is not None else None
    if not item.end_conversation(at, wrap_up_due_at=due):
        return False
    await uow.work.save_item(item)
    agent_id = item.assigned_agent_id
    assert agent_id is not None
    events: list[Event] = [AfterContactWorkStarted(
        work_item_id=item.id, case_id=item.case_id, agent_id=agent_id, started_at=at,
        due_at=due, reason=reason)]
    agent = await uow.workforce.get_agent(agent_id)
    if agent is not None and agent.presence is Presence.AVAILABLE:
        await uow.workforce.set_presence(agent_id, Presence.AFTER_CONTACT_WORK, at)
        events.append(AgentPresenceChanged(agent_id=agent_id,
                                           presence=Presence.AFTER_CONTACT_WORK.value,
                                           reason=STARTED))
    uow.outbox.add(events)
    return True


async def _complete(uow: UnitOfWork, item: WorkItem, now: datetime, *, disposition: str,
                    outcome: WrapUpOutcome, callback_at: datetime | None,
                    automatic: bool) -> None:
    agent_id = item.assigned_agent_id
    assert agent_id is not None
    case = await uow.cases.get(item.case_id)
    if outcome is WrapUpOutcome.CALLBACK_PLANNED and (case is None or not case.is_open):
        raise InvalidInput({"outcome": "a callback is planned on an open case only"})
    item.complete(now, disposition=disposition, outcome=outcome, callback_at=callback_at)
    await uow.work.save_item(item)
    load = await uow.work.get_load(agent_id)
    if load is not None:
        load.release(item.channel, now)
        await uow.work.save_load(load)
    events: list[Event] = [WorkCompleted(
        work_item_id=item.id, case_id=item.case_id, agent_id=agent_id,
        disposition=disposition, outcome=outcome.value, automatic=automatic,
        callback_at=item.callback_at)]
    target = CASE_STATUS[outcome]
    # A case a colleague resolved or closed meanwhile keeps its status: the outcome is the
    # agent's account of this contact, recorded on the work either way.
    if case is not None and case.is_open and target is not None and case.status is not target:
        case.move_to(target, now)
        await uow.cases.save(case)
        events.append(CaseUpdated(case_id=case.id, changes={"status": case.status.value}))
    if item.callback_at is not None:
        callback = _callback(item, agent_id, item.callback_at, now)
        await uow.work.add_item(callback)
        events.append(CaseUpdated(case_id=item.case_id, changes={
            "callback_at": item.callback_at.isoformat(), "callback_work_item": callback.id}))
    events.extend(await after_contact_work_over(uow, agent_id, now))
    uow.outbox.add(events)


def _callback(item: WorkItem, agent_id: str, at: datetime, now: datetime) -> WorkItem:
    """Phone work on the same case and queue, waiting from ``at``, for the agent who promised
    it while they are free to take it (the routing policy's sticky time), then anyone."""
    return WorkItem(
        id=new_id("wrk"), case_id=item.case_id, contact_id=item.contact_id,
        customer_id=item.customer_id, channel=Channel.PHONE, queue_id=item.queue_id,
        priority=item.priority, skills=dict(item.skills), tier=item.tier,
        preferred_agent_ids=(agent_id,), preferred_team_id=item.preferred_team_id,
        enqueued_at=at, created_at=now, kind=WorkKind.CALLBACK)


async def after_contact_work_over(uow: UnitOfWork, agent_id: str,
                                  now: datetime) -> list[Event]:
    """An agent put in ACW is available again once none of their work is in ACW (an agent
    who chose another presence meanwhile keeps it)."""
    agent = await uow.workforce.get_agent(agent_id)
    if agent is None or agent.presence is not Presence.AFTER_CONTACT_WORK:
        return []
    if any(i.in_after_contact_work for i in await uow.work.assigned_to(agent_id)):
        return []
    await uow.workforce.set_presence(agent_id, Presence.AVAILABLE, now)
    return [AgentPresenceChanged(agent_id=agent_id, presence=Presence.AVAILABLE.value,
                                 reason=ENDED)]
