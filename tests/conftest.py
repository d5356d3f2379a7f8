"""Shared fixtures: databases (SQLite, PostgreSQL), settings, services and an API client.

PostgreSQL and Redis are real servers. Under ``CI=true`` a missing server fails the run;
elsewhere the tests that need it are skipped with the reason shown (``-ra``).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient, TestServer

from core.config import Settings
from core.domain.workforce import Role
from core.storage.engine import build_engine
from core.storage.migrate import upgrade
from core.storage.tables import metadata
from workers import bootstrap
from workers.services import Services
from workers.web.app import build_app

pytest_plugins = ["tests.support.dovecot"]

IN_CI = os.environ.get("CI") == "true"
POSTGRES_ADMIN_URL = os.environ.get(
    "SWITCHBOARD_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("SWITCHBOARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def unavailable(what: str, err: BaseException) -> None:
    """Fail under CI (the service must be there), skip visibly elsewhere."""
    message = f"{what} is not reachable: {type(err).__name__}: {err}"
    if IN_CI:
        pytest.fail(message + " (CI=true requires it)")
    pytest.skip(message)


async def _migrated(url: str) -> None:
    engine = build_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "switchboard.db"
    asyncio.run(_migrated(f"sqlite+aiosqlite:///{path}"))
    return path


async def _admin(statement: str) -> None:
    # A fresh engine per call: each asyncio.run() has its own loop, and asyncpg
    # connections cannot cross loops.
    admin = build_engine(POSTGRES_ADMIN_URL)
    try:
        async with admin.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(sa.text(statement))
    finally:
        await admin.dispose()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh, migrated database for this test session; dropped at the end."""
    name = f"switchboard_test_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, sa.exc.SQLAlchemyError) as err:
        unavailable(f"PostgreSQL at {POSTGRES_ADMIN_URL}", err)
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        asyncio.run(_migrated(url))
        yield url
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _truncate(url: str) -> None:
    engine = build_engine(url)
    try:
        async with engine.begin() as conn:
            # The audit log refuses TRUNCATE by trigger (migration 0010); a superuser may
            # have triggers skipped for this one transaction, which is what a test reset is.
            await conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
            names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
            await conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test that uses this runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return sqlite_url(request, tmp_path)
    url: str = request.getfixturevalue("postgres_database")
    asyncio.run(_truncate(url))
    return url


def sqlite_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    template: Path = request.getfixturevalue("sqlite_template")
    path = tmp_path / "switchboard.db"
    shutil.copyfile(template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, redis_url=None, http_port=0,
                    log_format="text")


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    async with bootstrap.build(settings) as built:
        yield built


class Api:
    """A real HTTP client on a real server, with one token per role."""

    def __init__(self, client: TestClient, tokens: dict[Role, str]) -> None:
        self.client = client
        self.tokens = tokens

    def headers(self, role: Role | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}


@pytest.fixture
async def api(services: Services) -> AsyncIterator[Api]:
    server = TestServer(build_app(services))
    client = TestClient(server)
    await client.start_server()
    tokens = {role: await services.access.create_token(role=role, name=f"test {role.value}")
              for role in Role}
    try:
        yield Api(client, tokens)
    finally:
        await client.close()
