"""The satisfaction survey at the end of a chat, over real WebSockets: the agent ends the
chat and resolves its case, the visitor's widget is asked and answers on the same socket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp import ClientWebSocketResponse

from core.domain.events import Envelope
from core.storage.tables import inbox, outbox
from tests.integration.test_chat import chat_case, message_from, say, visitor
from tests.support.centre import ALL_WORKERS, Centre, available, receive, running_centre
from workers.routing_workers import ROUTER_GROUP, SLA_GROUP, moves_sla_clocks, opens_a_case
from workers.surveys import SURVEYS_GROUP

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday, inside office hours
WAIT_S = 10.0


@pytest.fixture
async def centre(database_url: str) -> AsyncIterator[Centre]:
    async with running_centre(database_url, START, workers=(*ALL_WORKERS, "surveys")
                              ) as running:
        yield running


async def surveys_handled(centre: Centre, case_id: str) -> None:
    """Until the surveys worker has handled every resolution of this case."""
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


async def resolve(centre: Centre, case_id: str) -> None:
    patched = await centre.client.patch(f"/api/cases/{case_id}", headers=centre.supervisor,
                                        json={"status": "resolved"})
    assert patched.status == 200, await patched.text()


async def chatting(centre: Centre, **hello: Any
                   ) -> tuple[ClientWebSocketResponse, dict[str, Any], str]:
    ws, welcome = await visitor(centre, **hello)
    await say(ws, "Waar is mijn pakket?", "c-1")
    case_id = await chat_case(centre, welcome["conversation_id"])
    await settled(centre)
    return ws, welcome, case_id


async def settled(centre: Centre) -> None:
    """Until the router and the SLA follower have handled every event so far that they act
    on (they record only those): both save the case, so a status change made meanwhile
    could be overwritten."""
    async with asyncio.timeout(WAIT_S):
        while True:
            async with centre.services.engine.connect() as conn:
                events = [Envelope(id=r.id, topic=r.topic, payload=r.payload,
                                   occurred_at=r.occurred_at)
                          for r in await conn.execute(sa.select(outbox))]
                handled = [await conn.scalar(sa.select(sa.func.count()).select_from(inbox)
                                             .where(inbox.c.consumer_group == group))
                           for group in (ROUTER_GROUP, SLA_GROUP)]
            wanted = [sum(1 for e in events if opens_a_case(e)),
                      sum(1 for e in events if moves_sla_clocks(e))]
            if handled == wanted:
                return
            await asyncio.sleep(0.02)


async def test_the_agent_ends_the_chat_resolves_it_and_the_visitor_answers(
        centre: Centre) -> None:
    _, headers = await centre.agent("Anna", tier=1, skills={},
                                    queues=["q_general", "q_complaints"])
    desk = await available(centre, headers)
    ws, welcome, case_id = await chatting(centre, name="Piet", language="nl")
    conversation = welcome["conversation_id"]
    offer = await receive(desk, "offer")
    await desk.send_json({"type": "accept", "offer_id": offer["offer_id"]})
    assert (await message_from(ws, "system"))["event"] == "agent_joined"

    ended = await centre.client.post(f"/api/chat/conversations/{conversation}/end",
                                     headers=headers, json={})
    assert ended.status == 200
    assert (await message_from(ws, "system"))["event"] == "ended"
    await desk.send_json({"type": "wrap_up", "case_id": case_id, "disposition": "answered",
                          "outcome": "resolved"})

    prompt = await receive(ws, "survey")  # on the same socket, after the end
    assert prompt["conversation_id"] == conversation
    assert (prompt["kind"], prompt["language"]) == ("csat", "nl")
    await ws.send_json({"type": "survey_answer", "survey_id": prompt["survey_id"],
                        "score": 5, "comment": "<b>Top</b>"})
    assert (await receive(ws, "survey_thanks"))["survey_id"] == prompt["survey_id"]
    # Sent twice (a double click): the same answer, thanked again; another one is refused.
    await ws.send_json({"type": "survey_answer", "survey_id": prompt["survey_id"],
                        "score": 5, "comment": "<b>Top</b>"})
    await receive(ws, "survey_thanks")
    await ws.send_json({"type": "survey_answer", "survey_id": prompt["survey_id"], "score": 1})
    refused = await receive(ws, "error")
    assert refused["code"] == "refused" and "answered already" in refused["message"]

    async with centre.services.read_uow() as uow:
        case = await uow.cases.get(case_id)
        stored = await uow.chat.get_conversation(conversation)
    assert case is not None and stored is not None
    results = await (await centre.client.get(f"/api/customers/{case.customer_id}/surveys",
                                             headers=centre.supervisor)).json()
    [answer] = results["items"]
    assert (answer["score"], answer["comment"], answer["channel"]) == (5, "<b>Top</b>", "chat")
    assert (answer["case_id"], answer["contact_id"]) == (case_id, stored.contact_id)
    await ws.close()
    await desk.close()


async def test_a_visitor_who_was_away_is_asked_when_they_come_back(centre: Centre) -> None:
    ws, welcome, case_id = await chatting(centre, language="en")
    await ws.close()  # the train goes into a tunnel
    await resolve(centre, case_id)
    await surveys_handled(centre, case_id)

    back, again = await visitor(centre, visitor_id=welcome["visitor_id"],
                                conversation_id=welcome["conversation_id"], after_seq=1)
    assert again["resumed"] is True
    prompt = await receive(back, "survey")
    assert prompt["language"] == "en"

    # Only this conversation's visitor can answer it, and only with a valid score.
    other, _ = await visitor(centre)
    await other.send_json({"type": "survey_answer", "survey_id": prompt["survey_id"],
                           "score": 4})
    assert (await receive(other, "error"))["code"] == "refused"
    await back.send_json({"type": "survey_answer", "survey_id": prompt["survey_id"],
                          "score": 7})
    assert (await receive(back, "error"))["code"] == "refused"
    await back.send_json({"type": "survey_answer", "survey_id": prompt["survey_id"],
                          "score": "4"})
    assert (await receive(back, "error"))["code"] == "invalid"
    await back.send_json({"type": "survey_answer", "survey_id": prompt["survey_id"],
                          "score": 4})
    await receive(back, "survey_thanks")
    await back.close()
    await other.close()


async def test_the_same_visitor_is_not_asked_again_within_the_cap(centre: Centre) -> None:
    first, welcome, first_case = await chatting(centre)
    await resolve(centre, first_case)
    await receive(first, "survey")
    await first.send_json({"type": "end"})
    await first.close()

    centre.clock.advance(timedelta(days=3))
    later, _, later_case = await chatting(centre, visitor_id=welcome["visitor_id"])
    await resolve(centre, later_case)
    await surveys_handled(centre, later_case)
    await later.send_json({"type": "ping"})
    assert (await later.receive_json()) == {"type": "pong"}  # no survey came before it
    await later.close()


async def test_a_chat_that_ended_long_ago_gets_no_prompt_and_no_mail(centre: Centre) -> None:
    ws, _, case_id = await chatting(centre, email="piet@example.nl")
    await ws.send_json({"type": "end"})
    await message_from(ws, "system")
    await ws.close()
    centre.clock.advance(timedelta(hours=1))
    await resolve(centre, case_id)
    await surveys_handled(centre, case_id)
    async with centre.services.read_uow() as uow:
        assert await uow.surveys.invitation_for_case(case_id) is None  # only a claimed address
