"""What each CLI command does, as coroutines (the CLI parses, these act)."""

from __future__ import annotations

import asyncio
import getpass
import logging
import sys

from core.config import Settings
from core.domain.audit import Actor
from core.domain.errors import DomainError
from core.domain.workforce import Role
from core.storage import migrate as migrations
from core.storage.engine import build_engine
from workers import bootstrap, runtime
from workers import demo as demo_setup

log = logging.getLogger(__name__)


async def migrate(settings: Settings) -> int:
    engine = build_engine(settings.database_url.get_secret_value())
    try:
        await migrations.upgrade(engine)
    finally:
        await engine.dispose()
    print("database schema is up to date")
    return 0


async def _schema_ready(settings: Settings) -> bool:
    engine = build_engine(settings.database_url.get_secret_value())
    try:
        return await migrations.is_current(engine)
    finally:
        await engine.dispose()


async def serve(settings: Settings) -> int:
    if not await _schema_ready(settings):
        print("switchboard: the database schema is not current; run `switchboard migrate`")
        return 1
    stop = asyncio.Event()
    runtime.stop_on_signals(stop)

    def announce(url: str) -> None:
        print(f"Switchboard is running at {url}\n"
              f"  health:  {url}/healthz   readiness: {url}/readyz\n"
              f"  API:     {url}/api/openapi.json (send 'Authorization: Bearer <token>')\n"
              f"Stop with Ctrl-C.", flush=True)

    await runtime.serve(settings, stop=stop, ready=announce)
    return 0


async def worker(settings: Settings, name: str) -> int:
    if not await _schema_ready(settings):
        print("switchboard: the database schema is not current; run `switchboard migrate`")
        return 1
    def announce(management_url: str | None) -> None:
        where = (f"metrics and probes at {management_url}/metrics, /healthz, /readyz"
                 if management_url else "no metrics listener (SWITCHBOARD_METRICS_PORT unset)")
        print(f"Switchboard worker {name} is running; {where}. Stop with SIGTERM.",
              flush=True)

    await runtime.worker(settings, name, ready=announce)
    return 0


def command_line_actor() -> Actor:
    """Whoever runs a command on the server, as the audit log names them: by the operating
    system's user name, the only identity a shell has."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):  # a container user without a passwd entry
        who = "unknown"
    return Actor(id=None, name=f"command line ({who})", role=None)


async def create_token(settings: Settings, *, role: Role, agent_id: str | None,
                       name: str | None) -> int:
    async with bootstrap.build(settings) as services:
        token = await services.access.create_token(
            role=role, name=name or (agent_id or role.value), agent_id=agent_id,
            actor=command_line_actor())
    print(token)
    return 0


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("New password: ")
        if getpass.getpass("Again: ") != first:
            raise SystemExit("switchboard: the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


async def user(settings: Settings, action: str, username: str, *, role: str | None,
               agent_id: str | None) -> int:
    password = await asyncio.to_thread(_read_password)
    async with bootstrap.build(settings) as services:
        try:
            if action == "add":
                assert role is not None
                user_id = await services.access.create_user(
                    username=username, password=password, role=Role(role), agent_id=agent_id,
                    actor=command_line_actor())
                print(f"created {username} ({role}, {user_id})")
            else:
                await services.access.set_password(username, password,
                                                   actor=command_line_actor())
                print(f"new password set for {username}; their sessions ended")
        except DomainError as err:
            print(f"switchboard: {err}", file=sys.stderr)
            return 1
    return 0


async def demo(settings: Settings) -> int:
    async with bootstrap.build(settings) as services:
        report = await demo_setup.load(services)
    print(report)
    return 0
