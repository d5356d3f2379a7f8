"""The data-subject export on SQLite and PostgreSQL: one download holds everything about a
customer who wrote by e-mail and web form, chatted and called (through the channels' own
intake), and nothing of anyone else; asked by an id merged away, it exports the survivor;
supervisors only, and the export is audited."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from channels.webforms import catalogue
from channels.webforms.definitions import DEMO_FORMS
from core.domain.chat import ChatSender
from core.domain.workforce import Role
from tests.support.mail import SUPPORT, mail_settings, new_message_id
from workers import bootstrap
from workers.services import Services
from workers.web.app import build_app

JAN, PETRA = "jan@example.nl", "petra@example.org"


@dataclass
class Site:
    services: Services
    client: TestClient
    supervisor: dict[str, str]
    agent: dict[str, str]


@pytest.fixture
async def site(database_url: str) -> AsyncIterator[Site]:
    async with bootstrap.build(mail_settings(database_url)) as services:
        async with services.uow() as uow:
            await catalogue.save(uow, DEMO_FORMS[0], by="test", at=services.clock.now())
            await uow.commit()
        client = TestClient(TestServer(build_app(services)))
        await client.start_server()
        tokens = [await services.access.create_token(role=role, name=f"test {role.value}")
                  for role in (Role.SUPERVISOR, Role.AGENT)]
        try:
            yield Site(services, client, *({"Authorization": f"Bearer {t}"} for t in tokens))
        finally:
            await client.close()


def mail(sender: str, body: str, attachment: bytes, filename: str) -> bytes:
    message = EmailMessage(policy=SMTP)
    message["From"], message["To"], message["Subject"] = sender, SUPPORT, "Vraag"
    message["Message-ID"] = new_message_id()
    message.set_content(body)
    message.add_attachment(attachment, maintype="application", subtype="pdf",
                           filename=filename)
    return message.as_bytes()


async def write_by_mail(site: Site, raw: bytes, ref: str) -> str:
    intake = site.services.email.intake("imap:support", uow=site.services.uow,
                                        ingestion=site.services.ingestion,
                                        clock=site.services.clock)
    assert intake is not None
    accepted = await intake.accept(raw, item_ref=ref)
    assert accepted.case_id
    async with site.services.read_uow() as uow:
        case = await uow.cases.get(accepted.case_id)
    assert case is not None
    return case.customer_id


async def post(site: Site, path: str, body: dict[str, Any], status: int = 200) -> Any:
    response = await site.client.post(path, headers=site.supervisor, json=body)
    assert response.status == status, await response.text()
    return await response.json()


async def test_one_download_holds_everything_about_the_customer_and_nothing_else(
        site: Site) -> None:
    services = site.services
    jan_mail = mail(JAN, "Mijn vraag per mail", b"%PDF-1.4 offerte van Jan", "offerte.pdf")
    jan = await write_by_mail(site, jan_mail, "1")
    petra = await write_by_mail(site, mail(PETRA, "Petra's eigen vraag",
                                           b"%PDF-1.4 PETRA-ONLY", "petra.pdf"), "2")
    form = aiohttp.FormData()
    for key, value in {"name": "Jan", "email": JAN, "subject": "Formulier",
                       "message": "Vraag via het formulier"}.items():
        form.add_field(key, value)
    form.add_field("attachment", b"%PDF-1.4 foto van Jan", filename="foto.pdf",
                   content_type="application/pdf")
    assert (await site.client.post("/forms/question", data=form)).status == 200

    greeting = await services.chat.hello(visitor_id=None, conversation_id=None, name="Jan",
                                         email=None, language="nl", topic=None)
    chat = greeting.conversation
    await services.chat.visitor_message(chat.id, chat.visitor_id, "Hallo via de chat", "m1")
    await services.chat.end(chat.id, by=ChatSender.VISITOR, send_transcript=False)
    async with services.read_uow() as uow:
        stored_chat = await uow.chat.get_conversation(chat.id)
    assert stored_chat is not None and stored_chat.customer_id
    chatter = stored_chat.customer_id

    ended = await post(site, "/api/cti/events", {"event": "ended", "call_id": "77.1",
                                                  "caller": "+31612345678"}, 202)
    async with services.uow() as uow:  # a voicemail's recording, as the voice channel keeps it
        call = await uow.calls.get("cti:77.1")
        assert call is not None
        call.recording_url = "https://api.twilio.com/recordings/RE1"
        await uow.calls.save(call)
        await uow.commit()
        caller = (await uow.calls.get("cti:77.1")).customer_id or (  # type: ignore[union-attr]
            await uow.contacts.get(call.contact_id or "")).customer_id  # type: ignore[union-attr]
    assert ended["applied"] and len({jan, petra, chatter, caller}) == 4
    for other in (chatter, caller):
        await post(site, f"/api/customers/{jan}/merge", {"other_id": other})

    forbidden = await site.client.get(f"/api/customers/{jan}/export", headers=site.agent)
    assert forbidden.status == 403
    assert (await site.client.get("/api/customers/cus_nobody/export",
                                  headers=site.supervisor)).status == 404
    response = await site.client.get(f"/api/customers/{chatter}/export",
                                     headers=site.supervisor)
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"] == "application/zip"
    assert response.headers["Content-Disposition"].startswith(
        f'attachment; filename="customer-{jan}-')
    archive = zipfile.ZipFile(io.BytesIO(await response.read()))
    assert archive.testzip() is None
    export = json.loads(archive.read("export.json"))

    assert (export["requested_id"], export["customer_id"]) == (chatter, jan)
    assert set(export["customer_ids"]) == {jan, chatter, caller}
    assert {i["normalized"] for i in export["customer"]["identifiers"]} >= {JAN}
    by_channel = {c["ref"]["channel"]: c for c in export["contacts"]
                  if c["direction"] == "inbound"}
    assert set(by_channel) == {"email", "webform", "chat", "phone"}
    assert "Mijn vraag per mail" in by_channel["email"]["body"]
    assert "Vraag via het formulier" in by_channel["webform"]["body"]
    assert "Hallo via de chat" in by_channel["chat"]["transcript"]
    [chat_record] = export["chats"]
    assert [m["text"] for m in chat_record["messages"] if m["sender"] == "visitor"] == [
        "Hallo via de chat"]
    [call_record] = export["calls"]
    assert call_record["recording_url"] == "https://api.twilio.com/recordings/RE1"
    assert len(export["cases"]) >= 2
    mail_files = by_channel["email"]["files"]
    original = next(p for p in mail_files if p.endswith("original.eml"))
    assert archive.read(original) == jan_mail
    attachments = {archive.read(p) for c in export["contacts"] for p in c["files"]
                   if "/attachments/" in p}
    assert attachments == {b"%PDF-1.4 offerte van Jan", b"%PDF-1.4 foto van Jan"}
    assert {e["action"] for e in export["audit"]} >= {"customer.merged",
                                                      "customer.exported"}
    summary = archive.read("summary.txt").decode()
    assert jan in summary and JAN in summary
    assert f"contacts   {len(export['contacts'])}\n" in summary

    everything = b"".join(archive.read(name) for name in archive.namelist()).lower()
    for trace in (PETRA.encode(), b"petra-only", petra.encode()):
        assert trace not in everything

    log = await site.client.get("/api/audit", headers=site.supervisor,
                                params={"action": "customer.exported"})
    [entry] = (await log.json())["items"]
    assert (entry["customer_id"], entry["actor"]["name"]) == (jan, "test supervisor")
    assert entry["details"]["requested_id"] == chatter
