"""Logging in to the desktop and console: a session cookie that scripts cannot read, that
other sites cannot use, and that ends the moment the user logs out."""

from __future__ import annotations

import re

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from core.domain.workforce import Role
from tests.conftest import Api
from workers.services import Services

PASSWORD = "correct horse battery"


async def login_form(client: TestClient, path: str = "/login") -> str:
    response = await client.get(path)
    assert response.status == 200
    page = await response.text()
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


async def log_in(client: TestClient, username: str, password: str = PASSWORD, *,
                 next_path: str = "") -> aiohttp.ClientResponse:
    token = await login_form(client)
    return await client.post("/login", data={"username": username, "password": password,
                                             "csrf": token, "next": next_path},
                             allow_redirects=False)


@pytest.fixture
async def supervisor(services: Services) -> str:
    await services.access.create_user(username="sanne", password=PASSWORD,
                                      role=Role.SUPERVISOR)
    return "sanne"


async def test_logging_in_sets_a_cookie_scripts_and_other_sites_cannot_use(
        api: Api, supervisor: str) -> None:
    response = await log_in(api.client, supervisor)
    assert response.status == 303
    assert response.headers["Location"] == "/console"
    cookie = next(h for h in response.headers.getall("Set-Cookie")
                  if h.startswith("sb_session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "sbs_" in cookie

    me = await api.client.get("/api/agents")  # the cookie alone authenticates reads
    assert me.status == 200, await me.text()


async def test_a_wrong_password_or_unknown_user_says_the_same_and_sets_nothing(
        api: Api, supervisor: str) -> None:
    wrong = await log_in(api.client, supervisor, "not the password at all")
    nobody = await log_in(api.client, "nobody", PASSWORD)
    for response in (wrong, nobody):
        assert response.status == 401
        assert "klopt niet" in await response.text()
        assert not any(h.startswith("sb_session=")
                       for h in response.headers.getall("Set-Cookie", []))
    assert (await api.client.get("/api/agents")).status == 401


async def test_the_login_form_cannot_be_posted_from_another_site(
        api: Api, supervisor: str) -> None:
    # Without the form's own token (which another site cannot read) nothing happens.
    response = await api.client.post("/login", data={"username": supervisor,
                                                     "password": PASSWORD, "csrf": "guess"},
                                     allow_redirects=False)
    assert response.status == 403
    assert not any(h.startswith("sb_session=") for h in response.headers.getall("Set-Cookie", []))


async def test_changes_through_the_api_need_the_pages_csrf_token(
        api: Api, supervisor: str) -> None:
    await log_in(api.client, supervisor)
    body = {"id": "q_klachten", "name": "Klachten"}
    forged = await api.client.post("/api/queues", json=body)
    assert forged.status == 403
    assert "X-CSRF-Token" in await forged.text()

    token = await page_csrf(api.client)
    allowed = await api.client.post("/api/queues", json=body, headers={"X-CSRF-Token": token})
    assert allowed.status == 201, await allowed.text()


async def page_csrf(client: TestClient) -> str:
    response = await client.get("/api/me")
    assert response.status == 200, await response.text()
    token: str = (await response.json())["csrf_token"]
    return token


async def test_only_paths_on_this_site_are_followed_after_login(
        api: Api, supervisor: str) -> None:
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        response = await log_in(api.client, supervisor, next_path=evil)
        assert response.headers["Location"] == "/console", evil
    response = await log_in(api.client, supervisor, next_path="/console?tab=rules")
    assert response.headers["Location"] == "/console?tab=rules"


async def test_logging_out_ends_the_session_at_once(api: Api, supervisor: str) -> None:
    await log_in(api.client, supervisor)
    token = await page_csrf(api.client)
    stolen = api.client.session.cookie_jar.filter_cookies(api.client.make_url("/"))["sb_session"]
    out = await api.client.post("/logout", data={"csrf": token}, allow_redirects=False)
    assert out.status == 303
    assert (await api.client.get("/api/agents")).status == 401
    # The old cookie value, replayed, is dead too.
    replay = await api.client.get("/api/agents", cookies={"sb_session": stolen.value})
    assert replay.status == 401


async def test_repeated_failures_are_slowed_down(api: Api, supervisor: str) -> None:
    statuses = [(await log_in(api.client, supervisor, "wrong password!")).status
                for _ in range(11)]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429
    # Even the right password waits now: guessing cannot continue at full speed.
    assert (await log_in(api.client, supervisor)).status == 429


async def test_a_new_password_ends_every_session(api: Api, services: Services,
                                                 supervisor: str) -> None:
    await log_in(api.client, supervisor)
    await services.access.set_password(supervisor, "another long password")
    assert (await api.client.get("/api/agents")).status == 401
    assert (await log_in(api.client, supervisor, "another long password")).status == 303


@pytest.fixture
async def agent_login(api: Api, services: Services) -> str:
    created = await api.client.post("/api/agents", headers=api.headers(Role.ADMIN),
                                    json={"name": "Chris Bakker", "username": "chris"})
    assert created.status == 201, await created.text()
    agent_id = (await created.json())["id"]
    await services.access.create_user(username="chris", password=PASSWORD, role=Role.AGENT,
                                      agent_id=agent_id)
    assert (await log_in(api.client, "chris")).headers["Location"] == "/desk"
    return str(agent_id)


async def test_the_desktop_socket_opens_only_from_this_sites_pages(
        api: Api, agent_login: str) -> None:
    own = str(api.client.make_url("/")).rstrip("/")
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await api.client.ws_connect("/agent/ws", headers={"Origin": "https://evil.example"})
    assert refused.value.status == 403
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await api.client.ws_connect("/agent/ws")  # no Origin: not a browser page of ours
    ws = await api.client.ws_connect("/agent/ws", headers={"Origin": own})
    hello = await ws.receive_json(timeout=5)
    assert hello["type"] == "hello"
    assert hello["agent"]["id"] == agent_login
    await ws.close()


async def test_logging_out_closes_the_desktop_opened_with_that_session(
        api: Api, agent_login: str) -> None:
    own = str(api.client.make_url("/")).rstrip("/")
    ws = await api.client.ws_connect("/agent/ws", headers={"Origin": own})
    assert (await ws.receive_json(timeout=5))["type"] == "hello"
    token = await page_csrf(api.client)
    await api.client.post("/logout", data={"csrf": token}, allow_redirects=False)
    closing = await ws.receive(timeout=5)
    assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert ws.close_code == 4401


async def test_an_admin_makes_tokens_over_the_api_and_nobody_else_can(api: Api) -> None:
    body = {"role": "supervisor", "name": "wallboard screen"}
    for role in (Role.AGENT, Role.SUPERVISOR):
        refused = await api.client.post("/api/tokens", json=body, headers=api.headers(role))
        assert refused.status == 403
    made = await api.client.post("/api/tokens", json=body, headers=api.headers(Role.ADMIN))
    assert made.status == 201
    token = (await made.json())["token"]
    works = await api.client.get("/api/agents", headers={"Authorization": f"Bearer {token}"})
    assert works.status == 200


async def test_logging_out_closes_the_wallboard_opened_with_that_session(
        api: Api, supervisor: str) -> None:
    await log_in(api.client, supervisor)
    own = str(api.client.make_url("/")).rstrip("/")
    ws = await api.client.ws_connect("/supervisor/ws", headers={"Origin": own})
    assert (await ws.receive_json(timeout=5))["type"] == "snapshot"
    token = await page_csrf(api.client)
    await api.client.post("/logout", data={"csrf": token}, allow_redirects=False)
    while True:  # boards may still be on their way; then the close
        message = await ws.receive(timeout=5)
        if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            break
    assert ws.close_code == 4401


async def test_suspending_an_agent_shuts_every_door_at_once(
        api: Api, services: Services, agent_login: str) -> None:
    own = str(api.client.make_url("/")).rstrip("/")
    token = await services.access.create_token(role=Role.AGENT, name="chris",
                                               agent_id=agent_login)
    ws = await api.client.ws_connect("/agent/ws", headers={"Origin": own})
    assert (await ws.receive_json(timeout=5))["type"] == "hello"

    suspended = await api.client.patch(f"/api/agents/{agent_login}",
                                       headers=api.headers(Role.SUPERVISOR),
                                       json={"active": False})
    assert suspended.status == 200
    while True:
        message = await ws.receive(timeout=5)
        if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
            break
    assert ws.close_code == 4401
    assert (await api.client.get("/api/me")).status == 401  # the session cookie
    bearer = await api.client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert bearer.status == 401
    assert (await log_in(api.client, "chris")).status == 401  # and logging in again

    await api.client.patch(f"/api/agents/{agent_login}",
                           headers=api.headers(Role.SUPERVISOR), json={"active": True})
    assert (await log_in(api.client, "chris")).status == 303
