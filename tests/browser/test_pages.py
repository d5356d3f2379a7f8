"""The pages customers see, in a real browser: the chat widget and the web forms."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from channels.webforms import catalogue
from channels.webforms.definitions import DEMO_FORMS
from core.domain.workforce import Role
from tests.support.centre import Centre, running_centre
from workers.web.agent_ws import OPEN_SOCKETS

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
HOSTILE = '<img src=x onerror="window.pwned=1">'
WAIT_MS = 10_000


@pytest.fixture
async def centre(sqlite_only: str) -> AsyncIterator[Centre]:
    async with running_centre(sqlite_only, START) as running:
        async with running.services.uow() as uow:
            for form in DEMO_FORMS:
                await catalogue.save(uow, form, by="test", at=running.services.clock.now())
            await uow.commit()
        yield running


@pytest.fixture
def sqlite_only(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    from tests.conftest import sqlite_url

    return sqlite_url(request, tmp_path)


def url(centre: Centre, path: str) -> str:
    return str(centre.client.make_url(path))


async def conversation_of(centre: Centre) -> str:
    async with asyncio.timeout(10):
        while True:
            async with centre.services.engine.connect() as conn:
                from sqlalchemy import select

                from core.storage.tables import chat_conversations, chat_messages
                found = await conn.scalar(select(chat_messages.c.conversation_id).join(
                    chat_conversations,
                    chat_conversations.c.id == chat_messages.c.conversation_id).limit(1))
            if found:
                return str(found)
            await asyncio.sleep(0.05)


async def test_the_chat_widget_talks_survives_a_drop_and_shows_text_as_text(
        centre: Centre, browser: Any) -> None:
    agent_token = await centre.services.access.create_token(role=Role.AGENT, name="Anna")
    agent = {"Authorization": f"Bearer {agent_token}"}
    page = await browser.new_page(locale="nl-NL")
    dialogs: list[str] = []
    page.on("dialog", lambda d: dialogs.append(d.message))
    await page.goto(url(centre, "/chat/demo"))

    await page.get_by_role("button", name="Chat met ons").click()
    await page.get_by_label("Naam").fill("Piet")
    await page.get_by_role("button", name="Start chat").click()
    await page.get_by_label("Uw bericht", exact=True).fill("Waar is mijn pakket?")
    await page.get_by_role("button", name="Versturen").click()
    log = page.get_by_role("log")
    await log.get_by_text("Waar is mijn pakket?").wait_for(timeout=WAIT_MS)
    conversation = await conversation_of(centre)

    posted = await centre.client.post(f"/api/chat/conversations/{conversation}/messages",
                                      headers=agent, json={"text": HOSTILE})
    assert posted.status == 201
    await log.get_by_text(HOSTILE).wait_for(timeout=WAIT_MS)
    assert await page.evaluate("window.pwned === undefined")
    assert await log.locator("img").count() == 0

    # The connection drops (the server closes it); an answer is sent meanwhile.
    for ws in list(centre.client.app[OPEN_SOCKETS].sockets):  # type: ignore[index]
        await ws.close()
    posted = await centre.client.post(f"/api/chat/conversations/{conversation}/messages",
                                      headers=agent, json={"text": "Het komt morgen."})
    assert posted.status == 201
    await log.get_by_text("Het komt morgen.").wait_for(timeout=WAIT_MS)
    await page.get_by_label("Uw bericht", exact=True).fill("Dank u!")
    await page.get_by_role("button", name="Versturen").click()
    await log.get_by_text("Dank u!").wait_for(timeout=WAIT_MS)
    assert await log.get_by_text("Het komt morgen.").count() == 1  # once, not twice
    assert dialogs == []
    await page.close()


async def test_a_complaint_form_shows_field_errors_then_confirms(
        centre: Centre, browser: Any) -> None:
    page = await browser.new_page(locale="nl-NL")
    await page.goto(url(centre, "/forms/complaint"))
    assert await page.title() == "Een klacht indienen"

    await page.get_by_label("Naam").fill(HOSTILE)
    await page.get_by_label("E-mailadres").fill("geen-adres")
    await page.get_by_role("button", name="Versturen").click()
    alert = page.get_by_role("alert")
    await alert.wait_for(timeout=WAIT_MS)
    assert "Dit is geen geldig e-mailadres." in await alert.inner_text()
    assert await page.get_by_label("E-mailadres").get_attribute("aria-invalid") == "true"
    assert await page.get_by_label("Naam").input_value() == HOSTILE  # kept, as text
    assert await page.evaluate("window.pwned === undefined")

    await page.get_by_label("Naam").fill("Jan de Vries")
    await page.get_by_label("E-mailadres").fill("jan@example.nl")
    await page.get_by_label("Waarover").select_option("delivery")
    await page.get_by_label("Wat ging er mis?").fill("Het pakket was kapot.")
    await page.get_by_role("button", name="Versturen").click()
    confirmation = page.get_by_role("status")
    await confirmation.wait_for(timeout=WAIT_MS)
    assert "geregistreerd onder nummer SW-" in await confirmation.inner_text()
    async with centre.services.read_uow() as uow:
        [customer] = await uow.customers.search(email="jan@example.nl", phone=None, text=None,
                                                limit=2)
        [case] = await uow.cases.open_for_customer(customer.id)
    assert case.type.value == "complaint"
    await page.close()
