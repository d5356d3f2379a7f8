"""What the web app tells operators: request metrics, log fields, and ``GET /metrics``.

* Every request is timed and counted under its route *template* (``/api/cases/{id}``,
  never the path with the id in it) and method, so the number of series stays bounded
  whatever clients send; paths no route matches share ``unmatched``. WebSocket upgrades
  are not timed (they last as long as the connection): they are counted as open
  connections by kind (agent, supervisor, chat).
* While a request is handled, every log line carries its ``request_id`` (the caller's
  ``X-Request-Id`` if sensible, else a new one; echoed in the response) and the case,
  contact or customer its path names.
* ``GET /metrics`` on this port needs ``Authorization: Bearer <SWITCHBOARD_METRICS_TOKEN>``
  and answers 404 while no token is configured; the management listener
  (``workers/management.py``) serves the same metrics without a token on a port of its
  own, for scrapers inside the cluster.
"""

from __future__ import annotations

import hmac
import time
from functools import lru_cache
from itertools import pairwise

from aiohttp import hdrs, web

from core.log_fields import log_fields
from workers.bootstrap import CONSUMER_GROUPS
from workers.metrics import CONTENT_TYPE, method_label
from workers.metrics_state import InstallationState
from workers.web.errors import REQUEST_ID, Handler
from workers.web.keys import SERVICES

METRICS_PATH = "/metrics"
UNMATCHED = "unmatched"
# The resource a path segment before "{id}" names, as a log field.
_SUBJECTS = {"cases": "case_id", "contacts": "contact_id", "customers": "customer_id",
             "conversations": "conversation_id", "agents": "agent_id"}

INSTALLATION_STATE = web.AppKey("installation_state", InstallationState)


def install(app: web.Application) -> None:
    services = app[SERVICES]
    state = InstallationState(services.engine, services.bus, services.clock, CONSUMER_GROUPS)
    app[INSTALLATION_STATE] = state

    async def report_state(app: web.Application) -> None:
        services.metrics.add_state(state)

    async def stop_reporting(app: web.Application) -> None:
        services.metrics.remove_state(state)

    app.on_startup.append(report_state)
    app.on_cleanup.append(stop_reporting)
    # Routed (so it is timed under its own name); metrics_endpoint answers it before the
    # user authentication sees its bearer token.
    app.router.add_get(METRICS_PATH, scrape)


def route_template(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return UNMATCHED if resource is None else resource.canonical


@web.middleware
async def request_metrics(request: web.Request, handler: Handler) -> web.StreamResponse:
    metrics = request.app[SERVICES].metrics
    route = route_template(request)
    if request.headers.get(hdrs.UPGRADE, "").lower() == "websocket":
        connections = metrics.websockets.labels(_socket_kind(route))
        connections.inc()
        try:
            return await handler(request)
        finally:
            connections.dec()
    method = method_label(request.method)
    status = 500
    started = time.perf_counter()
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:  # redirects and the like, raised past the errors
        status = exc.status
        raise
    finally:
        metrics.http_duration.labels(method, route).observe(time.perf_counter() - started)
        metrics.http_requests.labels(method, route, str(status)).inc()


@web.middleware
async def request_log_fields(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Inside ``error_middleware``, which chooses the request id."""
    route = route_template(request)
    subjects = {field: request.match_info.get(param)
                for param, field in _path_subjects(route)}
    with log_fields(request_id=request.get(REQUEST_ID), **subjects):
        return await handler(request)


@web.middleware
async def metrics_endpoint(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Before ``auth_middleware``: the metrics token is not a user's API token."""
    if request.path == METRICS_PATH and request.method in ("GET", "HEAD"):
        return await scrape(request)
    return await handler(request)


async def scrape(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    token = services.settings.metrics_token
    if token is None:
        raise web.HTTPNotFound(text="metrics are served on SWITCHBOARD_METRICS_PORT; set "
                                    "SWITCHBOARD_METRICS_TOKEN to serve them here")
    scheme, _, given = request.headers.get(hdrs.AUTHORIZATION, "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), token.get_secret_value().encode()):
        raise web.HTTPUnauthorized(text="send 'Authorization: Bearer "
                                        "<SWITCHBOARD_METRICS_TOKEN>'",
                                   headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    return web.Response(body=await services.metrics.scrape(),
                        headers={"Content-Type": CONTENT_TYPE})


def _socket_kind(route: str) -> str:
    # /agent/ws, /supervisor/ws, /chat/ws
    return route.strip("/").split("/", 1)[0] or UNMATCHED


@lru_cache(maxsize=512)  # one entry per route template: a bounded set
def _path_subjects(route: str) -> tuple[tuple[str, str], ...]:
    parts = route.strip("/").split("/")
    found: list[tuple[str, str]] = []
    for before, part in pairwise(parts):
        if part == "{id}" and before in _SUBJECTS:
            found.append(("id", _SUBJECTS[before]))
        elif part.startswith("{") and part.endswith("_id}"):
            found.append((part[1:-1], part[1:-1]))
    return tuple(found)
