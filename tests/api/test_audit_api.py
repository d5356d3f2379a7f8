"""The audit log through the API, on SQLite and PostgreSQL: every security-relevant or
data-changing action leaves exactly one entry naming who did it; supervisors, admins and
the read-only auditor read it (agents get 403); the CSV export is safe in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections import Counter
from typing import Any

from channels.voice.menu import DEMO_MENU
from channels.webforms.definitions import DEMO_FORMS
from core.domain.audit import Actor
from core.domain.workforce import Role
from tests.api.test_login import PASSWORD, log_in, page_csrf
from tests.conftest import Api
from workers.services import Services

RULES = {"default_queue": "q_audit", "rules": [
    {"id": "gold", "name": "Gold", "condition": 'segment == "gold"',
     "actions": {"queue": "q_audit"}}]}


async def entries(api: Api, role: Role = Role.SUPERVISOR, **query: str) -> list[dict[str, Any]]:
    response = await api.client.get("/api/audit", headers=api.headers(role),
                                    params={"limit": "200", **query})
    assert response.status == 200, await response.text()
    items: list[dict[str, Any]] = (await response.json())["items"]
    return items


async def ok(response: Any, status: int = 200) -> Any:
    assert response.status == status, await response.text()
    return await response.json() if status != 204 else None


async def test_every_listed_action_leaves_one_entry_naming_who_did_it(
        api: Api, services: Services) -> None:
    admin, supervisor, agent = (api.headers(r) for r in (Role.ADMIN, Role.SUPERVISOR,
                                                         Role.AGENT))
    c = api.client
    start = services.clock.now()  # after the fixture made its tokens (audited too)
    await services.access.create_user(username="sanne", password=PASSWORD,
                                      role=Role.SUPERVISOR)
    await services.access.set_password("sanne", PASSWORD + "!", actor=Actor(
        id=None, name="command line (root)", role=None))
    assert (await log_in(c, "sanne", "a wrong password, surely")).status == 401
    assert (await log_in(c, "sanne", PASSWORD + "!")).status == 303
    await c.post("/logout", data={"csrf": await page_csrf(c)}, allow_redirects=False)

    token = await ok(await c.post("/api/tokens", headers=admin,
                                  json={"role": "agent", "name": "CRM sync"}), 201)
    await ok(await c.delete(f"/api/tokens/{token['id']}", headers=admin), 204)
    assert (await c.get("/api/queues", headers={
        "Authorization": f"Bearer {token['token']}"})).status == 401
    await ok(await c.post("/api/teams", headers=supervisor,
                          json={"id": "t_audit", "name": "Audit"}), 201)
    await ok(await c.post("/api/queues", headers=supervisor,
                          json={"id": "q_audit", "name": "Audit"}), 201)
    await ok(await c.patch("/api/queues/q_audit", headers=supervisor,
                           json={"team": "t_audit"}))
    anna = await ok(await c.post("/api/agents", headers=admin, json={
        "name": "Anna", "username": "anna", "skills": {"billing": 2}}), 201)
    await ok(await c.patch(f"/api/agents/{anna['id']}", headers=supervisor,
                           json={"skills": {"billing": 4}, "teams": ["t_audit"]}))
    await ok(await c.patch(f"/api/agents/{anna['id']}", headers=supervisor,
                           json={"active": False}))
    await ok(await c.patch(f"/api/agents/{anna['id']}", headers=supervisor,
                           json={"active": True}))
    saved = await ok(await c.put("/api/routing/rules", headers=supervisor,
                                 json={**RULES, "comment": "first"}), 201)
    await ok(await c.post("/api/routing/rules/publish", headers=supervisor,
                          json={"version": saved["version"]}))
    second = await ok(await c.put("/api/routing/rules", headers=supervisor,
                                  json={**RULES, "comment": "second"}), 201)
    await ok(await c.post("/api/routing/rules/publish", headers=supervisor,
                          json={"version": second["version"]}))
    await ok(await c.post("/api/routing/rules/rollback", headers=supervisor, json={}))
    await ok(await c.put("/api/voice/menu", headers=supervisor,
                         json=DEMO_MENU.model_dump(mode="json")))
    await ok(await c.put("/api/forms/callback", headers=supervisor,
                         json=DEMO_FORMS[2].model_dump(mode="json")))

    jan = await ok(await c.post("/api/contacts", headers=agent, json={
        "channel": "email", "external_id": "<a1@example.nl>",
        "from": {"email": "jan@example.nl"}, "body": "Hallo"}), 202)
    other = await ok(await c.post("/api/contacts", headers=agent, json={
        "channel": "phone", "external_id": "CA-audit-1",
        "from": {"phone": "+31612345678"}, "summary": "Belde"}), 202)
    await ok(await c.patch(f"/api/customers/{jan['customer_id']}", headers=agent,
                           params={"contact": jan["contact_id"]},
                           json={"display_name": "Jan de Vries", "language": "nl"}))
    assert (await c.patch(f"/api/customers/{jan['customer_id']}", headers=agent,
                          params={"contact": other["contact_id"]},
                          json={"display_name": "Someone"})).status == 422
    await ok(await c.put(f"/api/customers/{jan['customer_id']}/surveys/opt-out",
                         headers=agent, json={"opted_out": True}))
    merge = await ok(await c.post(f"/api/customers/{jan['customer_id']}/merge",
                                  headers=supervisor,
                                  json={"other_id": other["customer_id"]}))
    await ok(await c.post(f"/api/merges/{merge['id']}/undo", headers=supervisor))

    log = await entries(api, **{"from": start.isoformat()})
    assert Counter(e["action"] for e in log) == {
        "user.created": 1, "user.password_changed": 1, "login.failed": 1,
        "login.succeeded": 1, "logout": 1, "token.created": 1, "token.revoked": 1,
        "team.created": 1, "queue.created": 1, "queue.changed": 1, "agent.created": 1,
        "agent.changed": 1, "agent.suspended": 1, "agent.reinstated": 1,
        "routing.rules_saved": 2, "routing.rules_published": 2,
        "routing.rules_rolled_back": 1, "ivr.menu_changed": 1, "form.changed": 1,
        "customer.edited": 2, "customer.merged": 1, "customer.unmerged": 1}
    by = {e["action"]: e for e in log}
    names = {role: f"test {role.value}" for role in Role}
    for action, role in (("token.created", Role.ADMIN), ("agent.created", Role.ADMIN),
                         ("agent.suspended", Role.SUPERVISOR),
                         ("routing.rules_rolled_back", Role.SUPERVISOR),
                         ("customer.merged", Role.SUPERVISOR),
                         ("customer.edited", Role.AGENT)):
        assert (by[action]["actor"]["name"], by[action]["actor"]["role"]) == (
            names[role], role.value), action
        assert by[action]["request_id"]
    sanne = {"name": "sanne", "role": "supervisor"}
    for action in ("login.succeeded", "logout"):
        assert {k: by[action]["actor"][k] for k in ("name", "role")} == sanne
    assert by["login.failed"]["actor"] == {"id": None, "name": "sanne", "role": None}
    assert by["login.failed"]["details"]["username"] == "sanne"
    assert by["user.password_changed"]["actor"]["name"] == "command line (root)"
    assert by["agent.changed"]["details"]["changes"]["skills"] == {
        "from": {"billing": 2}, "to": {"billing": 4}}
    edited, opted_out = reversed([e for e in log if e["action"] == "customer.edited"])
    assert (edited["customer_id"], edited["contact_id"]) == (jan["customer_id"],
                                                             jan["contact_id"])
    assert edited["details"] == {"fields": ["display_name", "language"], "via": "api"}
    assert opted_out["details"]["fields"] == ["survey_opt_out"]
    assert "Jan de Vries" not in str(log)  # the log names fields, not personal values
    assert PASSWORD not in str(log) and token["token"] not in str(log)
    assert by["customer.merged"]["subject"] == {"kind": "customer",
                                                "id": other["customer_id"]}
    # Both sides of the merge find it.
    for customer in (jan["customer_id"], other["customer_id"]):
        assert {e["action"] for e in await entries(api, customer=customer)} >= {
            "customer.merged", "customer.unmerged"}


async def test_agents_cannot_read_the_log_and_auditors_read_but_change_nothing(
        api: Api) -> None:
    c = api.client
    assert (await c.get("/api/audit", headers=api.headers(Role.AGENT))).status == 403
    assert (await c.get("/api/audit.csv", headers=api.headers(Role.AGENT))).status == 403
    assert (await c.get("/api/audit")).status == 401
    auditor = api.headers(Role.AUDITOR)
    await entries(api, Role.AUDITOR)
    assert (await c.get("/api/reports/summary", headers=auditor)).status == 200
    for method, path, body in (("POST", "/api/teams", {"id": "t", "name": "T"}),
                               ("GET", "/api/queues", None),
                               ("GET", "/api/customers?q=jan", None),
                               ("POST", "/api/contacts", {})):
        response = await c.request(method, path, headers=auditor, json=body)
        assert response.status == 403, (method, path)


async def test_the_log_is_filtered_paged_and_exported_formula_safe(
        api: Api, services: Services) -> None:
    c = api.client
    for n in range(2):
        await log_in(c, f"=HYPERLINK(\"http://evil.example/{n}\")", "nope")
    first = await ok(await c.get("/api/audit", headers=api.headers(Role.SUPERVISOR),
                                 params={"action": "login.failed", "limit": "1"}))
    rest = await ok(await c.get("/api/audit", headers=api.headers(Role.SUPERVISOR),
                                params={"action": "login.failed", "limit": "1",
                                        "cursor": first["next_cursor"]}))
    assert [len(first["items"]), len(rest["items"]), rest["next_cursor"]] == [1, 1, None]
    assert first["items"][0]["actor"]["name"].endswith('/1")')  # newest first
    assert (await c.get("/api/audit", headers=api.headers(Role.ADMIN),
                        params={"from": "2030-01-02", "to": "2030-01-01"})).status == 422
    assert await entries(api, action="logout") == []

    response = await c.get("/api/audit.csv", headers=api.headers(Role.AUDITOR),
                           params={"subject": "user"})
    assert response.status == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO((await response.read()).decode("utf-8-sig"))))
    assert rows[0][:6] == ["id", "at", "actor_id", "actor_name", "actor_role", "action"]
    assert [r[3] for r in rows[1:]] == [f"'=HYPERLINK(\"http://evil.example/{n}\")"
                                        for n in range(2)]
