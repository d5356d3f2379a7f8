"""A customer who reached us on every channel, for the privacy tests: Piet Jansen mails
(with attachments, an HTML part, a returned reply and a mail we quarantined), fills in a
web form, chats, calls (a voicemail, and a call from his number that never became his),
rates us with a comment, gets an internal note, a profile edit, a code to link his phone,
is flagged as a possible duplicate and had a second record merged into his. Klaas is
another customer who shares one attached file with him and must lose nothing.

:func:`leftovers` searches every text and JSON column of every table, and every stored
blob, for what would identify Piet or what he wrote.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Any

import sqlalchemy as sa
from aiohttp.test_utils import TestClient

from channels.email.intake import MailIntake, Outcome
from channels.email.replies import ReplyAttachment
from channels.webforms import catalogue
from channels.webforms.definitions import DEMO_FORMS
from core.domain.calls import Call, CallOutcome, CallStatus
from core.domain.channels import Channel, Direction
from core.domain.chat import ChatSender
from core.domain.commands import IngestContact, Party, UpdateCase
from core.domain.ids import new_id
from core.domain.routing import RoutingDecision
from core.domain.surveys import Invitation, SurveyKind, SurveyResponse, token_hash
from core.domain.verification import Verification
from core.storage.tables import metadata
from tests.support.mail import SUPPORT, bounce_for, new_message_id
from workers.services import Services

PIET = "piet.jansen@example.nl"
PIET_WORK = "p.jansen@werkmail.example"
PIET_PHONE = "+31612345678"
KLAAS = "klaas.visser@example.org"
# Everything that says who Piet is or what he told us; none of it may survive erasure.
SECRETS = ("Piet Jansen", "P. Jansen", PIET, PIET_WORK, PIET_PHONE, "06 1234 5678", "0612345678",
           "wasmachine lekt al drie dagen", "Jansenstraat 12", "stuur maandag een monteur",
           "monteur was erg vriendelijk", "foto van de lekkage", "pietjansen.jpg",
           "twilio.example/Recordings/RE-piet")
KLAAS_PHRASE = "mijn fiets is gestolen"
LOGO = b"\x89PNG shared company logo " + b"L" * 200
PHOTO = b"\xff\xd8 foto van de lekkage " + b"P" * 300


@dataclass
class Piet:
    customer_id: str
    case_ids: list[str]
    klaas_id: str
    klaas_contact_id: str


def mail(sender: str, subject: str, body: str, *, name: str,
         attachments: tuple[tuple[str, str, bytes], ...] = (), html: str | None = None,
         message_id: str | None = None, extra_from: str | None = None) -> bytes:
    message = EmailMessage(policy=SMTP)
    message["From"] = f"{name} <{sender}>" + (f", {extra_from}" if extra_from else "")
    message["To"] = SUPPORT
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now().astimezone())
    message["Message-ID"] = message_id or new_message_id()
    message.set_content(body)
    if html:
        message.add_alternative(html, subtype="html")
    for filename, content_type, content in attachments:
        main, sub = content_type.split("/")
        message.add_attachment(content, maintype=main, subtype=sub, filename=filename)
    return message.as_bytes()


async def populate(services: Services, client: TestClient, *, intake: MailIntake,
                   agent: dict[str, str]) -> Piet:
    """Piet on every channel, then every case of his closed (erasure needs that)."""
    body = ("Mijn wasmachine lekt al drie dagen. Ik woon op de Jansenstraat 12, "
            "bel me op 06 1234 5678.")
    first = await intake.accept(mail(
        PIET, "Lekkende wasmachine", body, name="Piet Jansen",
        html=f"<p>{body}</p>", attachments=(("pietjansen.jpg", "image/jpeg", PHOTO),
                                            ("logo.png", "image/png", LOGO))), item_ref="1")
    assert first.outcome is Outcome.STORED and first.case_id and first.contact_id
    customer_id = (await contact(services, first.contact_id))["customer_id"]

    # Klaas shares the logo (the same bytes, stored once) and keeps everything.
    klaas = await intake.accept(mail(KLAAS, "Diefstal", f"Help, {KLAAS_PHRASE}.",
                                     name="Klaas Visser",
                                     attachments=(("logo.png", "image/png", LOGO),)),
                                item_ref="2")
    assert klaas.contact_id
    klaas_id = (await contact(services, klaas.contact_id))["customer_id"]

    reply = await services.email_replies.reply(
        case_id=first.case_id, body="Beste Piet Jansen, we stuur maandag een monteur.",
        author="Anna", attachments=(ReplyAttachment(
            filename="monteur.pdf", content_type="application/pdf",
            content=b"%PDF afspraak Piet Jansen Jansenstraat 12"),))
    bounced = await intake.accept(bounce_for(reply.message_id, PIET), item_ref="3")
    assert bounced.outcome is Outcome.BOUNCE
    quarantined = await intake.accept(mail(
        PIET, "Nog een vraag", "Nog iets over de wasmachine lekt al drie dagen",
        name="Piet Jansen", extra_from="iemand@example.com"), item_ref="4")
    assert quarantined.outcome is Outcome.QUARANTINED

    # A second record of Piet (his work address), merged into this one.
    work = await intake.accept(mail(PIET_WORK, "Factuur", "Graag een kopie van de factuur.",
                                    name="P. Jansen"), item_ref="5")
    assert work.contact_id
    other_id = (await contact(services, work.contact_id))["customer_id"]
    merged = await client.post(f"/api/customers/{customer_id}/merge",
                               headers=await supervisor(services), json={"other_id": other_id})
    assert merged.status == 200, await merged.text()

    await web_form(services, client)
    # The chat visitor typed Piet's address: a record of its own, flagged as a possible
    # duplicate of Piet's; the supervisor merges it (erasure takes merged records along).
    visitor_id = await chat(services)
    merged = await client.post(f"/api/customers/{customer_id}/merge",
                               headers=await supervisor(services), json={"other_id": visitor_id})
    assert merged.status == 200, await merged.text()
    await calls(services, customer_id)
    # Klaas's address with Piet's number: Klaas's contact, flagged as a possible duplicate
    # of Piet with a reason that quotes Piet's number.
    await services.ingestion.ingest(IngestContact(
        channel=Channel.PHONE, direction=Direction.INBOUND, external_id="CA-dup",
        party=Party(email=KLAAS, phone=PIET_PHONE), occurred_at=services.clock.now(),
        summary="Telefoon"))
    edited = await client.patch(f"/api/customers/{customer_id}", headers=agent,
                                json={"display_name": "Piet Jansen (Jansenstraat 12)"})
    assert edited.status == 200, await edited.text()
    noted = await client.post(f"/api/cases/{first.case_id}/notes", headers=agent,
                              json={"text": "Piet Jansen zegt: stuur maandag een monteur"})
    assert noted.status == 201, await noted.text()
    await survey_and_decision(services, customer_id, first.case_id, first.contact_id)
    async with services.uow() as uow:
        now = services.clock.now()
        await uow.verifications.add(Verification(
            id=new_id("ver"), reference="CA-link", customer_id=customer_id, phone=PIET_PHONE,
            code_hash="0" * 64, sent_to=PIET, attempts=0, created_at=now,
            expires_at=now + timedelta(minutes=10)))
        await uow.commit()

    case_ids = await close_cases(services, customer_id)
    return Piet(customer_id=customer_id, case_ids=case_ids, klaas_id=klaas_id,
                klaas_contact_id=klaas.contact_id)


async def web_form(services: Services, client: TestClient) -> None:
    async with services.uow() as uow:
        for form in DEMO_FORMS:
            await catalogue.save(uow, form, by="test", at=services.clock.now())
        await uow.commit()
    page = await (await client.get("/forms/complaint")).text()
    key = re.search(r'name="_submission" value="([^"]+)"', page)
    assert key
    sent = await client.post("/forms/complaint", data={
        "name": "Piet Jansen", "email": PIET, "phone": "06 1234 5678", "about": "product",
        "message": "Nog steeds: de wasmachine lekt al drie dagen.",
        "_submission": key.group(1), "lang": "nl"})
    assert sent.status == 200, await sent.text()


async def chat(services: Services) -> str:
    greeting = await services.chat.hello(visitor_id=None, conversation_id=None,
                                         name="Piet Jansen", email=PIET, language="nl",
                                         topic="wasmachine")
    conversation = greeting.conversation
    await services.chat.visitor_message(conversation.id, conversation.visitor_id,
                                        "Hoi, mijn wasmachine lekt al drie dagen",
                                        client_msg_id=uuid.uuid4().hex)
    await services.chat.end(conversation.id, by=ChatSender.VISITOR, send_transcript=True)
    async with services.read_uow() as uow:
        stored = await uow.chat.get_conversation(conversation.id)
    assert stored is not None and stored.customer_id is not None
    return stored.customer_id


async def calls(services: Services, customer_id: str) -> None:
    now = services.clock.now()
    recording = "https://api.twilio.example/Recordings/RE-piet"
    result = await services.ingestion.ingest(IngestContact(
        channel=Channel.PHONE, direction=Direction.INBOUND, external_id="CA-piet",
        party=Party(phone=PIET_PHONE), occurred_at=now, summary="Voicemail",
        from_address=PIET_PHONE,
        metadata=(("call_sid", "CA-piet"), ("recording_url", recording),
                  ("ivr_choice", "service"))))
    async with services.uow() as uow:
        await uow.calls.add(Call(
            sid="CA-piet", direction="inbound", from_number=PIET_PHONE, to_number="+3120000000",
            status=CallStatus.COMPLETED, language="nl", customer_id=customer_id,
            contact_id=result.contact_id, case_id=result.case_id, outcome=CallOutcome.VOICEMAIL,
            recording_url=recording, started_at=now, ended_at=now, duration_s=40))
        # His number, a call that hung up in the menu before it became anyone's.
        await uow.calls.add(Call(
            sid="CA-menu", direction="inbound", from_number=PIET_PHONE,
            to_number="+3120000000", status=CallStatus.COMPLETED, language="nl",
            started_at=now))
        await uow.commit()


async def survey_and_decision(services: Services, customer_id: str, case_id: str,
                              contact_id: str) -> None:
    now = services.clock.now()
    async with services.uow() as uow:
        invitation = Invitation(
            id=new_id("svy"), token_hash=token_hash(uuid.uuid4().hex), customer_id=customer_id,
            case_id=case_id, contact_id=contact_id, channel=Channel.EMAIL,
            kind=SurveyKind.CSAT, language="nl", reference=None, created_at=now,
            expires_at=now + timedelta(days=14), answered_at=now)
        await uow.surveys.add_invitation(invitation)
        await uow.surveys.add_response(SurveyResponse(
            id=new_id("svr"), invitation_id=invitation.id, customer_id=customer_id,
            case_id=case_id, contact_id=contact_id, channel=Channel.EMAIL,
            kind=SurveyKind.CSAT, score=5, nps=None,
            comment="De monteur was erg vriendelijk, groet Piet Jansen", language="nl",
            answered_at=now))
        await uow.routing.add_decision(RoutingDecision(
            id=new_id("rtd"), case_id=case_id, contact_id=contact_id, work_item_id=None,
            rule_set_version=None, facts={
                "channel": "email", "subject": "Lekkende wasmachine",
                "body": "Mijn wasmachine lekt al drie dagen", "text": "wasmachine lekt al "
                "drie dagen", "words": ["wasmachine", "jansenstraat"], "segment": None},
            classification={"case_type": "question"}, outcome={"queue": "q"},
            decided_at=now))
        await uow.commit()


async def close_cases(services: Services, customer_id: str) -> list[str]:
    async with services.read_uow() as uow:
        open_cases = await uow.cases.open_for_customer(customer_id)
        all_cases = await uow.cases.ids_for_customer(customer_id)
    for case in open_cases:
        await services.case_updates.update(UpdateCase(case_id=case.id, status="closed"))
    return all_cases


async def contact(services: Services, contact_id: str) -> dict[str, Any]:
    async with services.read_uow() as uow:
        found = await uow.contacts.get(contact_id)
    assert found is not None
    return {"customer_id": found.customer_id, "case_id": found.case_id}


async def supervisor(services: Services) -> dict[str, str]:
    from core.domain.workforce import Role
    token = await services.access.create_token(role=Role.SUPERVISOR, name="Sanne")
    return {"Authorization": f"Bearer {token}"}


async def leftovers(services: Services, needles: tuple[str, ...] = SECRETS) -> list[str]:
    """Where any of ``needles`` still occurs: "table.column" for every hit, in every text
    and JSON column of every table and in every stored blob (case-insensitive)."""
    wanted = [n.lower() for n in needles]
    found: list[str] = []
    async with services.engine.connect() as conn:
        for table in metadata.sorted_tables:
            rows = (await conn.execute(sa.select(table))).mappings().all()
            for row in rows:
                for column, value in row.items():
                    text = _text(value)
                    if text is None:
                        continue
                    for needle in wanted:
                        if needle in text:
                            found.append(f"{table.name}.{column}: {needle!r}")
    return sorted(set(found))


def _text(value: object) -> str | None:
    if value is None or isinstance(value, bool | int | float | datetime):
        return None
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("utf-8", "replace").lower()
    return str(value).lower()
