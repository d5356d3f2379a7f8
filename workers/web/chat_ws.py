"""The visitor's side of live chat: ``GET /chat/ws`` (protocol in docs/chat-protocol.md).

Guards, each set on purpose (aiohttp's defaults are 4 MiB frames, no heartbeat, no Origin
check): the Origin must be allowed *before* the upgrade; frames are at most 16 KiB (larger
closes with 1009); a heartbeat finds dead connections; each connection may send a few
frames a second and each client IP may open a few connections a minute; malformed frames
get an error, and a connection that keeps sending them is closed with 1008. One visitor's
misbehaviour never touches another's connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from channels.chat.service import conversation_channel, frame, survey_frame
from core.domain.channels import Channel
from core.domain.chat import ChatSender, Conversation
from core.domain.errors import DomainError
from workers.web.agent_ws import OPEN_SOCKETS
from workers.web.keys import SERVICES
from workers.web.ratelimit import RATE_LIMITS, client_ip, limit

log = logging.getLogger(__name__)

MAX_FRAME_BYTES = 16 * 1024
HEARTBEAT_S = 20.0
HELLO_TIMEOUT_S = 10.0
MAX_ERRORS = 5
CONNECTS_PER_IP = limit("30/minute")
FRAMES_PER_CONNECTION = limit("20/10second")
MESSAGES_PER_IP = limit("60/minute")
POLICY_VIOLATION = WSCloseCode.POLICY_VIOLATION


class Hello(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str
    visitor_id: str | None = Field(default=None, max_length=64)
    conversation_id: str | None = Field(default=None, max_length=64)
    after_seq: int = Field(default=0, ge=0)
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    language: str | None = Field(default=None, max_length=10)
    topic: str | None = Field(default=None, max_length=200)


class Said(BaseModel):
    model_config = ConfigDict(extra="ignore")
    text: str = Field(max_length=8000)
    client_msg_id: str = Field(min_length=1, max_length=64)


class LeftMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    text: str = Field(max_length=8000)
    name: str | None = Field(default=None, max_length=200)
    email: str = Field(min_length=3, max_length=320)


class Read(BaseModel):
    model_config = ConfigDict(extra="ignore")
    seq: int = Field(ge=0)


class SurveyAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")
    survey_id: str = Field(min_length=1, max_length=64)
    score: StrictInt | None = None
    nps: StrictInt | None = None
    comment: str | None = Field(default=None, max_length=4000)


def install(app: web.Application) -> None:
    app.router.add_get("/chat/ws", chat_socket)


def origin_allowed(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    allowed = request.app[SERVICES].settings.chat_allowed_origins
    if origin is None:
        return False
    if origin in allowed or "*" in allowed:
        return True
    # The demo page and the widget served by Switchboard itself.
    return origin in (f"http://{request.host}", f"https://{request.host}")


async def chat_socket(request: web.Request) -> web.StreamResponse:
    if not origin_allowed(request):
        raise web.HTTPForbidden(text="this Origin may not open a chat")
    wait = await request.app[RATE_LIMITS].retry_after(CONNECTS_PER_IP, "chat-connect",
                                                      client_ip(request))
    if wait is not None:
        raise web.HTTPTooManyRequests(text="too many chat connections",
                                      headers={"Retry-After": str(wait)})
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=MAX_FRAME_BYTES)
    await ws.prepare(request)
    sockets = request.app[OPEN_SOCKETS].sockets
    sockets.add(ws)
    try:
        await VisitorSession(request, ws).run()
    finally:
        sockets.discard(ws)
    return ws


class VisitorSession:
    def __init__(self, request: web.Request, ws: web.WebSocketResponse) -> None:
        self._request = request
        self._ws = ws
        self._services = request.app[SERVICES]
        self._ip = client_ip(request)
        self._id = f"{id(ws):x}"
        self._errors = 0
        self._lock = asyncio.Lock()
        self._conversation: Conversation | None = None
        self._resumed = False
        self._sent_seq = 0  # the highest sequence number this socket has delivered
        # Live pushes wait until the backlog is out, so messages arrive in order.
        self._backlog_sent = asyncio.Event()

    async def send(self, body: dict[str, Any]) -> None:
        if self._ws.closed:
            return
        async with self._lock:
            if body.get("type") == "message":
                seq = int(str(body.get("seq", 0)))
                if seq <= self._sent_seq:
                    return  # already delivered (backlog and live push overlap)
                self._sent_seq = seq
            await self._ws.send_str(json.dumps(body, default=str))

    async def run(self) -> None:
        hello = await self._hello()
        if hello is None:
            return
        conversation = self._conversation
        assert conversation is not None
        channel = conversation_channel(conversation.id)
        async with self._services.push.subscribe(channel) as pushes:
            forwarder = asyncio.create_task(self._forward(pushes),
                                            name=f"chat-push-{conversation.id}")
            try:
                for message in await self._services.chat.backlog(conversation.id,
                                                                 hello.after_seq):
                    await self.send(frame(message))
                if self._resumed:  # a survey asked while the visitor was away
                    survey = await self._services.surveys.open_in_chat(conversation.id)
                    if survey is not None:
                        await self.send(survey_frame(survey))
                self._backlog_sent.set()
                await self._receive()
            finally:
                forwarder.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await forwarder

    async def _hello(self) -> Hello | None:
        try:
            first = await self._ws.receive(timeout=HELLO_TIMEOUT_S)
        except TimeoutError:
            await self._ws.close(code=POLICY_VIOLATION, message=b"say hello first")
            return None
        if first.type is not WSMsgType.TEXT:
            await self._ws.close(code=POLICY_VIOLATION, message=b"say hello first")
            return None
        try:
            hello = Hello.model_validate_json(first.data)
        except ValidationError:
            await self._ws.close(code=POLICY_VIOLATION, message=b"the first frame is a hello")
            return None
        if hello.type != "hello":
            await self._ws.close(code=POLICY_VIOLATION, message=b"the first frame is a hello")
            return None
        greeting = await self._services.chat.hello(
            visitor_id=hello.visitor_id, conversation_id=hello.conversation_id,
            name=hello.name, email=hello.email, language=hello.language, topic=hello.topic)
        self._conversation = greeting.conversation
        self._resumed = greeting.resumed
        conversation = greeting.conversation
        self._sent_seq = hello.after_seq if greeting.resumed else 0
        await self.send({
            "type": "welcome", "conversation_id": conversation.id,
            "visitor_id": conversation.visitor_id, "resumed": greeting.resumed,
            "language": conversation.language, "agents_available": greeting.agents_available,
            "business_hours": greeting.business_hours,
            "last_seq": conversation.last_seq})
        if not greeting.resumed:
            hello = hello.model_copy(update={"after_seq": 0})
        return hello

    async def _forward(self, pushes: AsyncIterator[dict[str, object]]) -> None:
        await self._backlog_sent.wait()
        async for push in pushes:
            try:
                await self.send(dict(push))
            except Exception:
                log.exception("chat push failed")

    async def _receive(self) -> None:
        async for raw in self._ws:
            if raw.type is not WSMsgType.TEXT:
                await self._error("text_only", "send JSON text frames")
                continue
            if not await self._within_rate():
                continue
            try:
                body = json.loads(raw.data)
                kind = body.get("type") if isinstance(body, dict) else None
            except ValueError:
                await self._error("bad_json", "the frame is not JSON")
                continue
            await self._dispatch(kind, body)
            if self._ws.closed:
                return

    async def _within_rate(self) -> bool:
        limits = self._request.app[RATE_LIMITS]
        wait = await limits.retry_after(FRAMES_PER_CONNECTION, "chat-frames", self._id)
        if wait is None:
            return True
        await self._error("rate_limited", f"too fast; wait {wait} s", retry_after=wait)
        return False

    async def _dispatch(self, kind: object, body: dict[str, Any]) -> None:
        conversation = self._conversation
        assert conversation is not None
        chat = self._services.chat
        try:
            if kind == "message":
                said = Said.model_validate(body)
                wait = await self._request.app[RATE_LIMITS].retry_after(
                    MESSAGES_PER_IP, "chat-messages", self._ip)
                if wait is not None:
                    await self._error("rate_limited", f"too many messages; wait {wait} s",
                                      retry_after=wait)
                    return
                stored = await chat.visitor_message(conversation.id, conversation.visitor_id,
                                                    said.text, said.client_msg_id)
                await self.send({"type": "ack", "client_msg_id": said.client_msg_id,
                                 "seq": stored.seq})
            elif kind in ("typing", "read"):
                await chat.signal(conversation.id, conversation.visitor_id,
                                  _signal(kind, body))
            elif kind == "end":
                await chat.end(conversation.id, by=ChatSender.VISITOR,
                               send_transcript=bool(body.get("transcript")))
            elif kind == "leave_message":
                left = LeftMessage.model_validate(body)
                result = await chat.leave_message(conversation.id, conversation.visitor_id,
                                                  name=left.name, email=left.email,
                                                  text=left.text)
                await self.send({"type": "message_left", "case_id": result.case_id})
            elif kind == "survey_answer":
                await self._survey_answer(conversation, SurveyAnswer.model_validate(body))
            elif kind == "ping":
                await self.send({"type": "pong"})
            else:
                await self._error("unknown_type", "type must be message, typing, read, end, "
                                  "leave_message, survey_answer or ping")
        except ValidationError as err:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                                 for e in err.errors(include_url=False))
            await self._error("invalid", problems)
        except DomainError as err:
            await self._error("refused", str(err))

    async def _survey_answer(self, conversation: Conversation, answer: SurveyAnswer) -> None:
        await self._services.surveys.record_answer(
            answer.survey_id, channel=Channel.CHAT, score=answer.score, nps=answer.nps,
            comment=answer.comment, language=conversation.language, reference=conversation.id)
        await self.send({"type": "survey_thanks", "survey_id": answer.survey_id})

    async def _error(self, code: str, message: str, **extra: object) -> None:
        self._errors += 1
        await self.send({"type": "error", "code": code, "message": message, **extra})
        if self._errors >= MAX_ERRORS:
            await self._ws.close(code=POLICY_VIOLATION, message=b"too many bad frames")


def _signal(kind: str, body: dict[str, Any]) -> dict[str, object]:
    """Typing and read receipts as passed on to the agent."""
    if kind == "read":
        return {"type": "read", "from": "visitor", "seq": Read.model_validate(body).seq}
    return {"type": "typing", "from": "visitor", "typing": bool(body.get("typing", True))}
