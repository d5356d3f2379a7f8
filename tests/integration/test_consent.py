"""A customer's contact preferences hold: who withdrew consent to be called is not called
(unless about an open case of theirs), who withdrew consent to be mailed gets no automatic
mail — but answers to their own messages still go. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient, TestServer

from channels.email.intake import MailIntake
from channels.webforms import catalogue
from channels.webforms.definitions import DEMO_FORMS
from core.domain.channels import Channel, Direction
from core.domain.commands import IngestContact, Party, UpdateCase
from core.domain.messaging import OutboundKind
from core.domain.surveys import Skip
from core.domain.workforce import Role
from core.storage.tables import audit_log, outbound_messages
from tests.support.fake_twilio import FakeTwilio, fake_twilio
from tests.support.mail import customer_mail, mail_settings
from workers import bootstrap
from workers.services import Services
from workers.web.app import build_app

JAN = "jan@example.nl"
JAN_PHONE = "+31612345678"


@dataclass
class Desk:
    services: Services
    client: TestClient
    twilio: FakeTwilio
    admin: dict[str, str]
    agent: dict[str, str]
    intake: MailIntake

    async def consent(self, customer_id: str, channel: str, *, granted: bool) -> Any:
        response = await self.client.put(
            f"/api/customers/{customer_id}/consent/{channel}", headers=self.agent,
            json={"granted": granted, "via": "phone"})
        assert response.status == 200, await response.text()
        return await response.json()

    async def mail(self, subject: str, n: int) -> Any:
        accepted = await self.intake.accept(customer_mail(JAN, subject, "Hallo", name="Jan"),
                                            item_ref=str(n))
        assert accepted.case_id
        return accepted

    async def acknowledgements(self) -> int:
        async with self.services.engine.connect() as conn:
            return int(await conn.scalar(sa.select(sa.func.count()).where(
                outbound_messages.c.kind == OutboundKind.ACKNOWLEDGEMENT.value)) or 0)


@pytest.fixture
async def desk(database_url: str) -> AsyncIterator[Desk]:
    async with fake_twilio() as twilio, bootstrap.build(mail_settings(
            database_url, twilio_auth_token="secret-token-1234", twilio_account_sid="ACtest",
            public_url="https://switchboard.example.nl", twilio_caller_id="+31201234567",
            twilio_api_url=twilio.url)) as services:
        client = TestClient(TestServer(build_app(services)))
        await client.start_server()
        admin = {"Authorization": "Bearer " + await services.access.create_token(
            role=Role.ADMIN, name="admin")}
        created = await client.post("/api/agents", headers=admin, json={
            "name": "Anna", "username": "anna", "tier": 1, "skills": {}, "queues": []})
        assert created.status == 201, await created.text()
        agent = {"Authorization": "Bearer " + await services.access.create_token(
            role=Role.AGENT, name="Anna", agent_id=(await created.json())["id"])}
        intake = services.email.intake("imap:support", uow=services.uow,
                                       ingestion=services.ingestion, clock=services.clock)
        assert intake is not None
        try:
            yield Desk(services, client, twilio, admin, agent, intake)
        finally:
            await client.close()


async def test_no_call_to_whoever_withdrew_consent_unless_about_their_open_case(
        desk: Desk) -> None:
    first = await desk.mail("Vraag", 1)
    await desk.services.ingestion.ingest(IngestContact(
        channel=Channel.PHONE, direction=Direction.INBOUND, external_id="CA1",
        party=Party(email=JAN, phone=JAN_PHONE), case_id=first.case_id,
        occurred_at=desk.services.clock.now()))
    await desk.services.case_updates.update(UpdateCase(case_id=first.case_id, status="closed"))
    async with desk.services.read_uow() as uow:
        [jan] = await uow.customers.search(email=JAN, phone=None, text=None, limit=2)
    customer_id = jan.id

    view = await desk.consent(customer_id, "phone", granted=False)
    assert view["phone"]["granted"] is False and view["phone"]["via"] == "phone"
    assert view["phone"]["changed_by"] == "Anna" and view["email"]["granted"] is True

    for body in ({"customer_id": customer_id}, {"number": "06 1234 5678"}):
        refused = await desk.client.post("/api/calls", headers=desk.agent, json=body)
        assert refused.status == 409
        assert "withdrew consent to be called" in (await refused.json())["error"]["message"]
    assert desk.twilio.created == []

    await desk.mail("Nog een vraag", 2)  # Jan asks something: a case of his is open
    answering = await desk.client.post("/api/calls", headers=desk.agent,
                                       json={"customer_id": customer_id})
    assert answering.status == 202, await answering.text()
    assert len(desk.twilio.created) == 1

    async with desk.services.engine.connect() as conn:
        entries = (await conn.execute(sa.select(audit_log.c.details).where(
            audit_log.c.action == "customer.consent_changed",
            audit_log.c.customer_id == customer_id))).scalars().all()
    assert entries == [{"channel": "phone", "granted": False, "via": "phone"}]


async def test_no_automatic_mail_to_whoever_withdrew_consent_but_replies_still_go(
        desk: Desk) -> None:
    first = await desk.mail("Vraag", 1)
    assert await desk.acknowledgements() == 1
    async with desk.services.read_uow() as uow:
        [jan] = await uow.customers.search(email=JAN, phone=None, text=None, limit=2)
    await desk.consent(jan.id, "email", granted=False)

    second = await desk.mail("Iets anders", 2)  # a new case: no acknowledgement now
    assert second.case_id != first.case_id
    assert await desk.acknowledgements() == 1

    reply = await desk.services.email_replies.reply(case_id=second.case_id, body="Dag Jan,",
                                                    author="Anna")
    assert reply.to_address == JAN  # an answer to his own message is no marketing

    await desk.services.case_updates.update(UpdateCase(case_id=second.case_id,
                                                       status="resolved"))
    async with desk.services.uow() as uow:
        decision = await desk.services.surveys.case_resolved(uow, second.case_id)
        await uow.commit()
    assert decision.skipped is Skip.NO_CONSENT

    async with desk.services.uow() as uow:
        for form in DEMO_FORMS:
            await catalogue.save(uow, form, by="test", at=desk.services.clock.now())
        await uow.commit()
    page = await (await desk.client.get("/forms/question")).text()
    key = re.search(r'name="_submission" value="([^"]+)"', page)
    assert key
    sent = await desk.client.post("/forms/question", data={
        "name": "Jan", "email": JAN, "subject": "Vraag", "message": "Hoe zit het?",
        "_submission": key.group(1), "lang": "nl"})
    assert sent.status == 200
    assert await desk.acknowledgements() == 1  # no form confirmation either

    await desk.consent(jan.id, "email", granted=True)
    await desk.mail("Weer iets", 3)
    assert await desk.acknowledgements() == 2
