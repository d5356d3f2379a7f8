"""The supervisors' live connection: ``GET /supervisor/ws``, the wallboard's push channel.

On connect the socket receives a full ``snapshot``; after that a new snapshot whenever the
board changes (coalesced, one computation shared by every socket of this process, see
``workers.wallboard``), and every SLA warning, breach and routed case as it happens.
``docs/supervisor-protocol.md`` documents each message.

Who may connect is read from the request exactly as for ``/agent/ws``: the principal the
authentication middleware set, from a bearer token or a browser session.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import weakref
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from core.domain.workforce import Role
from core.ports import Principal
from routing.wallboard import Wallboard
from workers.notify import SUPERVISORS
from workers.wallboard import WallboardHub, Watcher
from workers.web.agent_ws import SESSION_ENDED
from workers.web.auth import PRINCIPAL, SESSION, session_channel
from workers.web.keys import SERVICES

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 4 * 1024  # the console only sends small commands
HEARTBEAT_S = 25.0
CLIENT_TYPES = ("ping", "refresh")


class OpenSockets:
    def __init__(self) -> None:
        self.sockets: weakref.WeakSet[web.WebSocketResponse] = weakref.WeakSet()


WALLBOARD_HUB = web.AppKey("wallboard_hub", WallboardHub)
OPEN_SOCKETS = web.AppKey("supervisor_sockets", OpenSockets)


def install(app: web.Application) -> None:
    services = app[SERVICES]
    board = Wallboard(services.read_uow, services.clock)
    app[WALLBOARD_HUB] = WallboardHub(push=services.push, compute=board.snapshot,
                                      alert_channel=SUPERVISORS)
    app[OPEN_SOCKETS] = OpenSockets()
    app.router.add_get("/supervisor/ws", supervisor_socket)
    app.on_shutdown.append(_close_sockets)
    app.on_cleanup.append(_close_hub)


async def _close_sockets(app: web.Application) -> None:
    for ws in list(app[OPEN_SOCKETS].sockets):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")


async def _close_hub(app: web.Application) -> None:
    await app[WALLBOARD_HUB].close()


async def supervisor_socket(request: web.Request) -> web.StreamResponse:
    principal: Principal | None = request.get(PRINCIPAL)
    if principal is None:
        raise web.HTTPUnauthorized(text="send 'Authorization: Bearer <supervisor token>'",
                                   headers={"WWW-Authenticate": "Bearer"})
    if not principal.role.at_least(Role.SUPERVISOR):
        raise web.HTTPForbidden(text="the wallboard is for supervisors and admins")
    hub = request.app[WALLBOARD_HUB]
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=MAX_MESSAGE_BYTES)
    await ws.prepare(request)
    request.app[OPEN_SOCKETS].sockets.add(ws)
    session = SupervisorSession(ws, hub, principal)
    login = request.get(SESSION)
    async with hub.watch() as watcher, contextlib.AsyncExitStack() as owned:
        tasks = [asyncio.create_task(session.forward(watcher),
                                     name=f"supervisor-ws-{principal.id}")]
        if login is not None:  # opened by a browser login: closes when it is logged out
            ended = await owned.enter_async_context(
                request.app[SERVICES].push.subscribe(session_channel(login)))
            tasks.append(asyncio.create_task(_close_when_ended(ws, ended),
                                             name="supervisor-ws-session"))
        try:
            await session.receive()
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
    return ws


async def _close_when_ended(ws: web.WebSocketResponse,
                            pushes: AsyncIterator[dict[str, object]]) -> None:
    async for push in pushes:
        if push.get("type") == "session_ended":
            await ws.close(code=SESSION_ENDED, message=b"logged out")
            return


class SupervisorSession:
    def __init__(self, ws: web.WebSocketResponse, hub: WallboardHub,
                 principal: Principal) -> None:
        self._ws = ws
        self._hub = hub
        self._principal = principal
        self._send_lock = asyncio.Lock()  # boards and replies interleave on one socket

    async def send_text(self, text: str) -> None:
        if self._ws.closed:
            return
        async with self._send_lock:
            await self._ws.send_str(text)

    async def send(self, message: dict[str, Any]) -> None:
        await self.send_text(json.dumps(message))

    async def forward(self, watcher: Watcher) -> None:
        while not self._ws.closed:
            text = await watcher.next()
            try:
                await self.send_text(text)
            except ConnectionError:  # the socket is going; receive() sees it end
                return
            except Exception:  # one bad push must not end the supervisor's connection
                log.exception("could not push to supervisor %s", self._principal.id)

    async def receive(self) -> None:
        async for raw in self._ws:
            if raw.type is WSMsgType.TEXT:
                await self._handle(raw.data)
            elif raw.type is WSMsgType.ERROR:
                log.warning("supervisor %s socket error: %s", self._principal.id,
                            self._ws.exception())

    async def _handle(self, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            await self._error("bad_json", "send one JSON object per message")
            return
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "ping":
            await self.send({"type": "pong"})
        elif kind == "refresh":
            self._hub.refresh()
        else:
            await self._error("unknown_type", "type must be one of " + ", ".join(CLIENT_TYPES),
                              ref=kind if isinstance(kind, str) else None)

    async def _error(self, code: str, message: str, *, ref: str | None = None) -> None:
        await self.send({"type": "error", "code": code, "message": message, "ref": ref})
