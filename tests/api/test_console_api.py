"""The supervisor console's page and the API additions it uses, through a real HTTP server
on SQLite and PostgreSQL. What the page does in a browser is tested in
``tests/browser/test_console.py``."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from core.domain.contact import Case, CaseType
from core.domain.customer import Customer
from core.domain.workforce import Role
from tests.api.test_login import PASSWORD, log_in
from tests.conftest import Api
from workers.services import Services

STATIC = Path(__file__).resolve().parents[2] / "workers" / "web" / "static"


async def test_the_console_is_for_logged_in_supervisors_and_admins_only(
        api: Api, services: Services) -> None:
    anonymous = await api.client.get("/console?tab=routing", allow_redirects=False)
    assert anonymous.status == 303
    assert unquote(anonymous.headers["Location"]) == "/login?next=/console?tab=routing"

    created = await api.client.post("/api/agents", headers=api.headers(Role.ADMIN),
                                    json={"name": "Chris Bakker", "username": "chris"})
    await services.access.create_user(username="chris", password=PASSWORD, role=Role.AGENT,
                                      agent_id=(await created.json())["id"])
    await log_in(api.client, "chris")
    assert (await api.client.get("/console", allow_redirects=False)).status == 403

    await services.access.create_user(username="sanne", password=PASSWORD,
                                      role=Role.SUPERVISOR)
    await log_in(api.client, "sanne")
    page = await api.client.get("/console?lang=en")
    assert page.status == 200
    text = await page.text()
    assert '<html lang="en">' in text
    assert '<meta name="csrf-token"' in text
    assert '<script type="module" src="/static/console.js"></script>' in text
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp
    for name in ("console.js", "console.css"):
        static = await api.client.get(f"/static/{name}")
        assert static.status == 200, name


async def _contact(api: Api, n: int, case_type: str) -> dict[str, Any]:
    response = await api.client.post("/api/contacts", headers=api.headers(Role.AGENT), json={
        "channel": "email", "external_id": f"<c{n}@mail.example>",
        "from": {"email": f"klant{n}@example.nl"}, "subject": f"Contact {n}",
        "case_type": case_type})
    assert response.status == 202, await response.text()
    result: dict[str, Any] = await response.json()
    return result


async def test_cases_can_be_listed_by_type(api: Api) -> None:
    complaint = await _contact(api, 1, "complaint")
    await _contact(api, 2, "question")
    later = await _contact(api, 3, "complaint")
    closed = await api.client.patch(f"/api/cases/{later['case_id']}", json={"status": "closed"},
                                    headers=api.headers(Role.AGENT))
    assert closed.status == 200

    async def listed(query: str) -> list[str]:
        response = await api.client.get(f"/api/cases?{query}", headers=api.headers(Role.AGENT))
        assert response.status == 200, await response.text()
        return [c["id"] for c in (await response.json())["items"]]

    assert await listed("type=complaint") == [later["case_id"], complaint["case_id"]]
    assert await listed("type=complaint&status=new") == [complaint["case_id"]]
    assert await listed("type=request") == []
    bad = await api.client.get("/api/cases?type=grumble", headers=api.headers(Role.AGENT))
    assert bad.status == 422
    assert "type" in (await bad.json())["error"]["fields"]


def test_the_console_scripts_never_hand_text_to_the_html_parser() -> None:
    scripts = sorted(STATIC.glob("console*.js"))
    assert len(scripts) >= 8
    for script in scripts:
        text = script.read_text(encoding="utf-8")
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write",
                     "eval(", "new Function", "setAttribute(\"style", ".style."):
            assert sink not in text, f"{script.name} uses {sink}"


def test_every_console_text_exists_in_dutch_and_english() -> None:
    dictionary = (STATIC / "console-text.js").read_text(encoding="utf-8")
    dutch, english = dictionary.split("const en = {")

    def keys(part: str) -> set[str]:
        return set(re.findall(r'^\s+"?([\w.]+)"?: "', part, re.MULTILINE))

    assert keys(dutch) == keys(english)
    asked: set[str] = set()
    for script in STATIC.glob("console*.js"):
        text = script.read_text(encoding="utf-8")
        asked |= set(re.findall(r'\bt\("([\w.]+)"', text))
        asked |= {f"{key}.{form}" for key in re.findall(r'\btn\("([\w.]+)"', text)
                  for form in ("one", "other")}
    assert asked, "no texts found: the pattern is wrong"
    assert asked <= keys(english), sorted(asked - keys(english))


async def test_a_supervisor_renames_a_queue_moves_it_and_changes_its_description(
        api: Api) -> None:
    supervisor = api.headers(Role.SUPERVISOR)
    for path, body in (("/api/teams", {"id": "team_1", "name": "Eerste lijn"}),
                       ("/api/queues", {"id": "q_shop", "name": "Winkel", "team": "team_1",
                                        "description": "Vragen over de winkel"})):
        assert (await api.client.post(path, json=body, headers=supervisor)).status == 201

    renamed = await api.client.patch("/api/queues/q_shop", json={"name": "Winkels"},
                                     headers=supervisor)
    assert renamed.status == 200, await renamed.text()
    assert await renamed.json() == {"id": "q_shop", "name": "Winkels", "team": "team_1",
                                    "description": "Vragen over de winkel", "archived_at": None}
    cleared = await api.client.patch("/api/queues/q_shop",
                                     json={"team": None, "description": None},
                                     headers=supervisor)
    assert await cleared.json() == {"id": "q_shop", "name": "Winkels", "team": None,
                                    "description": None, "archived_at": None}
    listed = await (await api.client.get("/api/queues", headers=supervisor)).json()
    assert listed["queues"] == [await cleared.json()]

    for body, status, field in (({"team": "team_9"}, 422, "team"), ({}, 422, "body"),
                                ({"name": None}, 422, "body"), ({"id": "q_x"}, 422, "id")):
        refused = await api.client.patch("/api/queues/q_shop", json=body, headers=supervisor)
        assert refused.status == status, (body, await refused.text())
        assert field in (await refused.json())["error"]["fields"], body
    missing = await api.client.patch("/api/queues/q_none", json={"name": "X"},
                                     headers=supervisor)
    assert missing.status == 404
    agent = await api.client.patch("/api/queues/q_shop", json={"name": "X"},
                                   headers=api.headers(Role.AGENT))
    assert agent.status == 403


async def test_a_case_is_found_by_its_reference_however_many_came_after_it(
        api: Api, services: Services) -> None:
    at = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    async with services.uow() as uow:
        await uow.customers.add(Customer(id="cus_ref", created_at=at, updated_at=at))
        for n in range(120):  # more than any page of recent cases
            await uow.cases.add(Case(id=f"cas_ref{n:03d}", number=await uow.cases.next_number(),
                                     customer_id="cus_ref", type=CaseType.QUESTION,
                                     subject=f"Vraag {n}", created_at=at, updated_at=at))
        await uow.commit()
    agent = api.headers(Role.AGENT)
    async with services.read_uow() as uow:
        oldest = await uow.cases.get("cas_ref000")
    assert oldest is not None
    for written in (oldest.reference, oldest.reference.lower(), f"#{oldest.reference}",
                    f"SW {oldest.number}"):
        found = await (await api.client.get("/api/cases", params={"reference": written},
                                            headers=agent)).json()
        assert [c["id"] for c in found["items"]] == ["cas_ref000"], written
    missing = await (await api.client.get("/api/cases?reference=SW-999999",
                                          headers=agent)).json()
    assert missing == {"items": [], "next_cursor": None}
    wrong = await api.client.get("/api/cases?reference=1001 OR 1=1", headers=agent)
    assert wrong.status == 422
    assert "reference" in (await wrong.json())["error"]["fields"]
