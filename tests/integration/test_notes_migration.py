"""The migration that gives internal notes a table moves the notes a running system kept
in configuration documents: on a real SQLite file and a real PostgreSQL database, migrated
to the revision before it, filled the way the old API stored notes, then upgraded (and
downgraded back)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from core.storage.engine import build_engine
from core.storage.migrate import alembic_config, upgrade
from core.storage.notes import SqlNotes
from core.storage.tables import cases, config_documents, customers
from tests.conftest import POSTGRES_ADMIN_URL, _admin, unavailable

AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def _revisions() -> tuple[str, str]:
    """(the notes migration, the one before it), found by what the migration is about, so
    a renumbering of the chain does not break the test."""
    script = ScriptDirectory.from_config(alembic_config())
    for revision in script.walk_revisions():
        if (revision.doc or "").startswith("case_notes"):
            down = revision.down_revision
            assert isinstance(down, str)
            return revision.revision, down
    raise AssertionError("no case_notes migration")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def empty_engine(request: pytest.FixtureRequest, tmp_path: Path
                       ) -> AsyncIterator[AsyncEngine]:
    if request.param == "sqlite":
        engine = build_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
        try:
            yield engine
        finally:
            await engine.dispose()
        return
    name = f"switchboard_notes_{uuid.uuid4().hex[:10]}"
    try:
        await _admin(f'CREATE DATABASE "{name}"')
    except (OSError, sa.exc.SQLAlchemyError) as err:
        unavailable(f"PostgreSQL at {POSTGRES_ADMIN_URL}", err)
    engine = build_engine(POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    try:
        yield engine
    finally:
        await engine.dispose()
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _note(note_id: str, text: str, *, agent_id: str | None, minute: int) -> dict[str, object]:
    return {"id": note_id, "case_id": "ignored", "text": text, "author": "Anna",
            "agent_id": agent_id, "created_at": AT.replace(minute=minute).isoformat()}


async def _downgrade(engine: AsyncEngine, revision: str) -> None:
    config = alembic_config()

    def run(connection: sa.Connection) -> None:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)


async def test_notes_kept_in_documents_move_into_their_table_and_back(
        empty_engine: AsyncEngine) -> None:
    notes_revision, before = _revisions()
    await upgrade(empty_engine, before)
    async with empty_engine.begin() as conn:
        await conn.execute(customers.insert().values(
            id="cus_1", kind="person", status="active", created_at=AT, updated_at=AT))
        await conn.execute(cases.insert().values(
            id="cas_1", number=1001, customer_id="cus_1", type="question", status="open",
            priority=2, tags=[], created_at=AT, updated_at=AT))
        await conn.execute(config_documents.insert(), [
            {"key": "case-notes:cas_1", "revision": 3, "updated_by": "Anna", "updated_at": AT,
             "document": {"notes": [
                 _note("note_a", "Belt morgen terug.", agent_id="agt_anna", minute=31),
                 _note("note_b", "Bestelling 4411.", agent_id=None, minute=32),
                 _note("note_a", "the same id again", agent_id="agt_anna", minute=33),
                 {"id": "note_c", "text": "no time"}]}},
            # A case that is gone: its notes have nothing to belong to.
            {"key": "case-notes:cas_gone", "revision": 1, "updated_by": "Anna",
             "updated_at": AT, "document": {"notes": [
                 _note("note_d", "lost", agent_id=None, minute=34)]}},
            {"key": "desk.scripts", "revision": 1, "updated_by": "Sanne", "updated_at": AT,
             "document": {"scripts": []}}])

    await upgrade(empty_engine, notes_revision)

    async with empty_engine.connect() as conn:
        moved = await SqlNotes(conn).for_case("cas_1", limit=10)
        left = (await conn.execute(sa.select(config_documents.c.key))).scalars().all()
    assert [(n.id, n.text, n.author, n.author_id, n.agent_id) for n in moved] == [
        ("note_a", "Belt morgen terug.", "Anna", "agt_anna", "agt_anna"),
        ("note_b", "Bestelling 4411.", "Anna", "name:Anna", None)]
    assert [n.created_at for n in moved] == [AT.replace(minute=31), AT.replace(minute=32)]
    assert left == ["desk.scripts"]

    await _downgrade(empty_engine, before)
    async with empty_engine.connect() as conn:
        restored = (await conn.execute(sa.select(config_documents.c.document).where(
            config_documents.c.key == "case-notes:cas_1"))).scalar_one()
    assert [(n["id"], n["text"]) for n in restored["notes"]] == [
        ("note_a", "Belt morgen terug."), ("note_b", "Bestelling 4411.")]
