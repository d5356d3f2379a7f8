"""The small APIs the agent desktop needs, over real HTTP and WebSockets: internal notes, the
agent's current work, a call's facts, and the agent's typing in a chat."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from core.domain.audit import AuditAction, AuditFilter
from core.domain.calls import Call, CallStatus
from tests.support.centre import Centre, available, receive, running_centre

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday, inside office hours


@pytest.fixture
async def centre(database_url: str) -> AsyncIterator[Centre]:
    async with running_centre(database_url, START) as running:
        yield running


async def test_notes_keep_their_author_and_only_the_author_takes_one_back_for_ten_minutes(
        centre: Centre) -> None:
    _, anna = await centre.agent("Anna", tier=1, skills={}, queues=["q_general"])
    _, bram = await centre.agent("Bram", tier=1, skills={}, queues=["q_general"])
    opened = await centre.contact(channel="email", external_id="<n-1@example.nl>",
                                  **{"from": {"email": "jan@example.nl"}}, subject="Vraag")
    notes = f"/api/cases/{opened['case_id']}/notes"
    assert (await (await centre.client.get(notes, headers=anna)).json()) == {"items": []}

    for text in ("Verkeerde zaak.", "  Bestelling 4411.  "):
        added = await centre.client.post(notes, headers=anna, json={"text": text})
        assert added.status == 201, await added.text()
    listed = (await (await centre.client.get(notes, headers=anna)).json())["items"]
    assert [n["text"] for n in listed] == ["Verkeerde zaak.", "Bestelling 4411."]
    assert {n["author"] for n in listed} == {"Anna"}
    assert len({n["id"] for n in listed}) == 2
    assert listed[0]["deletable_until"] == (START + timedelta(minutes=10)).isoformat()
    # Stored in their own table, not in a configuration document any more.
    async with centre.services.read_uow() as uow:
        assert await uow.routing.get_document(f"case-notes:{opened['case_id']}") is None
        assert len(await uow.notes.for_case(opened["case_id"], limit=10)) == 2

    assert (await centre.client.post(notes, headers=anna, json={"text": " "})).status == 422
    assert (await centre.client.post(notes, headers=anna, json={"text": "x",
                                                                "author": "Baas"})).status == 422
    unknown = await centre.client.post("/api/cases/cas_nope/notes", headers=anna,
                                       json={"text": "x"})
    assert unknown.status == 404
    assert (await centre.client.get("/api/cases/cas_nope/notes", headers=anna)).status == 404
    assert (await centre.client.get(notes)).status == 401

    # Bram reads Anna's notes but may not delete them; a supervisor may not either.
    wrong, kept = listed
    seen_by_bram = (await (await centre.client.get(notes, headers=bram)).json())["items"]
    assert [n["deletable_until"] for n in seen_by_bram] == [None, None]
    refused = await centre.client.delete(f"{notes}/{wrong['id']}", headers=bram)
    assert refused.status == 403
    assert "author" in (await refused.json())["error"]["message"]
    assert (await centre.client.delete(f"{notes}/{wrong['id']}",
                                       headers=centre.supervisor)).status == 403

    assert (await centre.client.delete(f"{notes}/{wrong['id']}", headers=anna)).status == 204
    assert (await centre.client.delete(f"{notes}/{wrong['id']}", headers=anna)).status == 404
    assert (await centre.client.delete(f"/api/cases/cas_other/notes/{kept['id']}",
                                       headers=anna)).status == 404

    centre.clock.advance(timedelta(minutes=10))
    late = await centre.client.delete(f"{notes}/{kept['id']}", headers=anna)
    assert late.status == 409
    assert "10 minutes" in (await late.json())["error"]["message"]
    listed = (await (await centre.client.get(notes, headers=anna)).json())["items"]
    assert [(n["text"], n["deletable_until"]) for n in listed] == [("Bestelling 4411.", None)]
    # Taking a note back is on the audit log: who, which note, not what it said.
    async with centre.services.read_uow() as uow:
        entries, _ = await uow.audit.page(AuditFilter(subject_kind="note"), limit=10,
                                          cursor=None)
    assert [(e.action, e.subject_id, e.actor.name, e.customer_id) for e in entries] == [
        (AuditAction.NOTE_DELETED, wrong["id"], "Anna", opened["customer_id"])]
    assert "Verkeerde zaak" not in str(entries[0].details)


async def test_held_by_me_lists_the_work_an_agent_holds_until_it_is_wrapped_up(
        centre: Centre) -> None:
    agent_id, anna = await centre.agent("Anna", tier=1, skills={},
                                        queues=["q_general", "q_complaints"])
    desk = await available(centre, anna)
    opened = await centre.contact(channel="email", external_id="<h-1@example.nl>",
                                  **{"from": {"email": "jan@example.nl"}}, subject="Vraag")
    offer = await receive(desk, "offer")
    mine = "/api/cases?held_by=me"
    assert (await (await centre.client.get(mine, headers=anna)).json())["items"] == []

    await desk.send_json({"type": "accept", "offer_id": offer["offer_id"]})
    await receive(desk, "accepted")
    [held] = (await (await centre.client.get(mine, headers=anna)).json())["items"]
    assert held["id"] == opened["case_id"]
    assert held["work"]["channel"] == "email"
    by_id = await centre.client.get(f"/api/cases?held_by={agent_id}",
                                    headers=centre.supervisor)
    assert [c["id"] for c in (await by_id.json())["items"]] == [opened["case_id"]]
    # "me" means an agent; a supervisor's token has no desk.
    assert (await centre.client.get(mine, headers=centre.supervisor)).status == 422

    await desk.send_json({"type": "wrap_up", "case_id": opened["case_id"],
                          "disposition": "answered"})
    await receive(desk, "wrapped_up")
    assert (await (await centre.client.get(mine, headers=anna)).json())["items"] == []
    await desk.close()


async def test_a_call_is_read_with_its_menu_path_and_times(centre: Centre) -> None:
    _, anna = await centre.agent("Anna", tier=1, skills={}, queues=["q_general"])
    async with centre.services.uow() as uow:
        await uow.calls.add(Call(sid="CA123", direction="inbound", from_number="+31612345678",
                                 to_number="+31201234567", status=CallStatus.IN_PROGRESS,
                                 path=["2", "complaint"], started_at=START,
                                 enqueued_at=START + timedelta(seconds=20),
                                 answered_at=START + timedelta(seconds=65)))
        await uow.commit()
    found = await (await centre.client.get("/api/calls/CA123", headers=anna)).json()
    assert found["from"] == "+31612345678" and found["path"] == ["2", "complaint"]
    assert found["enqueued_at"] == (START + timedelta(seconds=20)).isoformat()
    assert found["answered_at"] == (START + timedelta(seconds=65)).isoformat()
    assert found["status"] == "in-progress"
    assert (await centre.client.get("/api/calls/CA999", headers=anna)).status == 404


async def test_the_visitor_sees_the_agent_type_only_in_the_agents_own_chat(
        centre: Centre) -> None:
    _, anna = await centre.agent("Anna", tier=1, skills={},
                                 queues=["q_general", "q_complaints"])
    _, bram = await centre.agent("Bram", tier=1, skills={}, queues=[])
    desk = await available(centre, anna)
    url = centre.client.make_url("/")
    visitor = await centre.client.ws_connect("/chat/ws", headers={
        "Origin": f"{url.scheme}://{url.host}:{url.port}"})
    await visitor.send_json({"type": "hello", "name": "Piet"})
    conversation = (await receive(visitor, "welcome"))["conversation_id"]
    await visitor.send_json({"type": "message", "text": "Hallo?", "client_msg_id": "c-1"})
    offer = await receive(desk, "offer")

    # Before she accepts it is not her chat: refused, and the visitor hears nothing.
    await desk.send_json({"type": "chat_typing", "conversation_id": conversation})
    assert (await receive(desk, "error"))["code"] == "not_found"
    await desk.send_json({"type": "accept", "offer_id": offer["offer_id"]})
    await receive(desk, "accepted")

    other = await centre.client.ws_connect("/agent/ws", headers=bram)
    await receive(other, "hello")
    await other.send_json({"type": "chat_typing", "conversation_id": conversation})
    assert (await receive(other, "error"))["code"] == "not_found"

    await desk.send_json({"type": "chat_typing", "conversation_id": conversation,
                          "typing": True})
    typing = await receive(visitor, "typing")
    assert typing == {"type": "typing", "from": "agent", "typing": True,
                      "conversation_id": conversation}
    await desk.send_json({"type": "chat_typing", "conversation_id": conversation,
                          "typing": False})
    assert (await receive(visitor, "typing"))["typing"] is False
    await other.close()
    await visitor.close()
    await desk.close()
