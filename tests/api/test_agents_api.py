"""Managing agents through the API: who they are, what they can do, where they work."""

from __future__ import annotations

from core.domain.workforce import Role
from tests.conftest import Api


async def create(api: Api, **body: object) -> dict[str, object]:
    response = await api.client.post("/api/agents", headers=api.headers(Role.ADMIN),
                                     json={"name": "Chris Bakker", "username": "chris", **body})
    assert response.status == 201, await response.text()
    created: dict[str, object] = await response.json()
    return created


async def test_create_read_and_change_an_agent(api: Api) -> None:
    created = await create(api, tier=2, skills={"complaints": 4, "nl": 5},
                           capacity={"email": 8, "phone": 1})
    assert created["tier"] == 2
    assert created["presence"] == "offline"
    # Channels not named keep the default capacity.
    assert created["capacity"] == {"email": 8, "phone": 1, "chat": 3, "webform": 5}
    agent_id = created["id"]

    patched = await api.client.patch(f"/api/agents/{agent_id}",
                                      headers=api.headers(Role.SUPERVISOR),
                                      json={"skills": {"complaints": 5}, "presence": "available"})
    assert patched.status == 200, await patched.text()
    body = await patched.json()
    assert body["skills"] == {"complaints": 5}
    assert body["presence"] == "available"

    listed = await (await api.client.get("/api/agents",
                                         headers=api.headers(Role.SUPERVISOR))).json()
    assert [a["username"] for a in listed["items"]] == ["chris"]
    read = await (await api.client.get(f"/api/agents/{agent_id}",
                                       headers=api.headers(Role.AGENT))).json()
    assert read["skills"] == {"complaints": 5}


async def test_a_taken_username_is_a_conflict(api: Api) -> None:
    await create(api)
    again = await api.client.post("/api/agents", headers=api.headers(Role.ADMIN),
                                  json={"name": "Other Chris", "username": "chris"})
    assert again.status == 409
    assert "taken" in (await again.json())["error"]["message"]


async def test_unknown_queues_and_teams_are_named(api: Api) -> None:
    response = await api.client.post("/api/agents", headers=api.headers(Role.ADMIN), json={
        "name": "Eva", "username": "eva", "queues": ["q_nowhere"], "teams": ["t_none"]})
    assert response.status == 422
    fields = (await response.json())["error"]["fields"]
    assert set(fields) == {"queues[0]", "teams[0]"}


async def test_only_admins_create_and_only_supervisors_change(api: Api) -> None:
    created = await create(api)
    for role in (Role.AGENT, Role.SUPERVISOR):
        response = await api.client.post("/api/agents", headers=api.headers(role),
                                         json={"name": "X", "username": f"x{role.value}"})
        assert response.status == 403, role
    response = await api.client.patch(f"/api/agents/{created['id']}",
                                      headers=api.headers(Role.AGENT), json={"tier": 2})
    assert response.status == 403
