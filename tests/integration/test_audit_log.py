"""The audit log on a real database (SQLite and PostgreSQL): an entry commits with the change
it records or not at all, reads back filtered and paginated, holds no secrets, and the
database itself refuses to change or remove an entry."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from core.domain.audit import Actor, AuditAction, AuditFilter
from core.services import audit
from core.services.audit import REDACTED, AuditTrail
from core.storage.tables import audit_log
from workers.services import Services

SANNE = Actor(id="usr_sanne", name="Sanne", role="supervisor", request_id="req-1")


async def test_an_entry_is_stored_only_with_the_change_it_records(services: Services) -> None:
    now = services.clock.now()
    async with services.uow() as uow:
        await audit.record(uow, at=now, actor=SANNE, action=AuditAction.CUSTOMER_EDITED,
                           subject_kind="customer", subject_id="cus_1", customer_id="cus_1")
        # no commit: the change failed, so nothing happened and nothing is recorded
    async with services.uow() as uow:
        await audit.record(uow, at=now, actor=SANNE, action=AuditAction.CUSTOMERS_MERGED,
                           subject_kind="customer", subject_id="cus_1", customer_id="cus_1",
                           contact_id="con_9",
                           details={"merged_id": "cus_2", "password": "hunter2hunter2",
                                    "nested": {"session_token": "sbs_x", "fields": ["name"]}})
        await uow.commit()

    entries, cursor = await AuditTrail(services.read_uow).page(AuditFilter(), limit=10,
                                                               cursor=None)
    assert cursor is None
    [entry] = entries
    assert entry.action is AuditAction.CUSTOMERS_MERGED
    assert entry.actor == SANNE
    assert (entry.subject_kind, entry.subject_id, entry.customer_id, entry.contact_id) == (
        "customer", "cus_1", "cus_1", "con_9")
    assert entry.details == {"merged_id": "cus_2", "password": REDACTED,
                             "nested": {"session_token": REDACTED, "fields": ["name"]}}


async def test_the_log_reads_back_filtered_newest_first_page_by_page(
        services: Services) -> None:
    start = services.clock.now()
    async with services.uow() as uow:
        for minute in range(5):
            actor = SANNE if minute % 2 == 0 else Actor(id="usr_piet", name="Piet",
                                                        role="admin")
            await audit.record(uow, at=start + timedelta(minutes=minute), actor=actor,
                               action=AuditAction.AGENT_CHANGED, subject_kind="agent",
                               subject_id=f"agt_{minute}",
                               customer_id="cus_1" if minute < 2 else None)
        await uow.commit()
    trail = AuditTrail(services.read_uow)

    first, cursor = await trail.page(AuditFilter(), limit=2, cursor=None)
    second, cursor = await trail.page(AuditFilter(), limit=2, cursor=cursor)
    third, end = await trail.page(AuditFilter(), limit=2, cursor=cursor)
    assert [e.subject_id for e in first + second + third] == [f"agt_{m}" for m in (4, 3, 2, 1, 0)]
    assert end is None

    by_sanne, _ = await trail.page(AuditFilter(actor_id="usr_sanne"), limit=10, cursor=None)
    assert [e.subject_id for e in by_sanne] == ["agt_4", "agt_2", "agt_0"]
    about, _ = await trail.page(AuditFilter(customer_ids=("cus_1",)), limit=10, cursor=None)
    assert [e.subject_id for e in about] == ["agt_1", "agt_0"]
    window, _ = await trail.page(
        AuditFilter(since=start + timedelta(minutes=1), until=start + timedelta(minutes=3),
                    subject_kind="agent", action=AuditAction.AGENT_CHANGED),
        limit=10, cursor=None)
    assert [e.subject_id for e in window] == ["agt_2", "agt_1"]
    streamed = [e.subject_id async for e in trail.stream(AuditFilter(actor_id="usr_piet"))]
    assert streamed == ["agt_1", "agt_3"]


@pytest.mark.parametrize("statement", [
    audit_log.update().values(actor_name="someone else"),
    audit_log.delete(),
], ids=["update", "delete"])
async def test_the_database_refuses_to_change_or_remove_an_entry(
        services: Services, statement: sa.Executable) -> None:
    async with services.uow() as uow:
        await audit.record(uow, at=services.clock.now(), actor=SANNE,
                           action=AuditAction.LOGOUT, subject_kind="user",
                           subject_id="usr_sanne")
        await uow.commit()

    async with services.engine.connect() as conn:
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            await conn.execute(statement)
        await conn.rollback()
        if conn.dialect.name == "postgresql":
            with pytest.raises(sa.exc.DBAPIError, match="append-only"):
                await conn.execute(sa.text("TRUNCATE audit_log"))
            await conn.rollback()

    entries, _ = await AuditTrail(services.read_uow).page(AuditFilter(), limit=10, cursor=None)
    assert [(e.actor.name, e.action) for e in entries] == [("Sanne", AuditAction.LOGOUT)]
