"""Satisfaction surveys in a real browser: the question in the chat widget after the chat
ended, and the e-mailed link's page (no script, hostile comments stay text)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.domain.channels import Channel, Direction
from core.domain.commands import IngestContact, Party
from core.domain.ids import new_id
from core.domain.surveys import Invitation, SurveyKind, new_token, token_hash
from core.domain.workforce import Role
from tests.browser.test_pages import conversation_of, url
from tests.integration.test_surveys_chat import resolve, settled
from tests.support.centre import ALL_WORKERS, Centre, running_centre

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
HOSTILE = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'
WAIT_MS = 10_000


@pytest.fixture
async def centre(sqlite_only: str) -> AsyncIterator[Centre]:
    async with running_centre(sqlite_only, START, workers=(*ALL_WORKERS, "surveys")
                              ) as running:
        yield running


@pytest.fixture
def sqlite_only(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    from tests.conftest import sqlite_url

    return sqlite_url(request, tmp_path)


async def test_the_widget_asks_after_the_chat_ended_and_sends_the_answer(
        centre: Centre, browser: Any) -> None:
    agent_token = await centre.services.access.create_token(role=Role.AGENT, name="Anna")
    agent = {"Authorization": f"Bearer {agent_token}"}
    page = await browser.new_page(locale="nl-NL")
    await page.goto(url(centre, "/chat/demo"))
    await page.get_by_role("button", name="Chat met ons").click()
    await page.get_by_label("Naam").fill("Piet")
    await page.get_by_role("button", name="Start chat").click()
    await page.get_by_label("Uw bericht", exact=True).fill("Waar is mijn pakket?")
    await page.get_by_role("button", name="Versturen").click()
    log = page.get_by_role("log")
    await log.get_by_text("Waar is mijn pakket?").wait_for(timeout=WAIT_MS)
    conversation = await conversation_of(centre)
    await settled(centre)

    ended = await centre.client.post(f"/api/chat/conversations/{conversation}/end",
                                     headers=agent, json={})
    assert ended.status == 200
    await log.get_by_text("Het gesprek is beëindigd.").wait_for(timeout=WAIT_MS)
    async with centre.services.read_uow() as uow:
        found = await uow.chat.get_conversation(conversation)
    assert found is not None and found.case_id is not None
    await resolve(centre, found.case_id)

    question = page.get_by_role("group", name="Hoe tevreden bent u over dit gesprek?")
    await question.wait_for(timeout=WAIT_MS)
    await page.get_by_label("4 tevreden").check()
    await page.get_by_label("Toelichting (optioneel)").fill("Vriendelijk")
    await page.get_by_role("button", name="Versturen").click()
    await page.get_by_text("Dank u voor uw antwoord!").wait_for(timeout=WAIT_MS)
    assert await question.count() == 0 or not await question.is_visible()

    async with centre.services.read_uow() as uow:
        [answer] = await uow.surveys.responses_for_customer(found.customer_id or "", limit=5)
    assert (answer.score, answer.comment, answer.channel) == (4, "Vriendelijk", Channel.CHAT)
    await page.close()


async def test_the_survey_page_works_without_script_and_shows_hostile_text_as_text(
        centre: Centre, browser: Any) -> None:
    asked = await centre.services.ingestion.ingest(IngestContact(
        channel=Channel.EMAIL, direction=Direction.INBOUND, external_id="<b1@example.nl>",
        party=Party(email="jan@example.nl", name="Jan"), subject="Vraag", body="Vraag"))
    token = new_token()
    now = centre.clock.now()
    async with centre.services.uow() as uow:
        await uow.surveys.add_invitation(Invitation(
            id=new_id("svy"), token_hash=token_hash(token), customer_id=asked.customer_id,
            case_id=asked.case_id, contact_id=asked.contact_id, channel=Channel.EMAIL,
            kind=SurveyKind.BOTH, language="nl", reference=None, created_at=now,
            expires_at=now + timedelta(days=14)))
        await uow.commit()

    page = await browser.new_page(locale="nl-NL", java_script_enabled=False)
    await page.goto(url(centre, f"/survey/{token}"))
    await page.get_by_role("group", name="Hoe tevreden bent u").get_by_label(
        "2 (ontevreden)").check()
    await page.get_by_role("group", name="Hoe waarschijnlijk").get_by_label(
        "6", exact=True).check()
    await page.get_by_label("Wilt u nog iets toelichten? (optioneel)").fill(HOSTILE)
    await page.get_by_role("button", name="Versturen").click()
    await page.get_by_role("heading", name="Dank u wel!").wait_for(timeout=WAIT_MS)
    await page.get_by_text(HOSTILE).wait_for(timeout=WAIT_MS)
    await page.close()

    scripted = await browser.new_page(locale="nl-NL")  # scripts on: still nothing runs
    await scripted.goto(url(centre, f"/survey/{token}"))
    await scripted.get_by_text(HOSTILE).wait_for(timeout=WAIT_MS)
    assert await scripted.evaluate("window.pwned === undefined")
    assert await scripted.locator("main img").count() == 0
    await scripted.close()

    async with centre.services.read_uow() as uow:
        [answer] = await uow.surveys.responses_for_customer(asked.customer_id, limit=5)
    assert (answer.score, answer.nps, answer.comment) == (2, 6, HOSTILE)
