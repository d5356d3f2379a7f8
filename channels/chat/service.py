"""Chat conversations: greeting and resuming visitors, storing messages exactly once with
their sequence number, and telling everyone listening.

Who hears what (all through the Push port, so it works across processes):
- ``chat:{conversation_id}``: the visitor's widget(s) — messages, typing, read, joined/left;
- ``agent:{agent_id}``: the agent handling the conversation's case — the same, as
  ``chat_*`` frames on the desktop connection.

The conversation becomes a contact (and a case, routed like any other) with the visitor's
first message. An e-mail address from the pre-chat form is a *claim*: shown to agents,
never used to match the visitor to a customer, so nobody sees another's history by typing
their address.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import timedelta

from channels.email.queueing import SenderIdentity, queue_automatic
from core.domain.channels import Channel, Direction
from core.domain.chat import ChatMessage, ChatSender, Conversation, ConversationStatus
from core.domain.clock import Clock
from core.domain.commands import IngestContact, Party
from core.domain.errors import Conflict, InvalidInput, NotFound
from core.domain.events import ConversationEnded
from core.domain.ids import new_id
from core.domain.messaging import OutboundKind
from core.domain.surveys import Invitation
from core.domain.workforce import Presence
from core.ports import Push, UnitOfWork, UnitOfWorkFactory
from core.services.ingest import ContactIngestion, IngestResult
from routing.configuration import ConfigurationLoader

MAX_TEXT = 4000
BACKLOG = 500
_VISITOR_ID_LENGTH = 24


def conversation_channel(conversation_id: str) -> str:
    return f"chat:{conversation_id}"


def agent_channel(agent_id: str) -> str:
    return f"agent:{agent_id}"


def new_visitor_id() -> str:
    return "vis_" + secrets.token_urlsafe(18)


def valid_visitor_id(value: object) -> bool:
    return isinstance(value, str) and value.startswith("vis_") and \
        len(value) == 4 + _VISITOR_ID_LENGTH and value[4:].replace("-", "").replace(
            "_", "").isalnum()


@dataclass(frozen=True, slots=True, kw_only=True)
class Greeting:
    conversation: Conversation
    resumed: bool
    agents_available: bool
    business_hours: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Transcripts:
    sender: SenderIdentity | None
    can_send: bool
    wake: asyncio.Event


def frame(message: ChatMessage) -> dict[str, object]:
    """A message as the widget and the desktop receive it."""
    found: dict[str, object] = {
        "type": "message", "conversation_id": message.conversation_id, "seq": message.seq,
        "from": message.sender.value, "text": message.text,
        "at": message.created_at.isoformat()}
    if message.client_msg_id:
        found["client_msg_id"] = message.client_msg_id
    if message.event:
        found["event"] = message.event
    return found


def survey_frame(invitation: Invitation) -> dict[str, object]:
    """The satisfaction survey prompt the widget shows (the questions are the widget's)."""
    return {"type": "survey", "survey_id": invitation.id,
            "conversation_id": invitation.reference, "kind": invitation.kind.value,
            "language": invitation.language, "expires_at": invitation.expires_at.isoformat()}


class ChatService:
    def __init__(self, *, uow: UnitOfWorkFactory, ingestion: ContactIngestion, clock: Clock,
                 push: Push, loader: ConfigurationLoader, transcripts: Transcripts) -> None:
        self._uow = uow
        self._ingestion = ingestion
        self._clock = clock
        self._push = push
        self._loader = loader
        self._transcripts = transcripts

    async def hello(self, *, visitor_id: str | None, conversation_id: str | None,
                    name: str | None, email: str | None, language: str | None,
                    topic: str | None) -> Greeting:
        visitor = visitor_id if visitor_id and valid_visitor_id(visitor_id) else new_visitor_id()
        now = self._clock.now()
        async with self._uow() as uow:
            found = await uow.chat.get_conversation(conversation_id) if conversation_id else None
            # Only the visitor who started a conversation may resume it.
            if found is not None and found.visitor_id == visitor and found.is_open:
                conversation, resumed = found, True
            else:
                conversation, resumed = Conversation(
                    id=new_id("cnv"), visitor_id=visitor,
                    language=language if language in ("nl", "en") else "nl",
                    name=name, claimed_email=email, topic=topic, created_at=now), False
                await uow.chat.add_conversation(conversation)
            available, open_now = await self._availability(uow)
            await uow.commit()
        return Greeting(conversation=conversation, resumed=resumed,
                        agents_available=available, business_hours=open_now)

    async def _availability(self, uow: UnitOfWork) -> tuple[bool, bool]:
        config = await self._loader.load(uow)
        open_now = config.routing_calendar.is_open(self._clock.now())
        agents = [a for a in await uow.workforce.list_agents()
                  if a.active and a.presence is Presence.AVAILABLE
                  and a.capacity.get(Channel.CHAT, 0) > 0]
        loads = await uow.work.loads([a.id for a in agents])
        free = any(a.capacity.get(Channel.CHAT, 0) > loads[a.id].holding(Channel.CHAT)
                   if a.id in loads else True for a in agents)
        return free, open_now

    async def backlog(self, conversation_id: str, after_seq: int) -> list[ChatMessage]:
        async with self._uow() as uow:
            return await uow.chat.messages_after(conversation_id, after_seq, limit=BACKLOG)

    async def visitor_message(self, conversation_id: str, visitor_id: str, text: str,
                              client_msg_id: str) -> ChatMessage:
        text = _text(text)
        async with self._uow() as uow:
            conversation = await self._open(uow, conversation_id)
            if conversation.visitor_id != visitor_id:
                raise NotFound("conversation", conversation_id)
            stored = await uow.chat.append(ChatMessage(
                conversation_id=conversation.id, seq=0, sender=ChatSender.VISITOR, text=text,
                created_at=self._clock.now(), client_msg_id=client_msg_id))
            await uow.commit()
        if conversation.contact_id is None:
            await self._first_contact(conversation, stored)
        await self._announce(conversation, frame(stored))
        return stored

    async def agent_message(self, conversation_id: str, agent_id: str,
                            text: str) -> ChatMessage:
        text = _text(text)
        async with self._uow() as uow:
            conversation = await self._open(uow, conversation_id)
            stored = await uow.chat.append(ChatMessage(
                conversation_id=conversation.id, seq=0, sender=ChatSender.AGENT, text=text,
                created_at=self._clock.now(), agent_id=agent_id))
            if conversation.agent_id is None:
                conversation.agent_id = agent_id
                await uow.chat.save_conversation(conversation)
            await uow.commit()
        await self._announce(conversation, frame(stored))
        return stored

    async def signal(self, conversation_id: str, visitor_id: str | None,
                     body: dict[str, object]) -> None:
        """Typing and read receipts: passed on, not stored."""
        async with self._uow() as uow:
            conversation = await uow.chat.get_conversation(conversation_id)
        if conversation is None or (visitor_id and conversation.visitor_id != visitor_id):
            return
        await self._announce(conversation, {**body, "conversation_id": conversation_id})

    async def agent_joined(self, case_id: str, agent_id: str, agent_name: str) -> None:
        async with self._uow() as uow:
            conversation = await uow.chat.conversation_for_case(case_id)
            if conversation is None or not conversation.is_open:
                return
            conversation.agent_id = agent_id
            await uow.chat.save_conversation(conversation)
            stored = await uow.chat.append(ChatMessage(
                conversation_id=conversation.id, seq=0, sender=ChatSender.SYSTEM,
                text=agent_name, event="agent_joined", created_at=self._clock.now(),
                agent_id=agent_id))
            await uow.commit()
        await self._announce(conversation, frame(stored))

    async def agent_left(self, case_id: str, agent_id: str) -> None:
        """The agent wrapped the chat up; a still-open chat goes back to waiting."""
        async with self._uow() as uow:
            conversation = await uow.chat.conversation_for_case(case_id)
            if conversation is None or not conversation.is_open \
                    or conversation.agent_id != agent_id:
                return
            conversation.agent_id = None
            await uow.chat.save_conversation(conversation)
            stored = await uow.chat.append(ChatMessage(
                conversation_id=conversation.id, seq=0, sender=ChatSender.SYSTEM,
                text="", event="agent_left", created_at=self._clock.now(), agent_id=agent_id))
            await uow.commit()
        await self._push.publish(conversation_channel(conversation.id), frame(stored))

    async def end(self, conversation_id: str, *, by: ChatSender,
                  send_transcript: bool) -> ChatMessage:
        async with self._uow() as uow:
            conversation = await self._open(uow, conversation_id)
            stored = await uow.chat.append(ChatMessage(
                conversation_id=conversation.id, seq=0, sender=ChatSender.SYSTEM,
                text=by.value, event="ended", created_at=self._clock.now()))
            conversation.status = ConversationStatus.ENDED
            conversation.ended_at = self._clock.now()
            await uow.chat.save_conversation(conversation)
            if conversation.case_id:  # the agent holding it starts after-contact work
                uow.outbox.add([ConversationEnded(
                    case_id=conversation.case_id, channel=Channel.CHAT.value,
                    ended_at=conversation.ended_at, reason=f"chat ended by the {by.value}")])
            transcript = _transcript(await uow.chat.messages_after(conversation.id, 0,
                                                                   limit=10_000))
            if conversation.contact_id:
                await uow.contacts.set_transcript(conversation.contact_id, transcript)
            mailed = send_transcript and await self._mail_transcript(uow, conversation,
                                                                     transcript)
            await uow.commit()
        if mailed:
            self._transcripts.wake.set()
        await self._announce(conversation, frame(stored))
        return stored

    async def survey_prompt(self, invitation: Invitation) -> None:
        """Ask the visitor of a chat survey's conversation (the widget stays connected a
        while after the end for this)."""
        if invitation.channel is Channel.CHAT and invitation.reference:
            await self._push.publish(conversation_channel(invitation.reference),
                                     survey_frame(invitation))

    async def leave_message(self, conversation_id: str, visitor_id: str, *, name: str | None,
                            email: str | None, text: str) -> IngestResult:
        """No agent (or closed): the visitor's message becomes a case like a form."""
        text = _text(text)
        async with self._uow() as uow:
            conversation = await uow.chat.get_conversation(conversation_id)
        if conversation is None or conversation.visitor_id != visitor_id:
            raise NotFound("conversation", conversation_id)
        if not email:
            raise InvalidInput({"email": "give an e-mail address so we can answer"})
        return await self._ingestion.ingest(IngestContact(
            channel=Channel.CHAT, direction=Direction.INBOUND,
            external_id=f"{conversation.id}:left-message",
            # Left for an answer by e-mail, like a form: the address is where we reply.
            party=Party(name=name or conversation.name, email=email,
                        visitor_id=conversation.visitor_id),
            subject=conversation.topic or _subject(text), summary=text[:2000], body=text,
            metadata=(("conversation_id", conversation.id), ("left_message", "true"),
                      ("language", conversation.language))))

    async def view(self, conversation_id: str) -> tuple[Conversation, list[ChatMessage]]:
        async with self._uow() as uow:
            conversation = await uow.chat.get_conversation(conversation_id)
            if conversation is None:
                raise NotFound("conversation", conversation_id)
            return conversation, await uow.chat.messages_after(conversation_id, 0,
                                                               limit=BACKLOG)

    # --- inside ----------------------------------------------------------------------

    async def _open(self, uow: UnitOfWork, conversation_id: str) -> Conversation:
        conversation = await uow.chat.get_conversation(conversation_id)
        if conversation is None:
            raise NotFound("conversation", conversation_id)
        if not conversation.is_open:
            raise Conflict("the conversation has ended")
        return conversation

    async def _first_contact(self, conversation: Conversation, first: ChatMessage) -> None:
        result = await self._ingestion.ingest(IngestContact(
            channel=Channel.CHAT, direction=Direction.INBOUND, external_id=conversation.id,
            party=Party(name=conversation.name, visitor_id=conversation.visitor_id,
                        claimed_email=conversation.claimed_email),
            subject=conversation.topic or _subject(first.text), summary=first.text[:2000],
            body=first.text,
            metadata=tuple((k, v) for k, v in (
                ("conversation_id", conversation.id), ("language", conversation.language),
                ("topic", conversation.topic)) if v)))
        async with self._uow() as uow:
            stored = await uow.chat.get_conversation(conversation.id)
            if stored is not None and stored.contact_id is None:
                stored.contact_id, stored.case_id = result.contact_id, result.case_id
                stored.customer_id = result.customer_id
                await uow.chat.save_conversation(stored)
                await uow.commit()
        conversation.contact_id, conversation.case_id = result.contact_id, result.case_id
        conversation.customer_id = result.customer_id

    async def _announce(self, conversation: Conversation, body: dict[str, object]) -> None:
        await self._push.publish(conversation_channel(conversation.id), body)
        agent = conversation.agent_id or await self._handling_agent(conversation)
        if agent:
            await self._push.publish(agent_channel(agent), {
                **body, "type": f"chat_{body.get('type')}", "case_id": conversation.case_id})

    async def _handling_agent(self, conversation: Conversation) -> str | None:
        if conversation.case_id is None:
            return None
        async with self._uow() as uow:
            item = await uow.work.item_for_case(conversation.case_id)
        return item.assigned_agent_id if item is not None else None

    async def _mail_transcript(self, uow: UnitOfWork, conversation: Conversation,
                               transcript: str) -> bool:
        settings = self._transcripts
        email = conversation.claimed_email
        if (not email or settings.sender is None or not settings.can_send
                or conversation.customer_id is None or conversation.case_id is None):
            return False
        now = self._clock.now()
        recent = await uow.outbound.count_recent(
            recipient=email, kind=OutboundKind.ACKNOWLEDGEMENT, since=now - timedelta(hours=1))
        if recent >= 3:
            return False
        title = "Uw chatgesprek" if conversation.language == "nl" else "Your chat"
        await queue_automatic(
            uow, sender=settings.sender, to_address=email, to_name=conversation.name,
            subject=title, text=transcript, customer_id=conversation.customer_id,
            case_id=conversation.case_id, source="chat", now=now)
        return True


def _text(text: str) -> str:
    cleaned = "".join(ch for ch in text if ch in "\n\t" or ch.isprintable()).strip()
    if not cleaned:
        raise InvalidInput({"text": "empty message"})
    if len(cleaned) > MAX_TEXT:
        raise InvalidInput({"text": f"at most {MAX_TEXT} characters"})
    return cleaned


def _subject(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first[:80] + ("…" if len(first) > 80 else "")


def _transcript(messages: list[ChatMessage]) -> str:
    lines = []
    for message in messages:
        if message.sender is ChatSender.SYSTEM:
            continue
        who = "Bezoeker" if message.sender is ChatSender.VISITOR else "Medewerker"
        lines.append(f"[{message.created_at:%H:%M}] {who}: {message.text}")
    return "\n".join(lines)
