"""Building the async engine for SQLite (embedded default) or PostgreSQL (production).

SQLite runs in WAL mode so readers never block the writer. Write transactions start with
``BEGIN IMMEDIATE``: a deferred transaction that reads first and writes later can fail with
SQLITE_BUSY without waiting when another writer committed in between, which would surface
as a spurious error under concurrency. pysqlite's own transaction handling is disabled for
that (the SQLAlchemy-documented recipe), so we emit BEGIN ourselves.

Statements go through :mod:`core.storage.sqlite_driver`: one thread hop per statement
instead of aiosqlite's four, because a writer holds SQLite's write lock for every hop of
its transaction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from core.storage.sqlite_driver import one_hop_dbapi

WRITE = {"sqlite_begin": "BEGIN IMMEDIATE"}


def build_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, echo=echo)
    return create_async_engine(
        url, echo=echo, pool_size=10, max_overflow=10, pool_pre_ping=True,
        connect_args={"server_settings": {"application_name": "switchboard"}},
    )


def _sqlite_engine(url: str, *, echo: bool) -> AsyncEngine:
    parsed = make_url(url)
    database = parsed.database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30},
                                 module=one_hop_dbapi())

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, see module doc
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql(connection.get_execution_options().get("sqlite_begin", "BEGIN"))

    return engine


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"
