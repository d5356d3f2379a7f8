"""The ``switchboard`` command."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from core.config import Settings
from core.domain.workforce import Role
from workers import logs

DESCRIPTION = """Switchboard: one customer record across e-mail, phone, chat and web forms.

Configuration comes from SWITCHBOARD_* environment variables and/or the TOML file named by
SWITCHBOARD_CONFIG (see docs/configuration.md)."""


def parser() -> argparse.ArgumentParser:
    from workers.runtime import WORKER_HELP

    top = argparse.ArgumentParser(prog="switchboard", description=DESCRIPTION,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("serve", help="run the HTTP API and every worker in one process",
                        description="Run the HTTP API on SWITCHBOARD_HTTP_HOST:"
                                    "SWITCHBOARD_HTTP_PORT together with every worker.")
    worker = commands.add_parser(
        "worker", help="run one kind of worker (to scale out over Redis)",
        description="Run one worker kind on its own; start several processes against the "
                    "same PostgreSQL and Redis to scale out.\n\n" + "\n".join(
                        f"  {name:10} {text}" for name, text in WORKER_HELP.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    worker.add_argument("name", choices=sorted(WORKER_HELP), metavar="NAME",
                        help="one of: " + ", ".join(sorted(WORKER_HELP)))
    commands.add_parser("migrate", help="create or upgrade the database schema",
                        description="Apply every Alembic migration not yet applied.")
    token = commands.add_parser("token", help="manage API tokens")
    token_cmd = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = token_cmd.add_parser("create", help="print a new API token",
                                  description="Create an API token and print it once; only a "
                                              "hash is stored.")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--agent", metavar="ID", help="the agent this token acts as")
    create.add_argument("--name", metavar="N", help="who or what uses the token")
    user = commands.add_parser("user", help="manage logins for the desktop and console")
    user_cmd = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    add_user = user_cmd.add_parser(
        "add", help="create a login", description="Create a user who logs in to the agent "
        "desktop (role agent, with --agent) or the supervisor console. The password is read "
        "from standard input (asked for when it is a terminal), never from the command line.")
    add_user.add_argument("username")
    add_user.add_argument("--role", required=True,
                          choices=[r.value for r in Role if r is not Role.AUDITOR])
    add_user.add_argument("--agent", metavar="ID", help="the agent this login is (role agent)")
    password = user_cmd.add_parser(
        "password", help="set a new password (ends the user's sessions)",
        description="Set a user's password from standard input; their sessions end.")
    password.add_argument("username")
    bench = commands.add_parser(
        "bench", help="measure performance (routing decision time, assignments per second)",
        description="Benchmarks; quote their output together with the command line.")
    from workers.bench import add_arguments

    add_arguments(bench)
    commands.add_parser("demo", help="load the demo set-up (agents, queues, customers)",
                        description="Load demo teams, queues, agents, users and a customer "
                                    "with history; safe to run again.")
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as err:
        print(f"switchboard: invalid configuration:\n{err}", file=sys.stderr)
        return 2
    logs.configure(settings.log_level, "text" if sys.stderr.isatty() else settings.log_format,
                   secrets=settings.secret_values())
    return asyncio.run(_run(args, settings))


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    from workers import commands

    if args.command == "serve":
        return await commands.serve(settings)
    if args.command == "worker":
        return await commands.worker(settings, args.name)
    if args.command == "migrate":
        return await commands.migrate(settings)
    if args.command == "token":
        return await commands.create_token(settings, role=Role(args.role), agent_id=args.agent,
                                           name=args.name)
    if args.command == "user":
        return await commands.user(settings, args.user_command, args.username,
                                   role=getattr(args, "role", None),
                                   agent_id=getattr(args, "agent", None))
    if args.command == "demo":
        return await commands.demo(settings)
    if args.command == "bench":
        from workers.bench import run

        return await run(args)
    raise AssertionError(args.command)


if __name__ == "__main__":
    raise SystemExit(main())
