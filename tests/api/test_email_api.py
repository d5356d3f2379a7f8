"""The e-mail endpoints over real HTTP: replies, attachments, HTML, originals, quarantine."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP

import pytest
from aiohttp.test_utils import TestClient, TestServer

from channels.email.intake import MailIntake
from core.config import Settings
from core.domain.workforce import Role
from tests.conftest import Api
from tests.support.mail import customer_mail, mail_settings
from workers import bootstrap
from workers.services import Services
from workers.web.app import build_app

JAN = "jan@example.nl"


@dataclass
class MailApi:
    services: Services
    api: Api
    intake: MailIntake

    @property
    def client(self) -> TestClient:
        return self.api.client


async def serve(settings: Settings) -> AsyncIterator[MailApi]:
    async with bootstrap.build(settings) as services:
        client = TestClient(TestServer(build_app(services)))
        await client.start_server()
        tokens = {role: await services.access.create_token(role=role, name=role.value)
                  for role in Role}
        intake = services.email.intake("imap:support", uow=services.uow,
                                       ingestion=services.ingestion, clock=services.clock)
        try:
            yield MailApi(services, Api(client, tokens), intake)  # type: ignore[arg-type]
        finally:
            await client.close()


@pytest.fixture
async def mail_api(database_url: str) -> AsyncIterator[MailApi]:
    async for running in serve(mail_settings(database_url)):
        yield running


def rich_mail() -> bytes:
    message = EmailMessage(policy=SMTP)
    message["From"] = f"Jan <{JAN}>"
    message["To"] = "support@example.nl"
    message["Subject"] = "Foto van de schade"
    message["Message-ID"] = "<rich-1@example.nl>"
    message.set_content("Zie de foto.")
    message.add_alternative(
        '<p onclick="steal()">Zie de foto <img src="https://tracker.example/p.gif">'
        '<img src="cid:foto1"></p><script>alert(1)</script>', subtype="html")
    message.add_attachment(b"\x89PNG fake", maintype="image", subtype="png",
                           filename="../schade\u202egnp.exe")
    return message.as_bytes()


async def test_attachments_html_and_originals_are_served_safely(mail_api: MailApi) -> None:
    raw = rich_mail()
    accepted = await mail_api.intake.accept(raw, item_ref="1")
    agent = mail_api.api.headers(Role.AGENT)
    contact = await (await mail_api.client.get(f"/api/cases/{accepted.case_id}",
                                               headers=agent)).json()
    [inbound] = [c for c in contact["contacts"] if c["direction"] == "inbound"]
    [attachment] = inbound["attachments"]
    assert attachment["filename"] == "schadegnp.exe"

    download = await mail_api.client.get(
        f"/api/contacts/{inbound['id']}/attachments/{attachment['id']}", headers=agent)
    assert download.status == 200 and await download.read() == b"\x89PNG fake"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Type"] == "application/octet-stream"
    assert download.headers["Content-Disposition"].startswith('attachment; filename="')

    html = await mail_api.client.get(f"/api/contacts/{inbound['id']}/html", headers=agent)
    body = await html.text()
    assert html.status == 200 and "sandbox" in html.headers["Content-Security-Policy"]
    assert "cid:foto1" in body
    assert "tracker.example" not in body and "<script" not in body and "onclick" not in body

    denied = await mail_api.client.get(f"/api/contacts/{inbound['id']}/raw", headers=agent)
    original = await mail_api.client.get(f"/api/contacts/{inbound['id']}/raw",
                                         headers=mail_api.api.headers(Role.SUPERVISOR))
    assert denied.status == 403
    assert original.status == 200 and await original.read() == raw


async def test_a_reply_is_validated_and_queued(mail_api: MailApi) -> None:
    accepted = await mail_api.intake.accept(customer_mail(JAN, "Vraag", "Hallo?"),
                                            item_ref="1")
    agent = mail_api.api.headers(Role.AGENT)
    path = f"/api/cases/{accepted.case_id}/replies"

    empty = await mail_api.client.post(path, headers=agent, json={"body": ""})
    bad_file = await mail_api.client.post(path, headers=agent, json={
        "body": "Zie bijlage.", "attachments": [{"filename": "a.pdf",
                                                 "content_base64": "@@not base64@@"}]})
    unknown = await mail_api.client.post("/api/cases/cas_nope/replies", headers=agent,
                                         json={"body": "Hallo"})
    anonymous = await mail_api.client.post(path, json={"body": "Hallo"})
    assert empty.status == 422 and bad_file.status == 422
    assert "attachments.0.content_base64" in (await bad_file.json())["error"]["fields"]
    assert unknown.status == 404 and anonymous.status == 401

    sent = await mail_api.client.post(path, headers=agent, json={
        "body": "Zie bijlage.", "attachments": [{
            "filename": "factuur.pdf", "content_type": "application/pdf",
            "content_base64": base64.b64encode(b"%PDF-1.4 factuur").decode()}]})
    assert sent.status == 202, await sent.text()
    reply = await sent.json()
    assert reply["to"] == JAN and reply["delivery_state"] == "queued"
    case = await (await mail_api.client.get(f"/api/cases/{accepted.case_id}",
                                            headers=agent)).json()
    [outbound] = [c for c in case["contacts"] if c["id"] == reply["contact_id"]]
    assert outbound["direction"] == "outbound"
    assert outbound["metadata"]["delivery_state"] == "queued"
    assert outbound["attachments"][0]["filename"] == "factuur.pdf"
    assert case["first_responded_at"] is not None


async def test_a_case_without_mail_cannot_get_an_email_reply(mail_api: MailApi) -> None:
    created = await mail_api.client.post("/api/contacts", headers=mail_api.api.headers(
        Role.AGENT), json={"channel": "phone", "external_id": "CA1",
                           "from": {"phone": "+31612345678"}, "summary": "Belde"})
    case_id = (await created.json())["case_id"]
    refused = await mail_api.client.post(f"/api/cases/{case_id}/replies",
                                         headers=mail_api.api.headers(Role.AGENT),
                                         json={"body": "Hallo"})
    assert refused.status == 409
    assert "no e-mail from the customer" in (await refused.json())["error"]["message"]


async def test_replies_need_smtp_and_a_sender(database_url: str) -> None:
    settings = mail_settings(database_url).model_copy(update={"smtp_url": None})
    async for running in serve(settings):
        accepted = await running.intake.accept(customer_mail(JAN, "Vraag", "Hallo?"),
                                               item_ref="1")
        refused = await running.client.post(f"/api/cases/{accepted.case_id}/replies",
                                            headers=running.api.headers(Role.AGENT),
                                            json={"body": "Hallo"})
        assert refused.status == 409
        assert "SWITCHBOARD_SMTP_URL" in (await refused.json())["error"]["message"]


async def test_a_quarantined_message_can_be_retried_or_dismissed(mail_api: MailApi) -> None:
    supervisor = mail_api.api.headers(Role.SUPERVISOR)
    anonymous = b"To: support@example.nl\r\nSubject: wie?\r\n\r\nGeen afzender.\r\n"
    await mail_api.intake.accept(anonymous, item_ref="ref-1")
    [item] = (await (await mail_api.client.get("/api/mail/quarantine",
                                               headers=supervisor)).json())["items"]

    retried = await mail_api.client.post(f"/api/mail/quarantine/{item['id']}/retry",
                                         headers=supervisor)
    assert (await retried.json())["outcome"] == "quarantined"  # still no sender
    dismissed = await mail_api.client.post(f"/api/mail/quarantine/{item['id']}/dismiss",
                                           headers=supervisor)
    assert (await dismissed.json())["status"] == "released"
    waiting = await (await mail_api.client.get("/api/mail/quarantine?status=quarantined",
                                               headers=supervisor)).json()
    assert waiting["items"] == []
