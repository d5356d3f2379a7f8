"""Two dispatchers (two engines, as two processes would have) racing over the same queue
never offer one item twice and never push an agent past their capacity."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime

import sqlalchemy as sa

from core.config import Settings
from core.domain.channels import Channel
from core.domain.work import WorkItem, WorkStatus
from core.domain.workforce import Agent, Presence, Queue, Tier
from core.storage.engine import build_engine
from core.storage.tables import offers, work_items
from tests.support.clock import FakeClock
from workers import bootstrap

NOW = datetime(2026, 11, 17, 10, 0, tzinfo=UTC)
AGENTS = 6
CAPACITY = 4
ITEMS = 60


async def test_two_dispatchers_never_assign_twice(settings: Settings) -> None:
    clock = FakeClock(NOW)
    async with bootstrap.build(settings, clock=clock) as one, \
            bootstrap.build(settings, clock=clock) as two:
        async with one.uow() as uow:
            await uow.workforce.add_queue(Queue(id="q", name="Queue"))
            for n in range(AGENTS):
                await uow.workforce.add_agent(Agent(
                    id=f"agt{n}", name=f"Agent {n}", username=f"a{n}",
                    capacity={Channel.EMAIL: CAPACITY}, presence=Presence.AVAILABLE,
                    presence_since=NOW, queue_ids=["q"]))
            for n in range(ITEMS):
                await uow.work.add_item(WorkItem(
                    id=f"wrk{n:03}", case_id=f"cas{n}", contact_id=f"con{n}",
                    customer_id=f"cus{n}", channel=Channel.EMAIL, queue_id="q", priority=2,
                    skills={}, tier=Tier.FIRST_LINE, enqueued_at=NOW, created_at=NOW))
            await uow.commit()

        results = await asyncio.gather(*(d.dispatch() for d in
                                         (one.dispatcher, two.dispatcher) * 3))

        async with one.uow() as uow:
            loads = await uow.work.loads([f"agt{n}" for n in range(AGENTS)])
    engine = build_engine(settings.database_url.get_secret_value())
    try:
        async with engine.connect() as conn:
            made = (await conn.execute(sa.select(offers.c.work_item_id,
                                                 offers.c.agent_id))).all()
            offered = (await conn.execute(sa.select(sa.func.count()).where(
                work_items.c.status == WorkStatus.OFFERED.value))).scalar_one()
    finally:
        await engine.dispose()

    assert len(made) == AGENTS * CAPACITY == offered
    assert max(Counter(item for item, _ in made).values()) == 1
    per_agent = Counter(agent for _, agent in made)
    assert per_agent == {f"agt{n}": CAPACITY for n in range(AGENTS)}
    assert {a: load.load[Channel.EMAIL] for a, load in loads.items()} == per_agent
    assert sum(len(r.offers) for r in results) == len(made)
