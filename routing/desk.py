"""What agents do with work: presence, accept, decline, wrap up, transfer — and what
happens when they do nothing (offers expire, agents who keep missing them go away, and
after-contact work that runs out of time is wrapped up for them: ``routing.wrap_up``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.domain.channels import Channel
from core.domain.clock import Clock
from core.domain.contact import CaseStatus
from core.domain.errors import Conflict, InvalidInput, NotFound
from core.domain.events import (
    AgentPresenceChanged,
    CaseUpdated,
    Event,
    OfferAnswered,
    WorkWaiting,
)
from core.domain.sla import SlaKind
from core.domain.work import AgentLoad, Offer, OfferStatus, WorkItem
from core.domain.workforce import Agent, Presence, Tier
from core.ports import UnitOfWork, UnitOfWorkFactory
from routing.assignment import after_miss
from routing.configuration import policy as load_policy
from routing.dispatcher import fresh_load
from routing.sla_clocks import stop_clocks
from routing.wrap_up import NotYours, WrapUps, after_contact_work_over, held_work

__all__ = ["LIVE_CHANNELS", "AgentDesk", "Answered", "NotYours"]

# Real-time channels: taking the offer is the first response.
LIVE_CHANNELS = frozenset({Channel.PHONE, Channel.CHAT})


@dataclass(frozen=True, slots=True, kw_only=True)
class Answered:
    offer: Offer
    item: WorkItem
    agent_set_away: bool = False


class AgentDesk:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, *,
                 read_uow: UnitOfWorkFactory | None = None) -> None:
        self._uow = uow
        # The offer timer's look-ups change nothing: on SQLite they need not take the
        # single write lock every time the timer wakes.
        self._read_uow = read_uow or uow
        self._clock = clock
        self.wrap_ups = WrapUps(uow, clock)

    async def set_presence(self, agent_id: str, presence: Presence, *,
                           reason: str = "agent") -> Agent:
        now = self._clock.now()
        async with self._uow() as uow:
            agent = await _agent(uow, agent_id)
            if agent.presence is not presence:
                agent.presence, agent.presence_since = presence, now
                await uow.workforce.set_presence(agent.id, presence, now)
                load = await uow.work.get_load(agent.id) or fresh_load(agent)
                if presence is Presence.AVAILABLE:
                    load.missed_offers = 0
                    if not any(load.load.values()):
                        load.idle_since = now
                await uow.work.save_load(load)
                uow.outbox.add([AgentPresenceChanged(agent_id=agent.id,
                                                     presence=presence.value, reason=reason)])
                await uow.commit()
            return agent

    async def accept(self, agent_id: str, offer_id: str) -> Answered:
        now = self._clock.now()
        async with self._uow() as uow:
            offer, item = await _offer(uow, agent_id, offer_id)
            offer.accept(now)
            await uow.work.save_offer(offer)
            item.assign(agent_id, at=now)
            await uow.work.save_item(item)
            load = await uow.work.get_load(agent_id)
            if load is not None and load.missed_offers:
                load.missed_offers = 0
                await uow.work.save_load(load)
            events: list[Event] = [_answered(offer)]
            case = await uow.cases.get(item.case_id)
            if case is not None:
                case.owner_agent_id = agent_id
                if case.status is CaseStatus.NEW:
                    case.move_to(CaseStatus.OPEN, now)
                if item.channel in LIVE_CHANNELS and case.first_responded_at is None:
                    case.first_responded_at = now
                    await stop_clocks(uow, case.id, SlaKind.FIRST_RESPONSE, now)
                case.updated_at = now
                await uow.cases.save(case)
                events.append(CaseUpdated(case_id=case.id, changes={
                    "owner": agent_id, "status": case.status.value}))
            uow.outbox.add(events)
            await uow.commit()
            return Answered(offer=offer, item=item)

    async def decline(self, agent_id: str, offer_id: str) -> Answered:
        async with self._uow() as uow:
            offer, item = await _offer(uow, agent_id, offer_id)
            offer.decline(self._clock.now())
            answered = await self._requeue(uow, offer, item, missed=False)
            await uow.commit()
            return answered

    async def expire_due_offers(self, *, limit: int = 100) -> list[Answered]:
        """Offers nobody answered in time go back to the queue, each in its own unit of work
        so one lost race (the agent accepted at the last moment) spoils nothing else."""
        now = self._clock.now()
        async with self._read_uow() as uow:
            due = await uow.work.expired_offers(now, limit=limit)
        expired: list[Answered] = []
        for stale in due:
            try:
                async with self._uow() as uow:
                    offer = await uow.work.get_offer(stale.id)
                    item = await uow.work.get_item(stale.work_item_id)
                    if offer is None or item is None or offer.status is not OfferStatus.PENDING:
                        continue
                    offer.expire(now)
                    expired.append(await self._requeue(uow, offer, item, missed=True))
                    await uow.commit()
            except Conflict:
                continue
        return expired

    async def next_offer_expiry(self) -> datetime | None:
        async with self._read_uow() as uow:
            return await uow.work.next_offer_expiry()

    async def _requeue(self, uow: UnitOfWork, offer: Offer, item: WorkItem, *,
                       missed: bool) -> Answered:
        """Back to the queue. Only a lapsed offer counts as missed: a decline is an answer."""
        now = self._clock.now()
        await uow.work.save_offer(offer)
        item.back_to_queue(excluded_agent_id=offer.agent_id, at=now)
        await uow.work.save_item(item)
        policy = await load_policy(uow)
        agent = await _agent(uow, offer.agent_id)
        load = await uow.work.get_load(agent.id) or fresh_load(agent)
        _release(load, item.channel, now)
        set_away = missed and after_miss(load, policy) \
            and agent.presence is Presence.AVAILABLE
        await uow.work.save_load(load)
        events: list[Event] = [_answered(offer), WorkWaiting(work_item_id=item.id,
                                                             queue_id=item.queue_id)]
        if set_away:
            await uow.workforce.set_presence(agent.id, Presence.AWAY, now)
            events.append(AgentPresenceChanged(
                agent_id=agent.id, presence=Presence.AWAY.value,
                reason=f"missed {load.missed_offers} offers in a row"))
        uow.outbox.add(events)
        return Answered(offer=offer, item=item, agent_set_away=set_away)

    async def wrap_up(self, agent_id: str, case_id: str, *, disposition: str,
                      outcome: str, callback_at: datetime | None = None) -> WorkItem:
        return await self.wrap_ups.finish(agent_id, case_id, disposition=disposition,
                                          outcome=outcome, callback_at=callback_at)

    async def transfer(self, agent_id: str, case_id: str, *, queue_id: str | None = None,
                       to_agent_id: str | None = None, second_line: bool = False) -> WorkItem:
        """Hand held work on: to a queue, to a colleague (preferred, still offered), or to
        2nd line. The case, its history and its SLA clocks stay as they are."""
        if not (queue_id or to_agent_id or second_line):
            raise InvalidInput({"to": "give a queue, an agent or second_line"})
        now = self._clock.now()
        async with self._uow() as uow:
            item = await held_work(uow, agent_id, case_id)
            if queue_id is not None and await uow.workforce.get_queue(queue_id) is None:
                raise InvalidInput({"queue": f"no queue {queue_id!r}"})
            if to_agent_id is not None and await uow.workforce.get_agent(to_agent_id) is None:
                raise InvalidInput({"agent": f"no agent {to_agent_id!r}"})
            item.transfer(queue_id=queue_id, agent_id=to_agent_id,
                          tier=Tier.SECOND_LINE if second_line else None, at=now)
            await uow.work.save_item(item)
            await _free_capacity(uow, agent_id, item.channel, now)
            uow.outbox.add([WorkWaiting(work_item_id=item.id, queue_id=item.queue_id),
                            CaseUpdated(case_id=case_id, changes={
                                "transferred_by": agent_id, "queue": item.queue_id}),
                            *await after_contact_work_over(uow, agent_id, now)])
            await uow.commit()
            return item


async def _free_capacity(uow: UnitOfWork, agent_id: str, channel: Channel,
                         now: datetime) -> None:
    load = await uow.work.get_load(agent_id)
    if load is not None:
        _release(load, channel, now)
        await uow.work.save_load(load)


def _release(load: AgentLoad, channel: Channel, now: datetime) -> None:
    load.load[channel] = max(0, load.load.get(channel, 0) - 1)
    if not any(load.load.values()):
        load.idle_since = now


def _answered(offer: Offer) -> OfferAnswered:
    return OfferAnswered(offer_id=offer.id, work_item_id=offer.work_item_id,
                         case_id=offer.case_id, agent_id=offer.agent_id,
                         status=offer.status.value)


async def _agent(uow: UnitOfWork, agent_id: str) -> Agent:
    agent = await uow.workforce.get_agent(agent_id)
    if agent is None:
        raise NotFound("agent", agent_id)
    return agent


async def _offer(uow: UnitOfWork, agent_id: str, offer_id: str) -> tuple[Offer, WorkItem]:
    offer = await uow.work.get_offer(offer_id)
    if offer is None:
        raise NotFound("offer", offer_id)
    if offer.agent_id != agent_id:
        raise NotYours(f"offer {offer_id} was made to another agent")
    item = await uow.work.get_item(offer.work_item_id)
    if item is None:
        raise NotFound("work item", offer.work_item_id)
    return offer, item
