"""Behind a reverse proxy: the client's address and scheme come from X-Forwarded-* only when
the connection comes from a configured proxy; from anyone else those headers change nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from channels.webforms import catalogue
from channels.webforms.definitions import DEMO_FORMS
from tests.support.mail import mail_settings
from workers import bootstrap
from workers.web.app import build_app


@pytest.fixture
def trusted(request: pytest.FixtureRequest) -> tuple[str, ...]:
    return tuple(request.param)


@pytest.fixture
async def client(database_url: str, trusted: tuple[str, ...]) -> AsyncIterator[TestClient]:
    settings = mail_settings(database_url, trusted_proxies=trusted)
    async with bootstrap.build(settings) as services:
        async with services.uow() as uow:
            for form in DEMO_FORMS:
                await catalogue.save(uow, form, by="test", at=services.clock.now())
            await uow.commit()
        test_client = TestClient(TestServer(build_app(services)))
        await test_client.start_server()
        try:
            yield test_client
        finally:
            await test_client.close()


async def flood(client: TestClient) -> list[int]:
    """Twelve callback requests, each claiming to come from another client."""
    statuses = []
    for n in range(12):
        response = await client.post("/forms/callback", data={
            "name": f"Klant {n}", "phone": "0612345678", "when": "morning"},
            headers={"X-Forwarded-For": f"203.0.113.{n + 1}"})
        statuses.append(response.status)
    return statuses


@pytest.mark.parametrize("trusted", [["127.0.0.1"]], indirect=True)
async def test_behind_our_proxy_each_client_is_counted_on_its_own(client: TestClient) -> None:
    assert await flood(client) == [200] * 12


@pytest.mark.parametrize("trusted", [[], ["10.0.0.0/8"]], indirect=True)
async def test_forwarded_headers_from_anyone_else_are_not_believed(client: TestClient) -> None:
    # Without a proxy configured, or from an address that is not one, the headers are
    # just text: the one real client is limited after ten.
    statuses = await flood(client)
    assert statuses[:10] == [200] * 10 and statuses[10:] == [429, 429]


@pytest.mark.parametrize("trusted", [["127.0.0.0/8"]], indirect=True)
async def test_https_at_the_proxy_makes_the_session_cookie_secure(client: TestClient) -> None:
    page = await client.get("/login", headers={"X-Forwarded-For": "203.0.113.9",
                                               "X-Forwarded-Proto": "https"})
    assert "Secure" in page.headers["Set-Cookie"]


@pytest.mark.parametrize("trusted", [["10.0.0.0/8"]], indirect=True)
async def test_a_claimed_https_from_elsewhere_changes_nothing(client: TestClient) -> None:
    page = await client.get("/login", headers={"X-Forwarded-For": "203.0.113.9",
                                               "X-Forwarded-Proto": "https"})
    assert "Secure" not in page.headers["Set-Cookie"]
