"""The management listener: a small HTTP server beside any process, web or worker, on
``SWITCHBOARD_METRICS_PORT``, answering

* ``GET /metrics`` — the process's Prometheus metrics;
* ``GET /healthz`` — 200 while the process's event loop runs (a liveness probe);
* ``GET /readyz`` — 200 when the database and the bus answer, 503 with the reason when
  not, and 503 ``draining`` once the process has been told to stop.

Unauthenticated on purpose, like the management ports of Keycloak or Mattermost: it is for
Prometheus and the kubelet inside the cluster network, never routed through the public
proxy or ingress (docs/operations.md). A worker-only process has no other HTTP port.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from workers.metrics import CONTENT_TYPE
from workers.services import Services

PROBE_TIMEOUT_S = 2.0


def build_management_app(services: Services, stopping: asyncio.Event) -> web.Application:
    async def metrics(_: web.Request) -> web.Response:
        return web.Response(body=await services.metrics.scrape(),
                            headers={"Content-Type": CONTENT_TYPE})

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        if stopping.is_set():
            return web.json_response({"status": "draining", "checks": {}}, status=503)
        checks = await services.readiness(PROBE_TIMEOUT_S)
        ready = all(v == "ok" for v in checks.values())
        return web.json_response({"status": "ready" if ready else "unavailable",
                                  "checks": checks}, status=200 if ready else 503)

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app


@asynccontextmanager
async def management_listener(services: Services, stopping: asyncio.Event
                              ) -> AsyncIterator[str | None]:
    """Listen on the configured metrics port for as long as the block runs; yields the
    URL (None when no port is configured). Leaving the block closes it, so a draining
    worker stays live and scrapable until its last batch is done."""
    settings = services.settings
    if settings.metrics_port is None:
        yield None
        return
    runner = web.AppRunner(build_management_app(services, stopping), handle_signals=False,
                           access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.metrics_host, settings.metrics_port)
        await site.start()
        host, port = runner.addresses[0][:2]
        yield f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    finally:
        await runner.cleanup()
