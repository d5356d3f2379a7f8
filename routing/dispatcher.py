"""Matching waiting work to agents: one pass offers each queued item, in queue order, to the
agent the assignment policy chooses.

Safe with several dispatchers at once: each offer saves the item and the agent's load
conditionally on the versions it read, inside a savepoint. The loser of a race gets a
Conflict, undoes just that offer, and leaves the item and the agent to the winner.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.domain.clock import Clock
from core.domain.errors import Conflict
from core.domain.events import OfferMade
from core.domain.ids import new_id
from core.domain.work import AgentLoad, Offer, WorkItem
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
    """One pass reads the waiting work and the agents who could take it once, chooses in
    memory, and writes offers in chunks: each offer in its own savepoint, each chunk one
    commit (one fsync), so a pass costs a few statements per offer, not a transaction."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, *, batch_size: int = 200,
                 commit_every: int = 25, read_uow: UnitOfWorkFactory | None = None) -> None:
        self._uow = uow
        # The pass reads in a read-only unit of work (off SQLite's single write lock): every
        # offer is saved conditionally on the versions read, so nothing needs holding.
        self._read_uow = read_uow or uow
        self._clock = clock
        self._batch_size = batch_size
        # Offers are pushed when committed: small chunks keep the first agents' wait short.
        self._commit_every = commit_every

    async def dispatch(self) -> DispatchResult:
        now = self._clock.now()
        async with self._read_uow() as uow:
            policy = await load_policy(uow)
            # A planned callback waits from its time; the periodic pass (at most a few
            # seconds apart) picks it up then.
            waiting = order_queue(await uow.work.waiting(limit=self._batch_size, now=now),
                                  policy, now)
            pool = await CandidatePool.load(uow, waiting, policy, now) if waiting else None
        offers: list[Offer] = []
        conflicts = 0
        for start in range(0, len(waiting), self._commit_every):
            assert pool is not None
            chunk = waiting[start:start + self._commit_every]
            made, lost = await self._offer_chunk(chunk, pool, policy, now)
            offers.extend(made)
            conflicts += lost
        return DispatchResult(offers=offers, waiting=len(waiting) - len(offers),
                              conflicts=conflicts)

    async def _offer_chunk(self, items: list[WorkItem], pool: CandidatePool,
                           policy: RoutingPolicy, now: datetime) -> tuple[list[Offer], int]:
        made: list[Offer] = []
        lost = 0
        async with self._uow() as uow:
            await uow.work.fail_fast_on_locks()
            for item in items:
                trace = choose(item, pool.for_item(item, policy, now), policy, now)
                if trace.chosen is None:
                    continue
                chosen = pool.candidate(trace.chosen)
                try:
                    async with uow.savepoint():
                        # The offer's clock starts now, not when the pass began: an offer
                        # stamped with a stale time could expire before the agent sees it.
                        offer = await _offer(uow, item, chosen, trace.to_document(),
                                             policy, self._clock.now())
                except Conflict as err:
                    # Another dispatcher took the item or changed the agent: leave both to
                    # it for the rest of this pass; the next pass reads afresh.
                    lost += 1
                    pool.forget(chosen.agent.id)
                    log.debug("dispatch race lost: %s", err)
                    continue
                made.append(offer)
            await uow.commit()
        return made, lost


async def _offer(uow: UnitOfWork, item: WorkItem, chosen: Candidate, trace: dict[str, object],
                 policy: RoutingPolicy, now: datetime) -> Offer:
    offer = Offer(id=new_id("ofr"), work_item_id=item.id, agent_id=chosen.agent.id,
                  case_id=item.case_id, channel=item.channel, created_at=now,
                  expires_at=now + timedelta(seconds=policy.offer_timeout_s))
    item.offer_to(offer.id, offer.agent_id)
    await uow.work.save_item(item)
    load = chosen.load
    load.load[item.channel] = load.load.get(item.channel, 0) + 1
    await uow.work.save_load(load)
    await uow.work.add_offer(offer, trace)
    uow.outbox.add([OfferMade(offer_id=offer.id, work_item_id=item.id, case_id=item.case_id,
                              agent_id=offer.agent_id, expires_at=offer.expires_at)])
    return offer


class CandidatePool:
    """The agents of every queue a pass may need, with their loads, read once."""

    def __init__(self, candidates: list[Candidate]) -> None:
        self._by_id = {c.agent.id: c for c in candidates}
        self._by_queue: dict[str, list[Candidate]] = {}
        for candidate in candidates:
            for queue_id in candidate.queue_ids:
                self._by_queue.setdefault(queue_id, []).append(candidate)

    @classmethod
    async def load(cls, uow: UnitOfWork, items: list[WorkItem], policy: RoutingPolicy,
                   now: datetime) -> CandidatePool:
        queue_ids: set[str] = set()
        sticky: set[str] = set()
        for item in items:
            req = requirements(item, policy, now)
            queue_ids |= req.queue_ids
            sticky.update(req.sticky_agent_ids)
        return cls(await _candidates(uow, queue_ids, sticky))

    def for_item(self, item: WorkItem, policy: RoutingPolicy, now: datetime) -> list[Candidate]:
        req = requirements(item, policy, now)
        found: dict[str, Candidate] = {}
        for queue_id in sorted(req.queue_ids):
            for candidate in self._by_queue.get(queue_id, ()):
                found.setdefault(candidate.agent.id, candidate)
        for agent_id in req.sticky_agent_ids:
            if agent_id in self._by_id:
                found.setdefault(agent_id, self._by_id[agent_id])
        return list(found.values())

    def candidate(self, agent_id: str) -> Candidate:
        return self._by_id[agent_id]

    def forget(self, agent_id: str) -> None:
        candidate = self._by_id.pop(agent_id, None)
        if candidate is not None:
            for queue_id in candidate.queue_ids:
                self._by_queue[queue_id].remove(candidate)


async def _candidates(uow: UnitOfWork, queue_ids: set[str],
                      sticky: set[str]) -> list[Candidate]:
    agents = await uow.workforce.agents_for_queues(sorted(queue_ids))
    # A sticky preferred agent (account owner) may take the customer's work from outside
    # the queue, so they are looked up on their own.
    known = {a.id for a in agents}
    for agent_id in sorted(sticky - known):
        if agent := await uow.workforce.get_agent(agent_id):
            agents.append(agent)
    loads = await uow.work.loads([a.id for a in agents])
    return [Candidate(agent=a, queue_ids=frozenset(a.queue_ids),
                      load=loads.get(a.id) or fresh_load(a)) for a in agents]
