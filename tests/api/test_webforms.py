"""Web forms over real HTTP: pages, validation, submissions, abuse limits."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from channels.webforms import catalogue
from channels.webforms.definitions import DEMO_FORMS
from core.domain.messaging import OutboundKind
from core.domain.workforce import Role
from tests.support.mail import mail_settings
from workers import bootstrap
from workers.services import Services
from workers.web.app import build_app

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
COMPLAINT = {"name": "Jan de Vries", "email": "jan@example.nl", "about": "delivery",
             "message": "Het pakket kwam beschadigd aan."}


@dataclass
class Site:
    services: Services
    client: TestClient
    supervisor: dict[str, str]

    async def cases_of(self, email: str) -> list[dict[str, str]]:
        async with self.services.read_uow() as uow:
            customers = await uow.customers.search(email=email, phone=None, text=None, limit=5)
            cases = [c for cu in customers for c in await uow.cases.open_for_customer(cu.id)]
        return [{"id": c.id, "type": c.type.value, "reference": c.reference,
                 "priority": str(int(c.priority)), "tags": ",".join(c.tags),
                 "queue": c.queue_id or ""} for c in cases]


@pytest.fixture
async def site(database_url: str) -> AsyncIterator[Site]:
    async with bootstrap.build(mail_settings(database_url)) as services:
        async with services.uow() as uow:
            for form in DEMO_FORMS:
                await catalogue.save(uow, form, by="test", at=services.clock.now())
            await uow.commit()
        client = TestClient(TestServer(build_app(services)))
        await client.start_server()
        token = await services.access.create_token(role=Role.SUPERVISOR, name="sup")
        try:
            yield Site(services, client, {"Authorization": f"Bearer {token}"})
        finally:
            await client.close()


def submission_key(page: str) -> str:
    found = re.search(r'name="_submission" value="([^"]+)"', page)
    assert found
    return found.group(1)


async def test_a_form_page_is_accessible_and_locked_down(site: Site) -> None:
    response = await site.client.get("/forms/complaint")
    page = await response.text()
    assert response.status == 200
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert '<html lang="nl">' in page and "Een klacht indienen" in page
    assert '<label for="f-email">E-mailadres' in page and 'id="f-email"' in page
    assert "<script" not in page
    english = await (await site.client.get("/forms/complaint?lang=en")).text()
    assert "Make a complaint" in english
    assert (await site.client.get("/forms/nope")).status == 404


async def test_a_valid_complaint_becomes_a_complaint_case_on_the_customer(site: Site) -> None:
    page = await (await site.client.get("/forms/complaint")).text()
    response = await site.client.post("/forms/complaint", data={
        **COMPLAINT, "_submission": submission_key(page), "lang": "nl"})
    confirmation = await response.text()

    assert response.status == 200
    [case] = await site.cases_of("jan@example.nl")
    assert case["type"] == "complaint" and case["priority"] == "3"
    assert "klacht" in case["tags"]
    assert case["reference"] in confirmation and 'role="status"' in confirmation
    async with site.services.read_uow() as uow:
        contacts = await uow.contacts.for_case(case["id"], limit=10)
    inbound = [c for c in contacts if c.direction.value == "inbound"]
    assert inbound[0].channel.value == "webform" and inbound[0].metadata["form"] == "complaint"
    assert "Waarover: Bezorging" in (inbound[0].body or "")
    ack = [c for c in contacts if c.direction.value == "outbound"]
    assert len(ack) == 1 and case["reference"] in (ack[0].subject or "")


async def test_a_double_click_creates_one_case(site: Site) -> None:
    page = await (await site.client.get("/forms/complaint")).text()
    data = {**COMPLAINT, "_submission": submission_key(page)}
    first = await site.client.post("/forms/complaint", data=data)
    second = await site.client.post("/forms/complaint", data=data)
    assert first.status == second.status == 200
    assert len(await site.cases_of("jan@example.nl")) == 1


async def test_errors_come_back_per_field_and_hostile_input_stays_inert(site: Site) -> None:
    response = await site.client.post("/forms/complaint", data={
        "name": XSS, "email": "not-an-address", "about": "weather", "message": ""})
    page = await response.text()

    assert response.status == 422
    assert 'role="alert"' in page
    assert 'id="f-email-error">Dit is geen geldig e-mailadres.' in page
    assert 'id="f-message-error">Vul dit veld in.' in page
    assert 'id="f-about-error">Kies een van de mogelijkheden.' in page
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert await site.cases_of("not-an-address") == []


async def test_json_clients_get_json(site: Site) -> None:
    bad = await site.client.post("/forms/complaint", json={"email": "x", "extra": "?"})
    body = await bad.json()
    assert bad.status == 422
    assert set(body["error"]["fields"]) >= {"email", "name", "message", "about", "extra"}

    headers = {"Idempotency-Key": "client-key-0001"}
    created = await site.client.post("/forms/complaint", json={**COMPLAINT, "name": XSS},
                                     headers=headers)
    again = await site.client.post("/forms/complaint", json={**COMPLAINT, "name": XSS},
                                   headers=headers)
    first, second = await created.json(), await again.json()
    assert created.status == 201 and again.status == 200
    assert first["case_id"] == second["case_id"] and second["duplicate"] is True
    async with site.services.read_uow() as uow:
        contact = await uow.contacts.get(first["contact_id"])
    assert contact is not None and contact.from_name == XSS  # stored as text, as typed


async def test_the_honeypot_stores_nothing(site: Site) -> None:
    response = await site.client.post("/forms/question", data={
        "name": "Bot", "email": "bot@example.nl", "subject": "Buy", "message": "now",
        "website": "http://spam.example"})
    assert response.status == 200
    assert await site.cases_of("bot@example.nl") == []


async def test_floods_are_rate_limited_per_client(site: Site) -> None:
    statuses = []
    for n in range(12):
        response = await site.client.post("/forms/callback", data={
            "name": f"Klant {n}", "phone": "0612345678", "when": "morning"})
        statuses.append(response.status)
        if response.status == 429:
            assert int(response.headers["Retry-After"]) >= 1
    assert statuses[:10] == [200] * 10 and statuses[10:] == [429, 429]


async def test_attachments_are_kept_within_limits(site: Site) -> None:
    form = aiohttp.FormData()
    for key, value in {"name": "Jan", "email": "jan@example.nl", "subject": "Foto",
                       "message": "Zie bijlage"}.items():
        form.add_field(key, value)
    form.add_field("attachment", b"%PDF-1.4 factuur", filename="../factuur\u202e.pdf",
                   content_type="application/pdf")
    response = await site.client.post("/forms/question", data=form)
    assert response.status == 200
    [case] = await site.cases_of("jan@example.nl")
    async with site.services.read_uow() as uow:
        [contact] = [c for c in await uow.contacts.for_case(case["id"], limit=5)
                     if c.direction.value == "inbound"]
        [attachment] = contact.attachments
        assert attachment.filename == "factuur.pdf"
        assert attachment.storage_key is not None
        assert await uow.blobs.get(attachment.storage_key) == b"%PDF-1.4 factuur"

    too_big = aiohttp.FormData()
    too_big.add_field("name", "Jan")
    too_big.add_field("attachment", b"x" * (16 * 1024 * 1024), filename="big.bin")
    assert (await site.client.post("/forms/question", data=too_big)).status == 413


async def test_confirmations_to_one_address_are_capped(site: Site) -> None:
    for n in range(5):
        await site.client.post("/forms/question", json={
            "name": "Jan", "email": "veel@example.nl", "subject": f"Vraag {n}",
            "message": "Hallo"})
    async with site.services.read_uow() as uow:
        sent = await uow.outbound.count_recent(recipient="veel@example.nl",
                                               kind=OutboundKind.ACKNOWLEDGEMENT,
                                               since=site.services.clock.now().replace(year=2000))
    assert sent == 3


async def test_supervisors_define_forms(site: Site) -> None:
    form = DEMO_FORMS[2].model_dump(mode="json")
    invalid = await site.client.put("/api/forms/callback", headers=site.supervisor,
                                    json={**form, "fields": [{"name": "x", "label": {
                                        "nl": "X", "en": "X"}}]})
    assert invalid.status == 422
    renamed = {**form, "title": {"nl": "Terugbellen", "en": "Call back"}}
    stored = await site.client.put("/api/forms/callback", headers=site.supervisor,
                                   json=renamed)
    assert stored.status == 200
    assert "Terugbellen" in await (await site.client.get("/forms/callback")).text()
