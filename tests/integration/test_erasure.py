"""Erasing a customer: nothing that says who they were or what they wrote survives, in any
table or stored file, while reports count exactly what they counted before; legal holds
stop it; a retried erasure finishes what a failed one started. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient, TestServer

from channels.email.intake import MailIntake
from core.domain.commands import UpdateCase
from core.domain.messaging import content_key
from core.domain.workforce import Role
from core.storage.redaction import SqlRedactions
from core.storage.tables import audit_log, blobs
from tests.support.mail import mail_settings
from tests.support.privacy import (
    KLAAS_PHRASE,
    LOGO,
    PHOTO,
    PIET,
    Piet,
    leftovers,
    populate,
)
from workers import bootstrap
from workers.services import Services
from workers.web.app import build_app


@dataclass
class Desk:
    services: Services
    client: TestClient
    headers: dict[Role, dict[str, str]]
    intake: MailIntake

    async def erase(self, customer_id: str, role: Role = Role.ADMIN) -> tuple[int, Any]:
        response = await self.client.post(
            f"/api/customers/{customer_id}/erase", headers=self.headers[role],
            json={"reason": "data subject request of 3 March (letter)"})
        return response.status, await response.json()

    async def erasure(self, customer_id: str) -> Any:
        response = await self.client.get(f"/api/customers/{customer_id}/erasure",
                                         headers=self.headers[Role.SUPERVISOR])
        assert response.status == 200, await response.text()
        return await response.json()

    async def hold(self, path: str, reason: str) -> Any:
        response = await self.client.post(path, headers=self.headers[Role.SUPERVISOR],
                                          json={"reason": reason})
        assert response.status == 201, await response.text()
        return await response.json()

    async def release(self, hold_id: str) -> Any:
        response = await self.client.post(f"/api/holds/{hold_id}/release",
                                          headers=self.headers[Role.ADMIN],
                                          json={"reason": "the court case is over"})
        assert response.status == 200, await response.text()
        return await response.json()

    async def report(self) -> Any:
        today = date.today().isoformat()
        response = await self.client.get(f"/api/reports/summary?from={today}&to={today}",
                                         headers=self.headers[Role.SUPERVISOR])
        assert response.status == 200, await response.text()
        report = await response.json()
        del report["generated_at"]
        return report


@pytest.fixture
async def desk(database_url: str) -> AsyncIterator[Desk]:
    async with bootstrap.build(mail_settings(database_url)) as services:
        client = TestClient(TestServer(build_app(services)))
        await client.start_server()
        headers = {}
        for role in Role:
            token = await services.access.create_token(role=role, name=f"test {role.value}")
            headers[role] = {"Authorization": f"Bearer {token}"}
        intake = services.email.intake("imap:support", uow=services.uow,
                                       ingestion=services.ingestion, clock=services.clock)
        assert intake is not None
        try:
            yield Desk(services, client, headers, intake)
        finally:
            await client.close()


async def simple_customer(desk: Desk, *, close: bool = True) -> tuple[str, str]:
    """Jan, with one e-mail on a case, closed unless told: (customer id, case id)."""
    accepted = await desk.intake.accept(
        b"From: Jan <jan@example.nl>\r\nTo: support@example.nl\r\nSubject: Vraag\r\n"
        b"Message-ID: <j1@example.nl>\r\n\r\nHallo\r\n", item_ref="1")
    assert accepted.contact_id and accepted.case_id
    async with desk.services.read_uow() as uow:
        contact = await uow.contacts.get(accepted.contact_id)
    assert contact is not None
    if close:
        await desk.services.case_updates.update(UpdateCase(case_id=accepted.case_id,
                                                           status="closed"))
    return contact.customer_id, accepted.case_id


@pytest.fixture
async def piet(desk: Desk) -> Piet:
    return await populate(desk.services, desk.client, intake=desk.intake,
                          agent=desk.headers[Role.AGENT])


async def test_erasure_leaves_nothing_of_the_customer_and_reports_unchanged(
        desk: Desk, piet: Piet) -> None:
    assert await leftovers(desk.services)  # the search finds him before
    before = await desk.report()

    status, erasure = await desk.erase(piet.customer_id)

    assert status == 200, erasure
    assert erasure["state"] == "completed" and erasure["completed_at"]
    assert erasure["removed"]["contacts"] >= 8 and erasure["removed"]["stored_files"] >= 3
    assert await leftovers(desk.services) == []
    assert await desk.report() == before

    async with desk.services.engine.connect() as conn:
        stored = set((await conn.execute(sa.select(blobs.c.key))).scalars())
        entries = (await conn.execute(sa.select(audit_log.c.action, audit_log.c.details).where(
            audit_log.c.customer_id == piet.customer_id))).all()
    assert content_key(PHOTO) not in stored
    assert content_key(LOGO) in stored  # Klaas sent the same file: it is his too
    actions = [a for a, _ in entries]
    assert "customer.erasure_requested" in actions and "customer.erased" in actions

    customer = await desk.client.get(f"/api/customers/{piet.customer_id}",
                                     headers=desk.headers[Role.AGENT])
    view = await customer.json()
    assert view["status"] == "erased" and view["display_name"] is None
    assert view["identifiers"] == []
    found = await desk.client.get(f"/api/customers?email={PIET}",
                                  headers=desk.headers[Role.AGENT])
    assert (await found.json())["items"] == []

    # Klaas lost nothing.
    async with desk.services.read_uow() as uow:
        klaas = await uow.contacts.get(piet.klaas_contact_id)
    assert klaas is not None and KLAAS_PHRASE in (klaas.body or "")
    assert [a.storage_key for a in klaas.attachments] == [content_key(LOGO)]


async def test_an_erasure_that_stops_halfway_is_finished_by_a_retry_or_the_worker(
        desk: Desk, piet: Piet, monkeypatch: pytest.MonkeyPatch) -> None:
    fail_once(monkeypatch, "redact_cases", RuntimeError("the database went away"))
    fail_once(monkeypatch, "sweep_blobs", OSError("connection reset"))

    status, _ = await desk.erase(piet.customer_id)
    assert status == 500
    state = await desk.erasure(piet.customer_id)
    assert state["state"] == "in_progress" and state["step"] == "cases"
    assert state["attempts"] == 1 and "went away" in state["last_error"]
    # What came before the failed step stays done: his contacts are empty already.
    assert state["removed"]["contacts"] >= 8

    status, _ = await desk.erase(piet.customer_id)  # the retry gets further, then fails
    assert status == 500
    state = await desk.erasure(piet.customer_id)
    assert state["step"] == "blobs" and state["attempts"] == 2

    # The privacy worker finds the open erasure and finishes it.
    assert await desk.services.privacy.erasures.finish_open() == 1
    state = await desk.erasure(piet.customer_id)
    assert state["state"] == "completed" and state["last_error"] is None
    assert await leftovers(desk.services) == []
    status, again = await desk.erase(piet.customer_id)  # idempotent
    assert status == 200 and again["id"] == state["id"] and again["state"] == "completed"


def fail_once(monkeypatch: pytest.MonkeyPatch, name: str, error: Exception) -> None:
    """The storage step ``name`` raises ``error`` the first time it runs, as a database
    that went away halfway would."""
    real = getattr(SqlRedactions, name)
    errors = [error]

    async def step(self: SqlRedactions, *args: Any, **kwargs: Any) -> Any:
        if errors:
            raise errors.pop()
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(SqlRedactions, name, step)


async def test_legal_holds_block_erasure_until_an_admin_releases_them(desk: Desk) -> None:
    customer_id, case_id = await simple_customer(desk)
    on_case = await desk.hold(f"/api/cases/{case_id}/holds", "complaint to the ombudsman")
    on_customer = await desk.hold(f"/api/customers/{customer_id}/holds", "court order 2026/114")

    status, refused = await desk.erase(customer_id)
    assert status == 409
    message = refused["error"]["message"]
    assert f"case {case_id}" in message and on_case["id"] in message
    assert "complaint to the ombudsman" in message
    listed = await desk.client.get(f"/api/customers/{customer_id}/holds",
                                   headers=desk.headers[Role.SUPERVISOR])
    assert [h["id"] for h in (await listed.json())["items"]] == [on_case["id"],
                                                                  on_customer["id"]]

    by_supervisor = await desk.client.post(f"/api/holds/{on_case['id']}/release",
                                           headers=desk.headers[Role.SUPERVISOR],
                                           json={"reason": "case closed"})
    assert by_supervisor.status == 403
    assert (await desk.release(on_case["id"]))["active"] is False
    status, refused = await desk.erase(customer_id)
    assert status == 409 and on_customer["id"] in refused["error"]["message"]

    await desk.release(on_customer["id"])
    status, done = await desk.erase(customer_id)
    assert status == 200 and done["state"] == "completed"
    async with desk.services.engine.connect() as conn:
        actions = (await conn.execute(sa.select(audit_log.c.action).where(
            audit_log.c.subject_kind == "legal_hold"))).scalars().all()
    assert sorted(actions) == ["legal_hold.placed"] * 2 + ["legal_hold.released"] * 2


async def test_only_an_admin_erases_and_never_with_open_cases(desk: Desk) -> None:
    customer_id, case_id = await simple_customer(desk, close=False)
    for role in (Role.AGENT, Role.SUPERVISOR):
        assert (await desk.erase(customer_id, role))[0] == 403
    status, refused = await desk.erase(customer_id)
    assert status == 409 and "open cases" in refused["error"]["message"]
    async with desk.services.read_uow() as uow:
        case = await uow.cases.get(case_id)
    assert case is not None and case.reference in refused["error"]["message"]
    assert (await desk.erase("cus_nobody"))[0] == 404
    no_reason = await desk.client.post(f"/api/customers/{customer_id}/erase",
                                       headers=desk.headers[Role.ADMIN], json={})
    assert no_reason.status == 422
