"""Satisfaction surveys by e-mail, end to end: a case is resolved over the API, the
``surveys`` worker queues the invitation, the delivery worker hands it to a real SMTP
server (aiosmtpd), and the link in the mail opens the page that records the answer."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from core.storage.tables import inbox, outbound_messages, outbox
from tests.support.centre import Centre, running_centre
from tests.support.mail import MAIL_FROM, SUPPORT
from tests.support.smtp_sink import SmtpSink, smtp_sink
from workers.surveys import SURVEYS_GROUP

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
WAIT_S = 10.0
PUBLIC_URL = "https://switchboard.example.nl"
JAN = "jan.devries@example.nl"
LINK = re.compile(re.escape(PUBLIC_URL) + r"(/survey/[A-Za-z0-9_-]{43})\b")
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
WORKERS = ("relay", "surveys", "mail-delivery")


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    async with smtp_sink() as running:
        yield running


@pytest.fixture
async def centre(database_url: str, sink: SmtpSink) -> AsyncIterator[Centre]:
    async with running_centre(database_url, START, workers=WORKERS, extra_settings={
            "smtp_url": sink.url, "mail_from": MAIL_FROM, "public_url": PUBLIC_URL,
    }) as running:
        yield running


async def question(centre: Centre, sender: str = JAN, *, n: int = 1,
                   **extra: Any) -> dict[str, Any]:
    return await centre.contact(channel="email", external_id=f"<q{n}-{sender}>",
                                **{"from": {"email": sender, "name": "Jan de Vries"}},
                                subject="Waar blijft mijn pakket?",
                                body="Mijn pakket is niet bezorgd.", **extra)


async def resolve(centre: Centre, case_id: str) -> None:
    """Resolve the case and wait until the surveys worker has handled that event."""
    patched = await centre.client.patch(f"/api/cases/{case_id}", headers=centre.supervisor,
                                        json={"status": "resolved"})
    assert patched.status == 200, await patched.text()
    async with asyncio.timeout(WAIT_S):
        while True:
            async with centre.services.engine.connect() as conn:
                events = (await conn.execute(sa.select(outbox.c.id, outbox.c.payload).where(
                    outbox.c.topic == "case.updated"))).all()
                resolving = [e.id for e in events if e.payload.get("case_id") == case_id
                             and e.payload.get("changes", {}).get("status") == "resolved"]
                handled = await conn.scalar(sa.select(sa.func.count()).select_from(inbox).where(
                    inbox.c.consumer_group == SURVEYS_GROUP, inbox.c.envelope_id.in_(resolving)))
            if resolving and handled == len(resolving):
                return
            await asyncio.sleep(0.02)


async def queued_mails(centre: Centre) -> int:
    """Every mail ever queued (sent or not): proves that nothing more is on its way."""
    async with centre.services.engine.connect() as conn:
        return int(await conn.scalar(sa.select(sa.func.count()).select_from(
            outbound_messages)) or 0)


def survey_path(text: str) -> str:
    found = LINK.search(text)
    assert found, text
    return found.group(1)


async def test_a_resolved_case_brings_one_mail_whose_link_records_the_answer(
        centre: Centre, sink: SmtpSink) -> None:
    asked = await question(centre)
    await resolve(centre, asked["case_id"])
    [mail] = await sink.wait_for(1, WAIT_S)

    message = mail.message
    assert mail.rcpt_tos == [JAN] and mail.mail_from == SUPPORT
    assert message["Auto-Submitted"] == "auto-generated"
    async with centre.services.read_uow() as uow:
        case = await uow.cases.get(asked["case_id"])
    assert case is not None and message["Subject"] == \
        f"Hoe hebben we u geholpen? [#{case.reference}]"
    body = message.get_content()
    assert "Beste Jan de Vries" in body
    path = survey_path(body)

    page = await centre.client.get(path)
    html = await page.text()
    assert page.status == 200
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert 'name="score"' in html and 'value="5"' in html and "<script" not in html

    answered = await centre.client.post(path, data={"score": "4", "comment": "Snel geholpen",
                                                    "lang": "nl"})
    assert answered.status == 200
    assert "Dank u wel" in await answered.text()

    results = await (await centre.client.get(
        f"/api/customers/{asked['customer_id']}/surveys", headers=centre.supervisor)).json()
    [result] = results["items"]
    assert (result["score"], result["comment"], result["channel"]) == (4, "Snel geholpen",
                                                                      "email")
    assert (result["contact_id"], result["case_id"]) == (asked["contact_id"], asked["case_id"])
    assert results["summary"]["csat_average"] == 4.0
    assert results["next_allowed_at"] == (START + timedelta(days=30)).isoformat()

    view = await (await centre.client.get(f"/api/customers/{asked['customer_id']}",
                                          headers=centre.supervisor)).json()
    assert view["surveys"]["summary"]["responses"] == 1
    rated = [c for c in view["timeline"]["items"] if c["id"] == asked["contact_id"]]
    assert rated[0]["survey"]["score"] == 4
    # The survey mail is on the timeline without its link (the link is a credential).
    sent = [c for c in view["timeline"]["items"] if c["metadata"].get("kind") == "survey"]
    assert len(sent) == 1 and path not in (sent[0]["body"] or "")

    listed = await (await centre.client.get("/api/surveys?from=2026-11-01&to=2026-11-30",
                                            headers=centre.supervisor)).json()
    assert [r["id"] for r in listed["items"]] == [result["id"]]
    assert listed["summary"]["csat_satisfied_pct"] == 100.0
    outside = await (await centre.client.get("/api/surveys?from=2026-12-01",
                                             headers=centre.supervisor)).json()
    assert outside["items"] == [] and outside["summary"]["responses"] == 0

    # The same answer again changes nothing; a different one is refused, clearly.
    again = await centre.client.post(path, data={"score": "4", "comment": "Snel geholpen"})
    assert again.status == 200
    other = await centre.client.post(path, data={"score": "1"})
    assert other.status == 409
    assert "eerste antwoord blijft staan" in await other.text()
    still = await (await centre.client.get(
        f"/api/customers/{asked['customer_id']}/surveys", headers=centre.supervisor)).json()
    assert [r["score"] for r in still["items"]] == [4]


async def test_within_the_cap_nobody_is_asked_twice_and_after_it_again(
        centre: Centre, sink: SmtpSink) -> None:
    first = await question(centre, n=1)
    await resolve(centre, first["case_id"])
    await sink.wait_for(1, WAIT_S)

    centre.clock.advance(timedelta(days=29))
    second = await question(centre, n=2)
    assert second["case_id"] != first["case_id"]
    await resolve(centre, second["case_id"])
    assert await queued_mails(centre) == 1 and len(sink.messages) == 1  # nothing more

    centre.clock.advance(timedelta(days=2))  # 31 days after the first survey
    third = await question(centre, n=3)
    await resolve(centre, third["case_id"])
    [_, latest] = await sink.wait_for(2, WAIT_S)
    assert latest.rcpt_tos == [JAN]


async def test_customers_who_opted_out_or_only_sent_automatic_mail_get_nothing(
        centre: Centre, sink: SmtpSink) -> None:
    piet = await question(centre, "piet@example.nl")
    refused = await centre.client.put(f"/api/customers/{piet['customer_id']}/surveys/opt-out",
                                      headers=centre.supervisor, json={"opted_out": True})
    assert refused.status == 200 and (await refused.json())["opted_out"] is True
    await resolve(centre, piet["case_id"])

    robot = await question(centre, "noreply@shop.example", metadata={"auto": "auto_reply"})
    await resolve(centre, robot["case_id"])

    # Opting out on the survey page works too: Els answers nothing, opts out, and is not
    # asked again even after the cap.
    els = await question(centre, "els@example.nl")
    await resolve(centre, els["case_id"])
    [mail] = await sink.wait_for(1, WAIT_S)
    assert mail.rcpt_tos == ["els@example.nl"]
    path = survey_path(mail.message.get_content())
    page = await centre.client.post(f"{path}/opt-out", data={})
    assert page.status == 200 and "geen vragenlijsten meer" in await page.text()
    centre.clock.advance(timedelta(days=40))
    later = await question(centre, "els@example.nl", n=2)
    await resolve(centre, later["case_id"])

    assert await queued_mails(centre) == 1
    assert [m.rcpt_tos for m in sink.messages] == [["els@example.nl"]]


async def test_a_hostile_comment_stays_text_and_bad_links_get_friendly_pages(
        centre: Centre, sink: SmtpSink) -> None:
    asked = await question(centre)
    await resolve(centre, asked["case_id"])
    [mail] = await sink.wait_for(1, WAIT_S)
    path = survey_path(mail.message.get_content())

    invalid = await centre.client.post(path, data={"score": "9", "comment": HOSTILE})
    html = await invalid.text()
    assert invalid.status == 422 and "Kies een cijfer van 1 tot 5" in html
    assert "<script" not in html and "<img" not in html and "&lt;script&gt;" in html

    answered = await centre.client.post(path, data={"score": "2", "comment": HOSTILE,
                                                    "lang": "en"})
    html = await answered.text()
    assert answered.status == 200 and "Thank you" in html
    assert "<script" not in html and "<img" not in html and "&lt;script&gt;" in html
    shown = await (await centre.client.get(path)).text()
    assert "<script" not in shown and "&lt;img src=x onerror=alert(1)&gt;" in shown
    stored = await (await centre.client.get(
        f"/api/customers/{asked['customer_id']}/surveys", headers=centre.supervisor)).json()
    assert stored["items"][0]["comment"] == HOSTILE  # kept as typed; escaped when shown

    unknown = await centre.client.get("/survey/" + "A" * 43)
    assert unknown.status == 404 and "Deze link kennen we niet" in await unknown.text()
    assert "default-src 'none'" in unknown.headers["Content-Security-Policy"]
    garbage = await centre.client.get("/survey/%3Cscript%3E")
    assert garbage.status == 404 and "<script" not in await garbage.text()


async def test_a_survey_closes_after_its_days(centre: Centre, sink: SmtpSink) -> None:
    asked = await question(centre)
    await resolve(centre, asked["case_id"])
    [mail] = await sink.wait_for(1, WAIT_S)
    path = survey_path(mail.message.get_content())
    centre.clock.advance(timedelta(days=15))

    page = await centre.client.get(path + "?lang=en")
    assert page.status == 410 and "This survey has closed" in await page.text()
    late = await centre.client.post(path, data={"score": "5"})
    assert late.status == 410


async def test_the_survey_pages_are_rate_limited(centre: Centre) -> None:
    statuses = [(await centre.client.get("/survey/" + "B" * 43)).status for _ in range(31)]
    assert statuses[:30] == [404] * 30
    assert statuses[30] == 429
