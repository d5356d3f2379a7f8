"""Supervisors keep the screen-pop's scripts and knowledge snippets: ``GET/PUT
/api/scripts`` and ``/api/knowledge``. Whole documents, revisioned (no lost updates),
refused with one reason per place, and out of reach of agents."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from core.domain.workforce import Queue, Role
from routing.scripts import DEMO_KNOWLEDGE, DEMO_SCRIPTS
from tests.conftest import Api
from workers.services import Services

SCRIPT = {"id": "welkom", "title": "Begroeting", "language": "nl",
          "text": "Goedendag {customer.first_name}, u spreekt met {agent.first_name}."}
SNIPPET = {"id": "levering", "title": "Levering vertraagd", "keywords": ["levering"],
           "text": "Binnen 2 werkdagen.", "url": "https://kennisbank.example.nl/levering"}


@pytest.fixture
async def desk(services: Services, api: Api) -> AsyncIterator[Api]:
    async with services.uow() as uow:
        for queue_id in ("q_general", "q_billing", "q_complaints"):
            await uow.workforce.add_queue(Queue(id=queue_id, name=queue_id))
        await uow.commit()
    yield api


async def put(api: Api, path: str, body: dict[str, Any], role: Role | None = Role.SUPERVISOR
              ) -> tuple[int, dict[str, Any]]:
    response = await api.client.put(path, headers=api.headers(role), json=body)
    return response.status, await response.json()


async def get(api: Api, path: str, role: Role | None = Role.SUPERVISOR
              ) -> tuple[int, dict[str, Any]]:
    response = await api.client.get(path, headers=api.headers(role))
    return response.status, await response.json()


async def test_nothing_saved_yet_reads_as_empty_with_the_placeholders(desk: Api) -> None:
    for path, key in (("/api/scripts", "scripts"), ("/api/knowledge", "snippets")):
        status, body = await get(desk, path)
        assert status == 200
        assert (body[key], body["revision"], body["updated_by"]) == ([], 0, None)
        assert "customer.first_name" in body["placeholders"]


async def test_scripts_are_saved_as_revisions_and_read_back(desk: Api) -> None:
    status, saved = await put(desk, "/api/scripts", {"scripts": [SCRIPT], "revision": 0})
    assert status == 200, saved
    assert saved["revision"] == 1
    assert saved["updated_by"] == "test supervisor"
    assert saved["scripts"] == [{**SCRIPT, "queue": None, "case_type": None}]

    status, read = await get(desk, "/api/scripts", Role.ADMIN)
    assert status == 200
    assert (read["scripts"], read["revision"]) == (saved["scripts"], 1)

    # Saving on top of the revision read replaces the whole list.
    status, saved = await put(desk, "/api/scripts", DEMO_SCRIPTS | {"revision": 1},
                              Role.ADMIN)
    assert (status, saved["revision"]) == (200, 2)
    assert len(saved["scripts"]) == len(DEMO_SCRIPTS["scripts"])


async def test_a_save_over_someone_elses_change_is_refused(desk: Api) -> None:
    assert (await put(desk, "/api/knowledge", {"snippets": [SNIPPET]}))[0] == 200
    assert (await put(desk, "/api/knowledge", {"snippets": [], "revision": 1}))[0] == 200
    status, body = await put(desk, "/api/knowledge", {"snippets": [SNIPPET], "revision": 1})
    assert status == 409
    assert "revision 2" in body["error"]["message"]
    assert (await get(desk, "/api/knowledge"))[1]["snippets"] == []


async def test_invalid_scripts_are_refused_with_a_reason_per_place(desk: Api) -> None:
    status, body = await put(desk, "/api/scripts", {"scripts": [
        SCRIPT,
        {"id": "iban", "title": "IBAN", "text": "Uw IBAN: {customer.iban}"},
        {"id": "Bad id", "title": "", "text": ""},
        {"id": "x", "title": "x", "text": "x", "case_type": "spam", "colour": "red"},
    ]})
    assert status == 422
    fields = body["error"]["fields"]
    assert set(fields) == {"scripts.1.text", "scripts.2.id", "scripts.2.title",
                           "scripts.2.text", "scripts.3.case_type", "scripts.3.colour"}
    assert fields["scripts.1.text"].startswith("unknown placeholder {customer.iban}")

    status, body = await put(desk, "/api/scripts", {"scripts": [
        SCRIPT, {**SCRIPT, "title": "Again"},
        {"id": "nowhere", "title": "t", "text": "t", "queue": "q_nowhere"},
    ]})
    assert status == 422
    assert body["error"]["fields"] == {
        "scripts.1.id": "the same id as scripts.0",
        "scripts.1": "the same queue, case_type and language as scripts.0: it would never "
                     "be chosen",
        "scripts.2.queue": "no queue 'q_nowhere'",
    }
    assert (await get(desk, "/api/scripts"))[1]["revision"] == 0  # nothing was stored


async def test_invalid_snippets_are_refused_with_a_reason_per_place(desk: Api) -> None:
    status, body = await put(desk, "/api/knowledge", {"snippets": [
        {**SNIPPET, "url": "javascript:alert(document.cookie)"},
        {"id": "bare", "title": "Nothing to match", "text": "x"},
        {**SNIPPET, "id": "elsewhere", "queues": ["q_nowhere"]},
    ]})
    assert status == 422
    assert set(body["error"]["fields"]) == {"snippets.0.url"}  # the model first, then…
    status, body = await put(desk, "/api/knowledge", {"snippets": [
        {"id": "bare", "title": "Nothing to match", "text": "x"},
        {**SNIPPET, "id": "elsewhere", "queues": ["q_nowhere"]},
    ]})
    assert status == 422
    assert body["error"]["fields"] == {
        "snippets.0": "give keywords, tags, case_types or queues: otherwise it is never "
                      "suggested",
        "snippets.1.queues": "no queue 'q_nowhere'",
    }
    status, body = await put(desk, "/api/knowledge", {"snippets": "all of them"})
    assert status == 422
    assert "snippets" in body["error"]["fields"]


async def test_the_demo_documents_are_accepted(desk: Api) -> None:
    assert (await put(desk, "/api/scripts", DEMO_SCRIPTS))[0] == 200
    status, body = await put(desk, "/api/knowledge", DEMO_KNOWLEDGE)
    assert status == 200
    assert [s["id"] for s in body["snippets"]] == \
        [s["id"] for s in DEMO_KNOWLEDGE["snippets"]]


@pytest.mark.parametrize("path", ["/api/scripts", "/api/knowledge"])
async def test_only_supervisors_and_admins_read_or_change_them(desk: Api, path: str) -> None:
    body = {"scripts": [SCRIPT]} if path == "/api/scripts" else {"snippets": [SNIPPET]}
    assert (await get(desk, path, None))[0] == 401
    assert (await put(desk, path, body, None))[0] == 401
    assert (await get(desk, path, Role.AGENT))[0] == 403
    assert (await put(desk, path, body, Role.AGENT))[0] == 403
    assert (await get(desk, path))[1]["revision"] == 0  # the refused writes changed nothing
