"""Bad input to every endpoint gets a 4xx with a reason in the one error format, never a 500."""

from __future__ import annotations

import re
from typing import Any

import pytest

from core.domain.workforce import Role
from tests.conftest import Api
from workers.web.app import build_api

ENDPOINTS = [(e.method, e.path) for e in build_api().endpoints]

HOSTILE_BODIES: list[Any] = [
    b"{not json", b"\xff\xfe\x00garbage", b"[]", b"null", b"42", b'"text"', b"{}",
    b'{"channel": "pigeon", "external_id": "x", "from": {"email": "a@b.nl"}}',
    b'{"channel": "email", "external_id": "", "from": {}}',
    b'{"channel": "email", "external_id": "x", "from": {"email": "a@b.nl"}, "extra": 1}',
    b'{"channel": "email", "external_id": "x", "from": {"email": "a@b.nl"},'
    b' "occurred_at": "yesterday"}',
    b'{"channel": "email", "external_id": "x", "from": {"email": "a@b.nl"},'
    b' "occurred_at": "2026-01-01T10:00:00"}',
    b'{"status": "exploded"}', b'{"other_id": 12}', b'{"priority": "urgentest"}',
    b'{"tags": ["<script>"]}', ("{" + '"a":' * 0 + '"x": "' + "y" * 3000 + '"}').encode(),
]
HOSTILE_QUERIES = ["", "?limit=0", "?limit=abc", "?cursor=%00%ff", "?cursor=bm90LWEtY3Vyc29y",
                   "?email=not-an-address", "?phone=abc", "?status=nope", "?q=a",
                   "?email=" + "a" * 400]


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "does-not-exist", path)


def assert_error(status: int, payload: Any) -> None:
    assert 400 <= status < 500, (status, payload)
    error = payload["error"]
    assert error["status"] == status and error["message"] and error["code"]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
async def test_every_endpoint_answers_garbage_with_a_4xx_and_a_reason(
        api: Api, method: str, path: str):
    for role in (None, Role.ADMIN):
        for body in HOSTILE_BODIES:
            response = await api.client.request(
                method, concrete(path), data=body, headers={
                    **api.headers(role), "Content-Type": "application/json"})
            if response.status < 400:
                continue  # e.g. GET endpoints that ignore a body
            assert_error(response.status, await response.json())
        for query in HOSTILE_QUERIES:
            response = await api.client.request(method, concrete(path) + query,
                                                headers=api.headers(role))
            if response.status >= 400:
                assert_error(response.status, await response.json())


async def test_validation_errors_name_each_field(api: Api):
    response = await api.client.post("/api/contacts", json={
        "channel": "pigeon", "external_id": "x", "from": {"email": "a@b.nl"},
        "occurred_at": "2026-01-01T10:00:00", "tags": ["ok", "not ok"]},
        headers=api.headers(Role.AGENT))
    assert response.status == 422
    fields = (await response.json())["error"]["fields"]
    assert {"channel", "occurred_at", "tags.1"} <= set(fields), fields


@pytest.mark.parametrize(("headers", "status"), [
    ({}, 401),
    ({"Authorization": "Bearer sb_not-a-real-token"}, 401),
    ({"Authorization": "Basic dXNlcjpwYXNz"}, 401),
    ({"Authorization": "Bearer "}, 401),
])
async def test_authentication_is_required(api: Api, headers: dict[str, str], status: int):
    response = await api.client.get("/api/cases", headers=headers)
    assert response.status == status
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert_error(status, await response.json())


async def test_wrong_content_type_unknown_route_wrong_method_and_huge_body(api: Api):
    auth = api.headers(Role.ADMIN)
    wrong_type = await api.client.post("/api/contacts", data="channel=email",
                                       headers={**auth, "Content-Type": "text/plain"})
    assert wrong_type.status == 415
    missing = await api.client.get("/api/nothing-here", headers=auth)
    assert_error(missing.status, await missing.json())
    assert missing.status == 404
    wrong_method = await api.client.delete("/api/contacts", headers=auth)
    assert wrong_method.status == 405
    assert_error(405, await wrong_method.json())
    huge = await api.client.post("/api/contacts", data=b"{" + b" " * 2_000_000 + b"}",
                                 headers={**auth, "Content-Type": "application/json"})
    assert huge.status == 413
    assert_error(413, await huge.json())


async def test_openapi_describes_every_endpoint(api: Api):
    response = await api.client.get("/api/openapi.json")
    document = await response.json()
    described = {(method.upper(), path) for path, ops in document["paths"].items()
                 for method in ops}
    assert described == set(ENDPOINTS)
    contact = document["paths"]["/api/contacts"]["post"]
    assert contact["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert {"202", "422", "401"} <= set(contact["responses"])


async def test_health_and_readiness(api: Api):
    assert (await api.client.get("/healthz")).status == 200
    ready = await api.client.get("/readyz")
    assert ready.status == 200
    assert (await ready.json())["checks"] == {"database": "ok", "bus": "ok"}
