"""Live chat: a conversation between a website visitor and agents, message by message.

Every message has a sequence number within its conversation, handed out by the database:
a visitor who reconnects says which number it saw last and gets the rest exactly once, in
order. A visitor's own messages carry the id its widget gave them, so a message resent
after a dropped connection is stored once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ChatSender(StrEnum):
    VISITOR = "visitor"
    AGENT = "agent"
    SYSTEM = "system"


class ConversationStatus(StrEnum):
    OPEN = "open"
    ENDED = "ended"


@dataclass(slots=True, kw_only=True)
class Conversation:
    id: str
    visitor_id: str
    status: ConversationStatus = ConversationStatus.OPEN
    language: str = "nl"
    name: str | None = None
    # Typed into the pre-chat form: a claim shown to agents, never proof of identity.
    claimed_email: str | None = None
    topic: str | None = None
    customer_id: str | None = None
    contact_id: str | None = None
    case_id: str | None = None
    agent_id: str | None = None
    last_seq: int = 0
    created_at: datetime
    ended_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status is ConversationStatus.OPEN


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatMessage:
    conversation_id: str
    seq: int
    sender: ChatSender
    text: str
    created_at: datetime
    client_msg_id: str | None = None
    agent_id: str | None = None
    # System messages say what happened ("agent_joined", "ended"); the widget words them.
    event: str | None = None
