"""Agents in a chat until the desktop screen exists: read a conversation, post, end it.
(Messages also reach the agent live over ``/agent/ws`` as ``chat_message`` frames.)"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from channels.chat.service import frame
from core.domain.chat import ChatSender
from core.domain.workforce import Role
from workers.web.endpoints import Api, Call
from workers.web.keys import SERVICES
from workers.web.schemas import ChatEndIn, ChatMessageIn


def register(api: Api) -> None:
    @api.route("GET", "/api/chat/conversations/{id}", summary="A chat with its messages",
               role=Role.AGENT, tag="chat", responses={200: "The chat", 404: "No such chat"})
    async def get_conversation(call: Call[Any, Any]) -> web.Response:
        conversation, messages = await call.request.app[SERVICES].chat.view(call.path("id"))
        return web.json_response({
            "id": conversation.id, "status": conversation.status.value,
            "visitor_id": conversation.visitor_id, "name": conversation.name,
            "claimed_email": conversation.claimed_email, "topic": conversation.topic,
            "language": conversation.language, "customer_id": conversation.customer_id,
            "case_id": conversation.case_id, "agent_id": conversation.agent_id,
            "messages": [frame(m) for m in messages]})

    @api.route("POST", "/api/chat/conversations/{id}/messages",
               summary="Post into a chat as the calling agent", role=Role.AGENT, tag="chat",
               body=ChatMessageIn,
               responses={201: "Stored and delivered", 404: "No such chat",
                          409: "The chat has ended", 422: "Invalid input"})
    async def post_message(call: Call[ChatMessageIn, Any]) -> web.Response:
        assert call.principal is not None
        stored = await call.request.app[SERVICES].chat.agent_message(
            call.path("id"), call.principal.agent_id or call.principal.id, call.body.text)
        return web.json_response(frame(stored), status=201)

    @api.route("POST", "/api/chat/conversations/{id}/end", summary="End a chat",
               role=Role.AGENT, tag="chat", body=ChatEndIn,
               responses={200: "Ended", 404: "No such chat", 409: "Already ended"})
    async def end(call: Call[ChatEndIn, Any]) -> web.Response:
        stored = await call.request.app[SERVICES].chat.end(
            call.path("id"), by=ChatSender.AGENT, send_transcript=call.body.transcript)
        return web.json_response(frame(stored))
