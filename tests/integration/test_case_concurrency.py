"""Two writers changing one case at once each keep their change: the router setting the
queue or the SLA timer raising the priority never puts back a status an agent just set."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from core.domain.contact import Case, CaseStatus, CaseType, Priority
from core.domain.customer import Customer
from workers.services import Services

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def _a_case(services: Services) -> Case:
    async with services.uow() as uow:
        await uow.customers.add(Customer(id="cus_1", display_name="Jan de Vries",
                                         created_at=NOW, updated_at=NOW))
        case = Case(id="cas_1", number=await uow.cases.next_number(), customer_id="cus_1",
                    type=CaseType.QUESTION, status=CaseStatus.OPEN, created_at=NOW,
                    updated_at=NOW, tags=["factuur"])
        await uow.cases.add(case)
        await uow.commit()
    return case


@pytest.mark.postgres
async def test_a_slow_writer_keeps_a_status_changed_meanwhile(services: Services) -> None:
    """PostgreSQL runs both transactions at once (SQLite's writers take turns, so there the
    interleaving below cannot happen)."""
    if services.settings.database_url.get_secret_value().startswith("sqlite"):
        pytest.skip("SQLite write transactions are serial")
    await _a_case(services)
    async with services.uow() as slow:
        routing = await slow.cases.get("cas_1")
        assert routing is not None
        async with services.uow() as agent:
            resolving = await agent.cases.get("cas_1")
            assert resolving is not None
            resolving.move_to(CaseStatus.RESOLVED, NOW)
            await agent.cases.save(resolving)
            await agent.commit()
        routing.priority = Priority.HIGH
        routing.tags = [*routing.tags, "vip"]
        routing.queue_id = "q_billing"
        await slow.cases.save(routing)
        await slow.commit()

    async with services.uow() as uow:
        stored = await uow.cases.get("cas_1")
    assert stored is not None
    assert stored.status is CaseStatus.RESOLVED and stored.resolved_at == NOW
    assert stored.priority is Priority.HIGH and stored.queue_id == "q_billing"
    assert stored.tags == ["factuur", "vip"]


async def test_a_case_read_for_update_holds_other_writers_until_commit(
        services: Services) -> None:
    """What the router relies on: once it holds the case, a resolve waits for its commit and
    then applies on top, instead of the router deciding on a status that is already gone."""
    await _a_case(services)
    order: list[str] = []
    held = asyncio.Event()
    release = asyncio.Event()

    async def router() -> None:
        async with services.uow() as uow:
            case = await uow.cases.get("cas_1", for_update=True)
            assert case is not None and case.is_open
            held.set()
            await release.wait()
            case.queue_id = "q_billing"
            await uow.cases.save(case)
            await uow.commit()
            order.append("routed")

    async def agent() -> None:
        await held.wait()
        async with services.uow() as uow:
            case = await uow.cases.get("cas_1", for_update=True)
            assert case is not None
            order.append(f"agent saw queue {case.queue_id}")
            case.move_to(CaseStatus.RESOLVED, NOW)
            await uow.cases.save(case)
            await uow.commit()

    routing = asyncio.create_task(router())
    resolving = asyncio.create_task(agent())
    await held.wait()
    # Give the agent's transaction time to reach the held case (if it were not held, the
    # agent would finish now and see no queue); then let the router commit.
    done, _ = await asyncio.wait({resolving}, timeout=0.2)
    assert not done
    release.set()
    await asyncio.wait_for(asyncio.gather(routing, resolving), timeout=30)

    assert order == ["routed", "agent saw queue q_billing"]
    async with services.uow() as uow:
        stored = await uow.cases.get("cas_1")
    assert stored is not None
    assert stored.status is CaseStatus.RESOLVED and stored.queue_id == "q_billing"


async def test_tags_changed_in_place_are_saved_too(services: Services) -> None:
    await _a_case(services)
    async with services.uow() as uow:
        case = await uow.cases.get("cas_1")
        assert case is not None
        await uow.cases.save(case)
        case.tags.append("in-place")  # changed in place: still seen as a change
        await uow.cases.save(case)
        await uow.commit()
    async with services.uow() as uow:
        stored = await uow.cases.get("cas_1")
    assert stored is not None and stored.tags == ["factuur", "in-place"]
