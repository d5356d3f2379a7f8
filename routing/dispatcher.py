"""Matching waiting work to agents: one pass offers each queued item, in queue order, to the
agent the assignment policy chooses.

Safe with several dispatchers at once: each offer is one unit of work that saves the item
and the agent's load conditionally on the versions it read. The loser of a race gets a
Conflict, rolls back, and leaves the item to the winner.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.domain.clock import Clock
from core.domain.errors import Conflict
from core.domain.events import OfferMade
from core.domain.ids import new_id
from core.domain.work import AgentLoad, Offer, WorkItem, WorkStatus
from core.domain.workforce import Agent
from core.ports import UnitOfWork, UnitOfWorkFactory
from routing.assignment import Candidate, RoutingPolicy, choose, order_queue, requirements
from routing.configuration import policy as load_policy

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class DispatchResult:
    offers: list[Offer]
    waiting: int      # items still queued after the pass
    conflicts: int    # races lost to another dispatcher


def fresh_load(agent: Agent) -> AgentLoad:
    return AgentLoad(agent_id=agent.id, load={}, idle_since=agent.presence_since)


class Dispatcher:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, *, batch_size: int = 200) -> None:
        self._uow = uow
        self._clock = clock
        self._batch_size = batch_size

    async def dispatch(self) -> DispatchResult:
        now = self._clock.now()
        async with self._uow() as uow:
            policy = await load_policy(uow)
            waiting = order_queue(await uow.work.waiting(limit=self._batch_size), policy, now)
        offers: list[Offer] = []
        conflicts = 0
        for queued in waiting:
            try:
                offer = await self._offer_one(queued.id, policy)
            except Conflict as err:
                conflicts += 1
                log.debug("dispatch race lost: %s", err)
                continue
            if offer is not None:
                offers.append(offer)
        return DispatchResult(offers=offers, waiting=len(waiting) - len(offers),
                              conflicts=conflicts)

    async def _offer_one(self, item_id: str, policy: RoutingPolicy) -> Offer | None:
        now = self._clock.now()
        async with self._uow() as uow:
            item = await uow.work.get_item(item_id)
            if item is None or item.status is not WorkStatus.QUEUED:
                return None
            candidates = await candidates_for(uow, item, policy, now)
            trace = choose(item, candidates, policy, now)
            if trace.chosen is None:
                return None
            chosen = next(c for c in candidates if c.agent.id == trace.chosen)
            offer = Offer(id=new_id("ofr"), work_item_id=item.id, agent_id=trace.chosen,
                          case_id=item.case_id, channel=item.channel, created_at=now,
                          expires_at=now + timedelta(seconds=policy.offer_timeout_s))
            item.offer_to(offer.id, offer.agent_id)
            await uow.work.save_item(item)
            load = chosen.load
            load.load[item.channel] = load.load.get(item.channel, 0) + 1
            await uow.work.save_load(load)
            await uow.work.add_offer(offer, trace.to_document())
            uow.outbox.add([OfferMade(offer_id=offer.id, work_item_id=item.id,
                                      case_id=item.case_id, agent_id=offer.agent_id,
                                      expires_at=offer.expires_at)])
            await uow.commit()
            return offer


async def candidates_for(uow: UnitOfWork, item: WorkItem, policy: RoutingPolicy,
                         now: datetime) -> list[Candidate]:
    req = requirements(item, policy, now)
    agents = await uow.workforce.agents_for_queues(sorted(req.queue_ids))
    # A sticky preferred agent (account owner) may take the customer's work from outside
    # the queue, so they are looked up on their own.
    known = {a.id for a in agents}
    for agent_id in req.sticky_agent_ids:
        if agent_id not in known and (agent := await uow.workforce.get_agent(agent_id)):
            agents.append(agent)
    loads = await uow.work.loads([a.id for a in agents])
    return [Candidate(agent=a, queue_ids=frozenset(a.queue_ids),
                      load=loads.get(a.id) or fresh_load(a)) for a in agents]
