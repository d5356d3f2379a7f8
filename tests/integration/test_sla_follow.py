"""A case's SLA clocks follow what happens to it — paused while it waits on the customer,
resumed when it comes back, moved to another policy when it is reclassified, stopped when
it is resolved — and an update that changes nothing for them (the router's own) leaves
them exactly as they were; on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from core.domain.audit import SYSTEM
from core.domain.channels import Channel, Direction
from core.domain.commands import IngestContact, Party, UpdateCase
from core.domain.contact import CaseType
from core.domain.sla import SlaClock
from core.domain.workforce import Queue
from routing.sla_clocks import follow_case_change
from workers.services import Services


async def clocks(services: Services, case_id: str) -> list[SlaClock]:
    async with services.read_uow() as uow:
        return sorted(await uow.sla.clocks_for_case(case_id), key=lambda c: c.kind.value)


async def follow(services: Services, case_id: str, changes: dict[str, Any]) -> None:
    async with services.uow() as uow:
        await follow_case_change(uow, case_id, changes, services.clock.now())
        await uow.commit()


async def test_clocks_follow_the_case_and_an_update_that_changes_nothing_leaves_them(
        services: Services):
    await services.agents.create_queue(Queue(id="q_general", name="General"), actor=SYSTEM)
    got = await services.ingestion.ingest(IngestContact(
        channel=Channel.EMAIL, direction=Direction.INBOUND, external_id="<sla@follow>",
        party=Party(email="anna@follow.example"), subject="Een vraag", queue_id="q_general"))
    assert got.case_id is not None
    case_id = got.case_id
    async with services.uow() as uow:
        assert await services.router.route(uow, case_id=case_id, contact_id=got.contact_id,
                                           now=services.clock.now()) is not None
        await uow.commit()
    started = await clocks(services, case_id)
    assert len(started) == 2
    assert {c.policy_id for c in started} == {"sla_standard"}

    await follow(services, case_id, {"type": "question", "priority": 2, "queue": "q_general"})
    assert await clocks(services, case_id) == started

    await follow(services, case_id, {"status": "pending"})
    assert all(c.paused_at is not None for c in await clocks(services, case_id))
    await follow(services, case_id, {"status": "open"})
    assert all(c.paused_at is None and c.stopped_at is None
               for c in await clocks(services, case_id))

    await services.case_updates.update(UpdateCase(case_id=case_id,
                                                  case_type=CaseType.COMPLAINT))
    await follow(services, case_id, {"type": "complaint"})
    assert {c.policy_id for c in await clocks(services, case_id)} == {"sla_complaint"}

    await follow(services, case_id, {"status": "resolved"})
    assert all(c.stopped_at is not None for c in await clocks(services, case_id))
