"""Running the service: the HTTP server and the workers, with a graceful shutdown.

Shutdown drains, then cancels: on SIGTERM/SIGINT the HTTP site stops accepting, workers
finish the batch in hand (up to ``drain_timeout_s``), then whatever is left is cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable

from aiohttp import web

from core.config import Settings
from workers import bootstrap
from workers.mail_workers import run_mail_delivery, run_mail_intake
from workers.management import management_listener
from workers.privacy import run_privacy
from workers.relay import OutboxRelay
from workers.routing_workers import (
    run_dispatcher,
    run_notifier,
    run_router,
    run_sla_follower,
    run_sla_timer,
)
from workers.services import Services
from workers.surveys import run_surveys
from workers.web.app import build_app

log = logging.getLogger(__name__)

Worker = Callable[[Services, asyncio.Event], Awaitable[None]]


async def run_relay(services: Services, stop: asyncio.Event) -> None:
    relay = OutboxRelay(services.engine, services.bus, services.clock,
                        signal=services.outbox_signal,
                        batch_size=services.settings.outbox_batch_size,
                        on_published=services.metrics.published)
    await relay.run(stop)


async def run_sla(services: Services, stop: asyncio.Event) -> None:
    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(run_sla_follower(services, stop), name="sla-follower")
        tasks.create_task(run_sla_timer(services, stop), name="sla-timer")


WORKERS: dict[str, Worker] = {
    "relay": run_relay,
    "router": run_router,
    "dispatcher": run_dispatcher,
    "sla": run_sla,
    "notifier": run_notifier,
    "mail-intake": run_mail_intake,
    "mail-delivery": run_mail_delivery,
    "surveys": run_surveys,
    "privacy": run_privacy,
}
WORKER_HELP = {
    "relay": "moves committed events from the database outbox onto the event bus",
    "router": "classifies every new case, runs the routing rules and queues the work",
    "dispatcher": "offers queued work to eligible agents and expires unanswered offers",
    "sla": "keeps SLA clocks in step with cases and fires warnings and breaches on time",
    "notifier": "pushes offers, presence changes and SLA alerts to connected desktops",
    "mail-intake": "takes mail in from every configured IMAP mailbox (IDLE or polling)",
    "mail-delivery": "sends queued e-mail (replies, acknowledgements) with retries",
    "surveys": "asks customers how we did once their case is resolved (e-mail link, chat)",
    "privacy": "finishes interrupted erasures and applies the retention terms",
}


def stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)


async def run_workers(services: Services, names: list[str], stop: asyncio.Event) -> None:
    running = services.metrics.workers_running
    for name in names:
        running.labels(name).set(1)
    try:
        async with asyncio.TaskGroup() as group:
            for name in names:
                group.create_task(
                    _supervised(WORKERS[name](services, stop), stop, name,
                                drain_timeout_s=services.settings.drain_timeout_s),
                    name=f"worker-{name}")
    finally:
        for name in names:
            running.labels(name).set(0)


async def _supervised(work: Awaitable[None], stop: asyncio.Event, name: str, *,
                      drain_timeout_s: float) -> None:
    task = asyncio.ensure_future(work)
    stopped = asyncio.create_task(stop.wait(), name=f"stop-{name}")
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if not task.done():
            done, _ = await asyncio.wait({task}, timeout=drain_timeout_s)
            if not done:
                log.warning("worker %s did not drain in %.0f s; cancelling", name,
                            drain_timeout_s)
                task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    finally:
        stopped.cancel()
        task.cancel()


async def serve(settings: Settings, *, stop: asyncio.Event | None = None,
                ready: Callable[[str], None] | None = None) -> None:
    stop = stop or asyncio.Event()
    workers = served_workers(settings)
    # The management listener outlives the web server's drain: probes and metrics answer
    # (readiness "draining") until the very end.
    async with bootstrap.build(settings) as services, \
            management_listener(services, stop) as management_url:
        runner = web.AppRunner(build_app(services), handle_signals=False,
                               shutdown_timeout=settings.drain_timeout_s)
        await runner.setup()
        try:
            site = web.TCPSite(runner, settings.http_host, settings.http_port)
            await site.start()
            url = _url(runner)
            log.info("listening on %s; metrics and probes on %s", url,
                     management_url or "this port only (SWITCHBOARD_METRICS_PORT unset)")
            if ready is not None:
                ready(url)
            await run_workers(services, workers, stop)
            await stop.wait()  # a web-only process has no workers to wait for
        finally:
            await runner.cleanup()


def served_workers(settings: Settings) -> list[str]:
    """The workers a ``serve`` process runs itself (SWITCHBOARD_SERVE_WORKERS)."""
    if settings.serve_workers == "all":
        return list(WORKERS)
    if settings.serve_workers == "none":
        return []
    names = settings.serve_workers.split(",")
    unknown = [n for n in names if n not in WORKERS]
    if unknown:
        raise ValueError(f"SWITCHBOARD_SERVE_WORKERS names unknown workers {unknown}; "
                         f"known: {', '.join(WORKERS)}")
    return names


def _url(runner: web.AppRunner) -> str:
    host, port = runner.addresses[0][:2]
    return f"http://{host}:{port}"


async def worker(settings: Settings, name: str, *,
                 ready: Callable[[str | None], None] | None = None) -> None:
    """Run one worker kind until SIGTERM/SIGINT, then drain. ``ready`` is told the URL of
    the management listener (None without SWITCHBOARD_METRICS_PORT)."""
    stop = asyncio.Event()
    stop_on_signals(stop)
    async with bootstrap.build(settings) as services, \
            management_listener(services, stop) as management_url:
        if ready is not None:
            ready(management_url)
        await run_workers(services, [name], stop)
