"""Chat conversations and messages in SQL; sequence numbers come from the conversation row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.chat import ChatMessage, ChatSender, Conversation, ConversationStatus
from core.domain.errors import NotFound
from core.storage.tables import cases, chat_conversations, chat_messages


class SqlChat:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add_conversation(self, conversation: Conversation) -> None:
        await self._conn.execute(chat_conversations.insert().values(
            id=conversation.id, **_values(conversation)))

    async def get_conversation(self, conversation_id: str) -> Conversation | None:
        return await self._one(chat_conversations.c.id == conversation_id)

    async def conversation_for_case(self, case_id: str) -> Conversation | None:
        return await self._one(chat_conversations.c.case_id == case_id)

    async def _one(self, where: sa.ColumnElement[bool]) -> Conversation | None:
        row = (await self._conn.execute(sa.select(chat_conversations).where(where).order_by(
            chat_conversations.c.created_at.desc()).limit(1))).mappings().first()
        return _conversation(row) if row else None

    async def conversations_for_customers(self, customer_ids: Sequence[str]
                                          ) -> list[Conversation]:
        theirs = sa.select(cases.c.id).where(cases.c.customer_id.in_(customer_ids))
        rows = (await self._conn.execute(sa.select(chat_conversations).where(sa.or_(
            chat_conversations.c.customer_id.in_(customer_ids),
            chat_conversations.c.case_id.in_(theirs)))
            .order_by(chat_conversations.c.created_at, chat_conversations.c.id))).mappings()
        return [_conversation(r) for r in rows]

    async def save_conversation(self, conversation: Conversation) -> None:
        values = _values(conversation)
        del values["last_seq"]  # only append() moves it
        await self._conn.execute(chat_conversations.update().where(
            chat_conversations.c.id == conversation.id).values(**values))

    async def append(self, message: ChatMessage) -> ChatMessage:
        if message.client_msg_id:
            existing = await self._by_client_id(message.conversation_id, message.client_msg_id)
            if existing is not None:
                return existing
        seq = await self._conn.scalar(chat_conversations.update().where(
            chat_conversations.c.id == message.conversation_id).values(
            last_seq=chat_conversations.c.last_seq + 1).returning(
            chat_conversations.c.last_seq))
        if seq is None:
            raise NotFound("conversation", message.conversation_id)
        stored = ChatMessage(conversation_id=message.conversation_id, seq=int(seq),
                             sender=message.sender, text=message.text,
                             created_at=message.created_at,
                             client_msg_id=message.client_msg_id, agent_id=message.agent_id,
                             event=message.event)
        try:
            async with self._conn.begin_nested():
                await self._conn.execute(chat_messages.insert().values(
                    conversation_id=stored.conversation_id, seq=stored.seq,
                    sender=stored.sender.value, text=stored.text,
                    client_msg_id=stored.client_msg_id, agent_id=stored.agent_id,
                    event=stored.event, created_at=stored.created_at))
        except IntegrityError:
            # The same visitor message on two connections at once: one stored it first.
            existing = await self._by_client_id(message.conversation_id,
                                                message.client_msg_id or "")
            if existing is None:
                raise
            return existing
        return stored

    async def _by_client_id(self, conversation_id: str,
                            client_msg_id: str) -> ChatMessage | None:
        row = (await self._conn.execute(sa.select(chat_messages).where(
            chat_messages.c.conversation_id == conversation_id,
            chat_messages.c.client_msg_id == client_msg_id))).mappings().first()
        return _message(row) if row else None

    async def messages_after(self, conversation_id: str, seq: int, *,
                             limit: int) -> list[ChatMessage]:
        rows = (await self._conn.execute(sa.select(chat_messages).where(
            chat_messages.c.conversation_id == conversation_id,
            chat_messages.c.seq > seq).order_by(chat_messages.c.seq).limit(limit))).mappings()
        return [_message(r) for r in rows]


def _values(c: Conversation) -> dict[str, Any]:
    return {"visitor_id": c.visitor_id, "status": c.status.value, "language": c.language,
            "name": c.name, "claimed_email": c.claimed_email, "topic": c.topic,
            "customer_id": c.customer_id, "contact_id": c.contact_id, "case_id": c.case_id,
            "agent_id": c.agent_id, "last_seq": c.last_seq, "created_at": c.created_at,
            "ended_at": c.ended_at}


def _conversation(r: sa.RowMapping) -> Conversation:
    return Conversation(
        id=r["id"], visitor_id=r["visitor_id"], status=ConversationStatus(r["status"]),
        language=r["language"], name=r["name"], claimed_email=r["claimed_email"],
        topic=r["topic"], customer_id=r["customer_id"], contact_id=r["contact_id"],
        case_id=r["case_id"], agent_id=r["agent_id"], last_seq=r["last_seq"],
        created_at=r["created_at"], ended_at=r["ended_at"])


def _message(r: sa.RowMapping) -> ChatMessage:
    return ChatMessage(conversation_id=r["conversation_id"], seq=r["seq"],
                       sender=ChatSender(r["sender"]), text=r["text"],
                       created_at=r["created_at"], client_msg_id=r["client_msg_id"],
                       agent_id=r["agent_id"], event=r["event"])
