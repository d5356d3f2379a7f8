"""The agent desktop's live connection: ``GET /agent/ws``.

Every message is a JSON object with a ``type``; ``docs/agent-protocol.md`` documents each.
The server pushes offers (with the screen-pop: who it is, open cases, recent history) the
moment they are made; the agent answers with presence, accept, decline, start_wrap_up,
wrap_up and transfer. Whatever the push layer misses, the connection catches up on: it
sends every pending offer when it opens.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from core.domain.errors import Conflict, DomainError, InvalidInput, NotFound
from core.domain.work import Offer, OfferStatus, WorkItem
from core.domain.workforce import Presence, Role
from core.ports import Principal
from workers.notify import agent_channel, wrapped_up_frame
from workers.services import Services
from workers.web import serialize
from workers.web.auth import PRINCIPAL, SESSION, session_fingerprint
from workers.web.keys import SERVICES
from workers.web.screen_pop import offer_pop, pop_json

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 64 * 1024
HEARTBEAT_S = 25.0
SESSION_ENDED = 4401  # close code: log in again


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PresenceMsg(Message):
    type: str
    status: Presence


class OfferAnswer(Message):
    type: str
    offer_id: str = Field(max_length=60)


class CaseMsg(Message):
    type: str
    case_id: str = Field(max_length=60)


class WrapUp(Message):
    type: str
    case_id: str = Field(max_length=60)
    disposition: str = Field(min_length=1, max_length=100)
    # Desktops from before outcomes grew send neither; "pending" still means follow_up.
    outcome: str = Field(default="resolved", max_length=20)
    callback_at: AwareDatetime | None = None


class Transfer(Message):
    type: str
    case_id: str = Field(max_length=60)
    queue: str | None = Field(default=None, max_length=60)
    agent: str | None = Field(default=None, max_length=60)
    second_line: bool = False


class ChatTyping(Message):
    type: str
    conversation_id: str = Field(max_length=60)
    typing: bool = True


class OpenSockets:
    def __init__(self) -> None:
        self.sockets: weakref.WeakSet[web.WebSocketResponse] = weakref.WeakSet()


OPEN_SOCKETS = web.AppKey("agent_sockets", OpenSockets)


def install(app: web.Application) -> None:
    app[OPEN_SOCKETS] = OpenSockets()
    app.router.add_get("/agent/ws", agent_socket)
    app.on_shutdown.append(_close_sockets)


async def _close_sockets(app: web.Application) -> None:
    # Desktops reconnect (to another process, or this one after restart) and catch up on
    # pending offers; "going away" tells them to do so rather than report an error.
    for ws in list(app[OPEN_SOCKETS].sockets):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")


async def agent_socket(request: web.Request) -> web.StreamResponse:
    principal: Principal | None = request.get(PRINCIPAL)
    if principal is None:
        raise web.HTTPUnauthorized(text="send 'Authorization: Bearer <agent token>'",
                                   headers={"WWW-Authenticate": "Bearer"})
    if principal.role is not Role.AGENT or principal.agent_id is None:
        raise web.HTTPForbidden(text="the desktop connection is for agent tokens "
                                     "(switchboard token create --role agent --agent ID)")
    services = request.app[SERVICES]
    agent = await services.agents.get(principal.agent_id)
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=MAX_MESSAGE_BYTES)
    await ws.prepare(request)
    request.app[OPEN_SOCKETS].sockets.add(ws)
    login = request.get(SESSION)
    session = AgentSession(services, ws, agent.id,
                           login=None if login is None else session_fingerprint(login))
    async with services.push.subscribe(agent_channel(agent.id)) as pushes:
        forwarder = asyncio.create_task(session.forward(pushes), name=f"ws-push-{agent.id}")
        try:
            await session.send({"type": "hello", "agent": serialize.agent(agent)})
            for offer in await session.pending_offers():
                await session.send_offer(offer)
            await session.receive()
        finally:
            forwarder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await forwarder
    return ws


class AgentSession:
    def __init__(self, services: Services, ws: web.WebSocketResponse, agent_id: str, *,
                 login: str | None = None) -> None:
        self._services = services
        self._ws = ws
        self._agent_id = agent_id
        self._login = login  # fingerprint of the browser session that opened this socket
        # Offers already shown: the dispatcher and the notifier may both announce one.
        self._shown: set[str] = set()
        self._send_lock = asyncio.Lock()  # pushes and replies interleave on one socket
        self._handlers: dict[str, Callable[[dict[str, Any]], Awaitable[None]]] = {
            "presence": self._presence, "accept": self._accept, "decline": self._decline,
            "start_wrap_up": self._start_wrap_up, "wrap_up": self._wrap_up,
            "transfer": self._transfer, "ping": self._ping,
            "chat_typing": self._chat_typing,
        }

    async def send(self, message: dict[str, Any]) -> None:
        if self._ws.closed:
            return
        async with self._send_lock:
            await self._ws.send_str(json.dumps(message, default=str))

    async def pending_offers(self) -> list[Offer]:
        async with self._services.read_uow() as uow:
            return await uow.work.pending_offers(agent_id=self._agent_id)

    async def forward(self, pushes: AsyncIterator[dict[str, object]]) -> None:
        async for push in pushes:
            try:
                if push.get("type") == "offer_ready":
                    await self._offer_by_id(str(push.get("offer_id")))
                elif push.get("type") == "session_ended":
                    if push.get("all") or (self._login is not None
                                           and push.get("session") == self._login):
                        await self._ws.close(code=SESSION_ENDED, message=b"logged out")
                        return
                else:
                    await self.send(dict(push))
            except Exception:  # one bad push must not end the agent's connection
                log.exception("could not deliver a push to agent %s", self._agent_id)

    async def _offer_by_id(self, offer_id: str) -> None:
        if offer_id in self._shown:
            return
        async with self._services.read_uow() as uow:
            offer = await uow.work.get_offer(offer_id)
        if offer is not None and offer.status is OfferStatus.PENDING:
            await self.send_offer(offer)

    async def send_offer(self, offer: Offer) -> None:
        # The whole pop in one read; decided_at (routing chose this agent) and sent_at let
        # the desktop, and `switchboard bench pop`, measure how long the pop took.
        if offer.id in self._shown:
            return
        self._shown.add(offer.id)
        pop = await offer_pop(self._services, offer)
        await self.send({
            "type": "offer", "offer_id": offer.id, "expires_at": offer.expires_at.isoformat(),
            "channel": offer.channel.value,
            "contact": serialize.contact(pop.contact) if pop.contact else None,
            "case": serialize.case(pop.case) if pop.case else None,
            "screen_pop": pop_json(pop),
            "decided_at": offer.created_at.isoformat(),
            "sent_at": self._services.clock.now().isoformat(),
        })

    async def receive(self) -> None:
        async for raw in self._ws:
            if raw.type is not WSMsgType.TEXT:
                if raw.type is WSMsgType.ERROR:
                    log.warning("agent %s socket error: %s", self._agent_id,
                                self._ws.exception())
                continue
            await self._handle(raw.data)

    async def _handle(self, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            await self._error("bad_json", "send one JSON object per message")
            return
        kind = message.get("type") if isinstance(message, dict) else None
        handler = self._handlers.get(kind) if isinstance(kind, str) else None
        if handler is None:
            await self._error("unknown_type", "type must be one of "
                              + ", ".join(sorted(self._handlers)), ref=kind)
            return
        try:
            await handler(message)
        except ValidationError as err:
            await self._error("invalid", "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors()), ref=kind)
        except NotFound as err:
            await self._error("not_found", str(err), ref=kind)
        except (Conflict, InvalidInput) as err:
            await self._error("conflict" if isinstance(err, Conflict) else "invalid",
                              str(err), ref=kind)
        except DomainError as err:
            await self._error("refused", str(err), ref=kind)

    async def _error(self, code: str, message: str, *, ref: object = None) -> None:
        await self.send({"type": "error", "code": code, "message": message, "ref": ref})

    async def _ping(self, message: dict[str, Any]) -> None:
        await self.send({"type": "pong"})

    async def _presence(self, message: dict[str, Any]) -> None:
        status = PresenceMsg.model_validate(message).status
        agent = await self._services.desk.set_presence(self._agent_id, status)
        await self.send({"type": "presence", "status": agent.presence.value,
                         "reason": "agent"})

    async def _accept(self, message: dict[str, Any]) -> None:
        offer_id = OfferAnswer.model_validate(message).offer_id
        answered = await self._services.desk.accept(self._agent_id, offer_id)
        await self.send({"type": "accepted", "offer_id": offer_id,
                         "case_id": answered.item.case_id})

    async def _decline(self, message: dict[str, Any]) -> None:
        offer_id = OfferAnswer.model_validate(message).offer_id
        await self._services.desk.decline(self._agent_id, offer_id)
        await self.send({"type": "declined", "offer_id": offer_id})

    async def _start_wrap_up(self, message: dict[str, Any]) -> None:
        body = CaseMsg.model_validate(message)
        item = await self._services.desk.wrap_ups.start(self._agent_id, body.case_id)
        await self.send(after_contact_work_frame(item))

    async def _wrap_up(self, message: dict[str, Any]) -> None:
        body = WrapUp.model_validate(message)
        item = await self._services.desk.wrap_up(
            self._agent_id, body.case_id, disposition=body.disposition, outcome=body.outcome,
            callback_at=body.callback_at)
        await self.send(wrapped_up_frame({
            "case_id": item.case_id, "disposition": item.disposition,
            "outcome": item.outcome.value if item.outcome else None,
            "callback_at": item.callback_at.isoformat() if item.callback_at else None}))

    async def _transfer(self, message: dict[str, Any]) -> None:
        body = Transfer.model_validate(message)
        await self._services.desk.transfer(self._agent_id, body.case_id, queue_id=body.queue,
                                           to_agent_id=body.agent,
                                           second_line=body.second_line)
        await self.send({"type": "transferred", "case_id": body.case_id})

    async def _chat_typing(self, message: dict[str, Any]) -> None:
        """The agent is typing in a chat it handles: the visitor sees it (not stored, no
        answer)."""
        body = ChatTyping.model_validate(message)
        async with self._services.read_uow() as uow:
            conversation = await uow.chat.get_conversation(body.conversation_id)
            # Hers once she accepted it, even before the chat has heard that she joined.
            item = await uow.work.item_for_case(conversation.case_id) \
                if conversation is not None and conversation.case_id else None
        if conversation is None or self._agent_id not in (
                conversation.agent_id, item.assigned_agent_id if item else None):
            raise NotFound("conversation handled by you", body.conversation_id)
        await self._services.chat.signal(conversation.id, None, {
            "type": "typing", "from": "agent", "typing": body.typing})


def after_contact_work_frame(item: WorkItem) -> dict[str, Any]:
    """Where the agent's wrap-up of ``item`` stands (as pushed when a channel ends it)."""
    return {"type": "after_contact_work", "case_id": item.case_id,
            "started_at": item.conversation_ended_at.isoformat()
            if item.conversation_ended_at else None,
            "due_at": item.wrap_up_due_at.isoformat() if item.wrap_up_due_at else None,
            "reason": "agent"}
