"""Ports: what the services need from the outside world, as Protocols.

Adapters in ``core.storage`` (SQLAlchemy) and ``core.bus`` (in-process, Redis Streams)
implement them; the contract tests in ``tests/contract`` run every implementation through
the same suite.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from core.domain.audit import AuditEntry, AuditFilter
from core.domain.calls import Call
from core.domain.channels import Channel
from core.domain.chat import ChatMessage, Conversation
from core.domain.contact import Case, CaseStatus, CaseType, Contact
from core.domain.customer import Customer, Identifier, IdentifierKind, Merge, PossibleDuplicate
from core.domain.events import Envelope, Event
from core.domain.messaging import (
    MessageRef,
    OutboundKind,
    OutboundMessage,
    QuarantinedItem,
    QuarantineStatus,
)
from core.domain.notes import Note
from core.domain.privacy import Consent, ErasureMatch, ErasureRequest, LegalHold
from core.domain.routing import Activation, ConfigDocument, RoutingDecision, RuleSetVersion
from core.domain.sla import SlaClock
from core.domain.surveys import Invitation, SurveyResponse, SurveySubject, SurveySummary
from core.domain.verification import Verification
from core.domain.work import AgentLoad, Offer, WorkItem, WorkStatus
from core.domain.workforce import Agent, Presence, Queue, Role, Team

EnvelopeHandler = Callable[[Envelope], Awaitable[None]]
BatchHandler = Callable[[Sequence[Envelope]], Awaitable[None]]


@dataclass(frozen=True, slots=True, kw_only=True)
class DeadLetter:
    envelope: Envelope
    group: str
    deliveries: int
    error: str


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupBacklog:
    """How far behind one consumer group is: envelopes published but not yet delivered to
    it (None when the transport cannot tell), delivered but not acknowledged, and given up
    on (dead letters)."""

    waiting: int | None
    pending: int
    dead_letters: int


class EventBus(Protocol):
    """At-least-once delivery of envelopes to named consumer groups.

    Every group declared with :meth:`declare_groups` receives every envelope published
    after the declaration, once per group (shared among that group's consumers). A handler
    that raises gets the envelope again later; after ``max_deliveries`` attempts the
    envelope goes to the group's dead letters instead.
    """

    async def declare_groups(self, groups: Sequence[str]) -> None: ...

    async def publish(self, envelopes: Sequence[Envelope]) -> None: ...

    async def consume(
        self, *, group: str, consumer: str, handler: EnvelopeHandler, stop: asyncio.Event
    ) -> None:
        """Deliver to ``handler`` until ``stop`` is set; acknowledge only after it returns."""
        ...

    async def consume_batches(
        self, *, group: str, consumer: str, handler: BatchHandler, stop: asyncio.Event
    ) -> None:
        """Like :meth:`consume`, but hand over everything already waiting (up to the bus's
        batch size) in one call, and acknowledge the lot when it returns. When a batch
        fails, its envelopes are delivered again one at a time (through the same handler,
        each with the usual retries and dead letter), so one bad envelope cannot hold back
        the others. A handler doing one transaction per batch turns a queue of N events
        into one commit instead of N."""
        ...

    async def pending(self, group: str) -> int:
        """Envelopes delivered to the group but not yet acknowledged or dead-lettered."""
        ...

    async def dead_letters(self, group: str) -> list[DeadLetter]: ...

    async def backlog(self, group: str) -> GroupBacklog:
        """Counts only, cheap enough to ask on every metrics scrape."""
        ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


class Push(Protocol):
    """Fan-out of small JSON messages to whoever listens on a channel right now (agent
    desktops, supervisor screens), in every process. Best effort: a listener that was not
    connected misses the message and re-reads the state when it connects."""

    async def publish(self, channel: str, message: dict[str, object]) -> None: ...

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[
            AsyncIterator[dict[str, object]]]: ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class TimelinePage:
    contacts: list[Contact]
    next_cursor: str | None


class CustomerRepository(Protocol):
    async def get(self, customer_id: str) -> Customer | None: ...
    async def add(self, customer: Customer) -> None: ...
    async def update_profile(self, customer: Customer) -> None: ...
    async def add_identifiers(
        self, customer_id: str, identifiers: Sequence[Identifier]) -> None: ...
    async def touch_identifiers(
        self, identifier_ids: Sequence[str], seen_at: datetime) -> None: ...
    async def lock_keys(self, keys: Sequence[tuple[IdentifierKind, str]]) -> None:
        """Serialise concurrent resolutions of the same identifiers until commit, so two
        simultaneous first contacts of one person cannot create two customers."""
        ...
    async def holders(
        self, keys: Sequence[tuple[IdentifierKind, str]]
    ) -> dict[tuple[IdentifierKind, str], list[str]]:
        """Active customers holding each matchable (valid, not claimed) identifier key."""
        ...
    async def holders_by_skeleton(self, skeletons: Sequence[str]) -> dict[str, list[str]]: ...
    async def search(
        self, *, email: str | None, phone: str | None, text: str | None, limit: int
    ) -> list[Customer]: ...
    async def move_identifiers(
        self, identifier_ids: Sequence[str], to_customer_id: str) -> None: ...
    async def set_status(
        self, customer_id: str, *, merged_into: str | None, at: datetime
    ) -> None: ...
    async def merged_into(self, customer_ids: Sequence[str]) -> list[str]:
        """The customers merged into any of these (one step; not undone)."""
        ...


class ContactRepository(Protocol):
    async def get(self, contact_id: str) -> Contact | None: ...
    async def get_by_ref(self, channel: str, external_id: str) -> Contact | None: ...
    async def add(self, contact: Contact) -> None: ...
    async def timeline(
        self, customer_id: str, *, limit: int, cursor: str | None
    ) -> TimelinePage: ...
    async def ids_for_customer(self, customer_id: str) -> list[str]: ...
    async def latest_per_channel(self, customer_id: str) -> list[Contact]:
        """The customer's newest contact on each channel, newest first."""
        ...
    async def for_case(self, case_id: str, *, limit: int) -> list[Contact]: ...
    async def set_transcript(self, contact_id: str, transcript: str) -> None: ...
    async def update_metadata(self, contact_id: str, updates: dict[str, str]) -> None:
        """Merge ``updates`` into the contact's channel facts (e.g. a delivery state)."""
        ...
    async def move(self, contact_ids: Sequence[str], to_customer_id: str) -> None: ...


class CaseRepository(Protocol):
    async def get(self, case_id: str, *, for_update: bool = False) -> Case | None:
        """``for_update``: hold the case against concurrent changes until commit."""
        ...
    async def get_by_number(self, number: int) -> Case | None: ...
    async def add(self, case: Case) -> None: ...
    async def save(self, case: Case) -> None: ...
    async def next_number(self) -> int: ...
    async def page(
        self, *, status: CaseStatus | None, queue_id: str | None, customer_id: str | None,
        limit: int, cursor: str | None, case_type: CaseType | None = None,
    ) -> tuple[list[Case], str | None]: ...
    async def open_for_customer(self, customer_id: str) -> list[Case]: ...
    async def ids_for_customer(self, customer_id: str) -> list[str]: ...
    async def move(self, case_ids: Sequence[str], to_customer_id: str) -> None: ...


class IdentityRecords(Protocol):
    """Possible duplicates and merges: the audit trail of identity decisions."""

    async def add_duplicate(self, duplicate: PossibleDuplicate) -> bool:
        """Record a pair once; returns False when the pair was already flagged."""
        ...
    async def duplicates_of(self, customer_id: str) -> list[PossibleDuplicate]: ...
    async def add_merge(self, merge: Merge) -> None: ...
    async def get_merge(self, merge_id: str) -> Merge | None: ...
    async def mark_merge_undone(self, merge_id: str, *, by: str, at: datetime) -> None: ...


class WorkforceRepository(Protocol):
    async def add_team(self, team: Team) -> None: ...
    async def add_queue(self, queue: Queue) -> None: ...
    async def add_agent(self, agent: Agent) -> None: ...
    async def get_agent(self, agent_id: str) -> Agent | None: ...
    async def get_queue(self, queue_id: str, *, archived: bool = False) -> Queue | None:
        """An archived (removed) queue only when ``archived``: to everything else it is gone."""
        ...
    async def list_agents(self) -> list[Agent]: ...
    async def list_queues(self, *, archived: bool = False) -> list[Queue]:
        """By name; archived (removed) queues too when ``archived``."""
        ...
    async def list_teams(self) -> list[Team]: ...
    async def save_agent(self, agent: Agent) -> None: ...
    async def save_queue(self, queue: Queue) -> None: ...
    async def save_team(self, team: Team) -> None: ...
    async def set_presence(self, agent_id: str, presence: Presence, at: datetime) -> None: ...
    async def agents_for_queues(self, queue_ids: Sequence[str]) -> list[Agent]:
        """Active agents serving any of these queues."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    """Who is calling: resolved from an API token or a browser session."""

    id: str
    name: str
    role: Role
    agent_id: str | None = None


class LeaseRepository(Protocol):
    async def take(self, name: str, holder: str, *, now: datetime,
                   until: datetime) -> bool:
        """Take or renew the lease; True when ``holder`` holds it until ``until``."""
        ...
    async def give_up(self, name: str, holder: str) -> None: ...
    async def holder(self, name: str, *, now: datetime) -> str | None: ...


class VerificationRepository(Protocol):
    async def add(self, verification: Verification) -> None: ...
    async def save(self, verification: Verification) -> None: ...
    async def latest(self, reference: str) -> Verification | None: ...
    async def count_since(self, customer_id: str, since: datetime) -> int: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenInfo:
    """An API token as an admin sees it: never the token or its hash."""

    id: str
    name: str
    role: Role
    agent_id: str | None
    created_at: datetime
    revoked_at: datetime | None


class AccessRepository(Protocol):
    async def add_token(self, *, token_id: str, token_hash: str, principal: Principal,
                        created_at: datetime) -> None: ...
    async def principal_for_token(self, token_hash: str) -> Principal | None: ...
    async def tokens(self) -> list[TokenInfo]:
        """Every token, newest first."""
        ...
    async def revoke_token(self, token_id: str, *, at: datetime) -> bool:
        """False when there is no such token or it was revoked already."""
        ...
    async def add_user(self, *, user_id: str, username: str, password_hash: str, role: Role,
                       agent_id: str | None, created_at: datetime) -> None: ...
    async def password_hash_for(self, username: str) -> tuple[str, Principal] | None: ...
    async def add_session(self, *, token_hash: str, user_id: str, created_at: datetime,
                          expires_at: datetime) -> None: ...
    async def principal_for_session(self, token_hash: str, *, at: datetime
                                    ) -> Principal | None:
        """The user behind a session that is neither revoked nor expired at ``at``."""
    async def revoke_session(self, token_hash: str, *, at: datetime) -> str | None:
        """Revoke one session; the user id it belonged to, if it was live."""
    async def set_password_hash(self, username: str, password_hash: str) -> str | None:
        """The user's id, or None when there is no such user."""
    async def revoke_sessions_of(self, user_id: str, *, at: datetime) -> int: ...


class RoutingRecords(Protocol):
    """Routing configuration (versioned rule sets, documents) and the decisions it made."""

    async def get_document(self, key: str) -> ConfigDocument | None: ...
    async def get_documents(self, keys: Sequence[str]) -> dict[str, ConfigDocument]:
        """The stored documents among ``keys`` (absent ones are left out), in one read."""
        ...
    async def put_document(self, key: str, document: object, *, expected_revision: int | None,
                           by: str, at: datetime) -> ConfigDocument:
        """Store a new revision; ``expected_revision`` guards against lost updates
        (raise Conflict when another writer got there first)."""
        ...
    async def add_version(self, *, document: dict[str, object], author: str, comment: str,
                          at: datetime) -> RuleSetVersion: ...
    async def get_version(self, number: int) -> RuleSetVersion | None: ...
    async def latest_version(self) -> RuleSetVersion | None: ...
    async def versions(self, *, limit: int) -> list[RuleSetVersion]: ...
    async def add_activation(self, activation: Activation) -> None: ...
    async def activations(self, *, limit: int) -> list[Activation]:
        """Newest first."""
        ...
    async def add_decision(self, decision: RoutingDecision) -> None: ...
    async def decisions_for_case(self, case_id: str) -> list[RoutingDecision]: ...
    async def recent_decisions(self, *, limit: int) -> list[RoutingDecision]:
        """The newest decision per contact, newest first."""
        ...


class WorkRepository(Protocol):
    """Work items, offers and agent occupancy.

    Saves are conditional on the version read (optimistic concurrency): two dispatchers
    that race for one item or one agent's last free slot cannot both win. A lost race
    raises ``Conflict``; the loser's unit of work rolls back and it tries again.
    """

    async def fail_fast_on_locks(self) -> None:
        """For the rest of this unit of work, a row another transaction holds makes a save
        raise ``Conflict`` at once instead of waiting, so dispatchers that each hold many
        rows can never deadlock each other."""
        ...


    async def add_item(self, item: WorkItem) -> None: ...
    async def get_item(self, item_id: str) -> WorkItem | None: ...
    async def item_for_case(self, case_id: str) -> WorkItem | None:
        """The case's live item (queued, offered or assigned), if any."""
        ...
    async def live_in_queue(self, queue_id: str) -> int:
        """How many items wait in, are offered from or are held from this queue."""
        ...
    async def save_item(self, item: WorkItem) -> None: ...
    async def waiting(self, *, limit: int, now: datetime | None = None) -> list[WorkItem]:
        """Queued items, oldest first (the dispatcher orders them by effective priority);
        with ``now``, only those waiting by then (a planned callback waits from its time)."""
        ...
    async def next_scheduled(self, now: datetime) -> datetime | None:
        """When the next queued item planned for later (a callback) starts waiting."""
        ...
    async def wrap_ups_due(self, now: datetime, *, limit: int) -> list[WorkItem]:
        """Assigned items whose after-contact work time ran out by ``now``, oldest first."""
        ...
    async def next_wrap_up_due(self) -> datetime | None: ...
    async def assigned_to(self, agent_id: str) -> list[WorkItem]: ...
    async def last_agent_for_customer(self, customer_id: str) -> str | None:
        """The agent who most recently took work of this customer (sticky routing)."""
        ...
    async def add_offer(self, offer: Offer, trace: dict[str, object]) -> None: ...
    async def get_offer(self, offer_id: str) -> Offer | None: ...
    async def save_offer(self, offer: Offer) -> None: ...
    async def pending_offers(self, *, agent_id: str | None = None) -> list[Offer]: ...
    async def expired_offers(self, now: datetime, *, limit: int) -> list[Offer]: ...
    async def next_offer_expiry(self) -> datetime | None: ...
    async def offers_for_case(self, case_id: str) -> list[tuple[Offer, dict[str, object]]]: ...
    async def get_load(self, agent_id: str) -> AgentLoad | None: ...
    async def loads(self, agent_ids: Sequence[str]) -> dict[str, AgentLoad]: ...
    async def save_load(self, load: AgentLoad) -> None:
        """Insert (version 0) or update conditionally on ``load.version``; bumps it."""
        ...


class SlaRepository(Protocol):
    async def add_clock(self, clock: SlaClock) -> None: ...
    async def save_clock(self, clock: SlaClock) -> None: ...
    async def clocks_for_case(self, case_id: str) -> list[SlaClock]: ...
    async def clocks_for_cases(self, case_ids: Sequence[str]) -> list[SlaClock]:
        """Every clock of these cases, by case, oldest first."""
        ...
    async def due(self, now: datetime, *, limit: int) -> list[SlaClock]:
        """Clocks whose next deadline has passed."""
        ...
    async def next_deadline(self) -> datetime | None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class WaitingWork:
    """Work waiting in one queue on one channel, still queued or being offered: how many
    items, and since when the oldest of them waits."""

    queue_id: str
    channel: Channel
    status: WorkStatus  # QUEUED or OFFERED
    count: int
    oldest_enqueued_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class HeldWork:
    """A work item an agent holds (ASSIGNED) or is being offered (OFFERED)."""

    work_item_id: str
    case_id: str
    case_number: int | None  # None when the case row is gone
    channel: Channel
    queue_id: str
    status: WorkStatus
    agent_id: str | None
    since: datetime | None  # when the offer was made (OFFERED) or accepted (ASSIGNED)
    expires_at: datetime | None  # the pending offer's deadline (OFFERED)
    after_contact_work_since: datetime | None = None  # the conversation ended (ASSIGNED)
    wrap_up_due_at: datetime | None = None  # then it is wrapped up automatically


@dataclass(frozen=True, slots=True, kw_only=True)
class BoardClock:
    """An SLA clock with what the wallboard needs of its case: the queue its work is in
    (the case's newest work item's, else the case's) and whether it was answered or ended,
    which the clock itself learns only a moment later (the SLA follower)."""

    clock: SlaClock
    case_number: int
    queue_id: str | None
    case_status: CaseStatus
    first_responded_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None


class WallboardQueries(Protocol):
    """Read-only queries behind the supervisors' live wallboard."""

    async def waiting_work(self, *, now: datetime | None = None) -> list[WaitingWork]:
        """Queued and offered work grouped by (queue, channel, status); with ``now``, not
        what waits only from later (a planned callback)."""
        ...
    async def held_work(self) -> list[HeldWork]:
        """Every offered and assigned work item, with its case number and agent."""
        ...
    async def board_clocks(self, *, since: datetime, now: datetime) -> list[BoardClock]:
        """The clocks the board may count or show, a superset of what it needs: first-
        response clocks stopped at or after ``since``; clocks not stopped and not paused
        that are flagged or past their warning or due time at ``now``; and first-response
        clocks not stopped whose case records a first response, resolution or closing at
        or after ``since``."""
        ...


class SurveyRepository(Protocol):
    """Satisfaction survey invitations, responses, and each customer's cap and opt-out."""

    async def add_invitation(self, invitation: Invitation) -> None: ...
    async def get_invitation(self, invitation_id: str) -> Invitation | None: ...
    async def invitation_by_token(self, token_hash: str) -> Invitation | None: ...
    async def invitation_for_case(self, case_id: str) -> Invitation | None:
        """The newest invitation about this case, on any channel."""
        ...
    async def open_invitation(self, channel: str, reference: str, *,
                              now: datetime) -> Invitation | None:
        """The newest unanswered, unexpired invitation with this channel handle (a chat
        conversation id, a call sid)."""
        ...
    async def subject(self, customer_id: str) -> SurveySubject | None: ...
    async def claim(self, customer_id: str, *, now: datetime, not_after: datetime) -> bool:
        """Atomically note that the customer is asked now — only if they have not opted
        out and were last asked at or before ``not_after`` (the frequency cap); False
        otherwise. Two claims at once never both succeed."""
        ...
    async def set_opt_out(self, customer_id: str, *, at: datetime | None,
                          via: str | None) -> None:
        """Opt the customer out (``at`` set) or back in (``at`` None)."""
        ...
    async def mark_answered(self, invitation_id: str, at: datetime) -> bool:
        """False when it was answered already (by a concurrent request too)."""
        ...
    async def add_response(self, response: SurveyResponse) -> None: ...
    async def response_for(self, invitation_id: str) -> SurveyResponse | None: ...
    async def responses_for_customer(self, customer_id: str, *,
                                     limit: int) -> list[SurveyResponse]:
        """Newest first."""
        ...
    async def responses_for_contacts(self, contact_ids: Sequence[str]
                                     ) -> list[SurveyResponse]: ...
    async def responses_between(self, *, since: datetime | None, until: datetime | None,
                                limit: int, cursor: str | None,
                                ) -> tuple[list[SurveyResponse], str | None]:
        """Answered in [since, until), newest first, keyset-paginated."""
        ...
    async def summary_between(self, *, since: datetime | None,
                              until: datetime | None) -> SurveySummary:
        """CSAT and NPS over every answer in [since, until)."""
        ...


class NoteRepository(Protocol):
    """Internal notes on cases (core.domain.notes)."""

    async def add(self, note: Note) -> None: ...
    async def get(self, note_id: str) -> Note | None: ...
    async def for_case(self, case_id: str, *, limit: int) -> list[Note]:
        """Oldest first."""
        ...
    async def latest_for_case(self, case_id: str, *, limit: int) -> list[Note]:
        """Newest first."""
        ...
    async def count_for_case(self, case_id: str) -> int: ...
    async def delete(self, note_id: str) -> bool:
        """False when it was deleted already (by a concurrent request too)."""
        ...


class BlobStore(Protocol):
    """Content-addressed bytes (raw originals, attachments): the key is the content's hash,
    so storing the same bytes twice stores them once."""

    async def put(self, content: bytes) -> str: ...
    async def get(self, key: str) -> bytes | None: ...


class ChannelCursors(Protocol):
    """Where a polling adapter got to: (validity, position), e.g. IMAP (UIDVALIDITY, UID)."""

    async def get(self, source: str) -> tuple[int, int] | None: ...
    async def save(self, source: str, validity: int, position: int) -> None: ...


class QuarantineRecords(Protocol):
    async def record_failure(self, *, channel: str, source: str, item_ref: str,
                             raw_ref: str | None, reason: str, give_up: bool,
                             max_attempts: int) -> QuarantinedItem:
        """Count one failed attempt; the item is quarantined when ``give_up`` is set or it
        has failed ``max_attempts`` times."""
        ...
    async def find(self, source: str, item_ref: str) -> QuarantinedItem | None: ...
    async def get(self, item_id: str) -> QuarantinedItem | None: ...
    async def page(self, *, status: QuarantineStatus | None, limit: int,
                   ) -> list[QuarantinedItem]: ...
    async def set_status(self, item_id: str, status: QuarantineStatus) -> None: ...


class MessageRefs(Protocol):
    async def add(self, refs: Sequence[MessageRef]) -> None:
        """Record references; one already recorded for the same contact is kept once."""
        ...
    async def find(self, channel: str, message_ids: Sequence[str]) -> list[MessageRef]: ...
    async def for_case(self, channel: str, case_id: str) -> list[MessageRef]: ...


class OutboundMessages(Protocol):
    async def add(self, message: OutboundMessage) -> None: ...
    async def get(self, message_id: str) -> OutboundMessage | None:
        """By the channel message id (e-mail Message-ID)."""
        ...
    async def for_contact(self, contact_id: str) -> OutboundMessage | None: ...
    async def due(self, now: datetime, *, limit: int) -> list[OutboundMessage]:
        """Queued messages whose next attempt is due and that no sender holds."""
        ...
    async def claim(self, message_id: str, *, until: datetime, now: datetime) -> bool:
        """Hold a due message for one sender until ``until``; False if another holds it."""
        ...
    async def save(self, message: OutboundMessage) -> None:
        """Store the outcome of an attempt and release the hold."""
        ...
    async def next_due(self) -> datetime | None: ...
    async def count_recent(self, *, recipient: str, kind: OutboundKind,
                           since: datetime) -> int: ...


class ChatRepository(Protocol):
    async def add_conversation(self, conversation: Conversation) -> None: ...
    async def get_conversation(self, conversation_id: str) -> Conversation | None: ...
    async def save_conversation(self, conversation: Conversation) -> None: ...
    async def conversation_for_case(self, case_id: str) -> Conversation | None: ...
    async def append(self, message: ChatMessage) -> ChatMessage:
        """Store with the conversation's next sequence number (``message.seq`` is ignored);
        a visitor message whose ``client_msg_id`` is already stored returns that one."""
        ...
    async def messages_after(self, conversation_id: str, seq: int, *,
                             limit: int) -> list[ChatMessage]: ...
    async def conversations_for_customers(self, customer_ids: Sequence[str]
                                          ) -> list[Conversation]:
        """Theirs by the conversation's customer or its case's, oldest first."""
        ...


class CallRepository(Protocol):
    async def add(self, call: Call) -> bool:
        """False when the call was already stored (the platform retried its webhook)."""
        ...
    async def get(self, sid: str) -> Call | None: ...
    async def active_for_case(self, case_id: str) -> Call | None:
        """The inbound call still going on for this case, if any."""
        ...
    async def save(self, call: Call) -> None: ...
    async def for_customers(self, customer_ids: Sequence[str]) -> list[Call]:
        """Theirs by the call's customer or its contact's, oldest first."""
        ...
    async def first_event(self, sid: str, event: str) -> bool:
        """Record that ``event`` happened to the call; False if it already had."""
        ...


# --- reports: what happened in a period, for supervisors -----------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class VolumeCount:
    """Contacts received in one UTC hour (folded into the business time zone's days by the
    service), by channel, direction and the type of their case (None: no case)."""

    hour: datetime
    channel: str
    direction: str
    case_type: str | None
    contacts: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CallTally:
    """Inbound calls that entered a queue, per queue (see docs/reports.md)."""

    queue_id: str | None
    entered: int
    waiting: int  # still in the queue: neither answered, ended nor a callback
    answered: int
    answered_within_target: int
    abandoned: int
    callbacks: int


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkTally:
    """Routed contacts (one work item each), per channel, queue and the agent who accepted
    first (None: not accepted); durations are sums in seconds over ``count``-named rows."""

    channel: str
    queue_id: str | None
    agent_id: str | None
    routed: int
    accepted: int
    answer_wait_s: float  # over accepted
    handled: int  # accepted and wrapped up, both times stored
    handle_s: float  # over handled: accept to wrap-up
    talk_s: float  # over handled: accept to the conversation's end
    after_contact_work_s: float  # over handled: the conversation's end to wrap-up
    responded: int
    first_response_s: float  # over responded
    sla_met: int
    sla_missed: int
    sla_pending: int
    chats: int
    chats_answered: int
    chats_abandoned: int


@dataclass(frozen=True, slots=True, kw_only=True)
class WrapUpTally:
    """Routed contacts wrapped up with this outcome and disposition, per channel, queue and
    the agent credited; ``first_contact``: resolved, and the only inbound contact of the
    case; ``automatic``: wrapped up when the after-contact work time ran out."""

    channel: str
    queue_id: str | None
    agent_id: str | None
    outcome: str
    disposition: str | None
    wrapped_up: int
    first_contact: int
    automatic: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactLine:
    """One contact with what reporting knows of it: a row of the CSV export."""

    contact_id: str
    received_at: datetime
    channel: str
    direction: str
    customer_id: str
    customer_name: str | None
    case_number: int | None
    case_type: str | None
    case_status: str | None
    queue_id: str | None
    wait_s: float | None
    handle_s: float | None
    first_response_s: float | None
    sla_met: bool | None  # None: no first-response clock on this contact, or not decided
    outcome: str | None  # the wrap-up's outcome
    csat: int | None = None  # the satisfaction score the customer gave this contact
    talk_s: float | None = None
    after_contact_work_s: float | None = None
    disposition: str | None = None
    channel_outcome: str | None = None  # a call's or chat's: answered, abandoned, …


class ReportQueries(Protocol):
    """Read-only reporting over contacts received in ``[start, end)``; ``now`` decides
    which running SLA clocks are already overdue. Definitions: docs/reports.md."""

    async def volumes(self, start: datetime, end: datetime) -> list[VolumeCount]: ...
    async def calls(self, start: datetime, end: datetime, *,
                    answer_within_s: int) -> list[CallTally]: ...
    async def work(self, start: datetime, end: datetime, *,
                   now: datetime) -> list[WorkTally]: ...
    async def wrap_ups(self, start: datetime, end: datetime) -> list[WrapUpTally]: ...
    def contact_lines(self, start: datetime, end: datetime, *,
                      now: datetime) -> AsyncIterator[ContactLine]:
        """Oldest first, streamed from the database (a year does not sit in memory)."""
        ...


class AuditLog(Protocol):
    """The append-only audit log: entries are added in the unit of work of the change they
    record (so both commit or neither does) and never changed or removed."""

    async def add(self, entry: AuditEntry) -> None: ...
    async def page(self, where: AuditFilter, *, limit: int, cursor: str | None,
                   ) -> tuple[list[AuditEntry], str | None]:
        """Newest first, keyset-paginated."""
        ...
    def stream(self, where: AuditFilter) -> AsyncIterator[AuditEntry]:
        """Oldest first, streamed from the database (for exports)."""
        ...


class PrivacyRecords(Protocol):
    """Legal holds, erasure requests and contact consent (core.domain.privacy)."""

    async def add_hold(self, hold: LegalHold) -> None: ...
    async def save_hold(self, hold: LegalHold) -> None: ...
    async def get_hold(self, hold_id: str) -> LegalHold | None: ...
    async def holds_for(self, customer_ids: Sequence[str], *,
                        active_only: bool) -> list[LegalHold]:
        """Holds on these customers and on their cases, oldest first."""
        ...
    async def active_holds(self, *, limit: int) -> list[LegalHold]: ...
    async def add_erasure(self, request: ErasureRequest) -> None: ...
    async def save_erasure(self, request: ErasureRequest) -> None: ...
    async def get_erasure(self, request_id: str, *,
                          for_update: bool = False) -> ErasureRequest | None: ...
    async def erasure_for(self, customer_id: str) -> ErasureRequest | None:
        """The newest erasure of this customer (or of one it was merged into)."""
        ...
    async def open_erasures(self, *, limit: int) -> list[ErasureRequest]:
        """Erasures not finished yet, oldest first."""
        ...
    async def consents(self, customer_ids: Sequence[str]) -> list[Consent]: ...
    async def set_consent(self, consent: Consent) -> None: ...


class Redactions(Protocol):
    """Removing personal data in bounded, idempotent batches (core.storage.redaction)."""

    async def merged_into(self, customer_id: str) -> list[str]: ...
    async def identity_values(self, customer_ids: Sequence[str]) -> ErasureMatch: ...
    async def erase_identity(self, customer_ids: Sequence[str], match: ErasureMatch, *,
                             at: datetime) -> dict[str, int]: ...
    async def contact_ids(self, *, customer_ids: Sequence[str] = (),
                          case_ids: Sequence[str] = (), after: str | None,
                          limit: int) -> list[str]: ...
    async def redact_contacts(self, contact_ids: Sequence[str], *,
                              at: datetime) -> set[str]:
        """Returns the keys of the blobs the contacts referred to."""
        ...
    async def case_ids(self, *, customer_ids: Sequence[str], after: str | None,
                       limit: int) -> list[str]: ...
    async def redact_cases(self, case_ids: Sequence[str], *, at: datetime) -> int: ...
    async def redact_chats(self, customer_ids: Sequence[str],
                           emails: Sequence[str]) -> int: ...
    async def redact_calls(self, customer_ids: Sequence[str],
                           phones: Sequence[str]) -> int: ...
    async def redact_survey_comments(self, customer_ids: Sequence[str]) -> int: ...
    async def redact_event_payloads(self, customer_ids: Sequence[str]) -> int: ...
    async def quarantined_originals(self, *, after: str | None,
                                    limit: int) -> list[tuple[str, str]]: ...
    async def drop_quarantined_originals(self, item_ids: Sequence[str], *,
                                         why: str) -> set[str]: ...
    async def blob(self, key: str) -> bytes | None: ...
    async def release_blobs(self, keys: Iterable[str], *, at: datetime) -> None: ...
    async def sweep_blobs(self, *, limit: int) -> tuple[int, int]:
        """Delete released blobs nobody refers to: (looked at, deleted)."""
        ...


class RetentionQueries(Protocol):
    """Data past its term, a batch at a time, never what a legal hold covers."""

    async def raw_mail_past(self, before: datetime, *, limit: int) -> list[str]: ...
    async def strip_raw_mail(self, contact_ids: Sequence[str]) -> set[str]: ...
    async def quarantined_past(self, before: datetime, *, limit: int) -> list[str]: ...
    async def recordings_past(self, before: datetime, *, limit: int) -> list[str]: ...
    async def strip_recordings(self, call_sids: Sequence[str]) -> int: ...
    async def contacts_past(self, channel: str, before: datetime, *,
                            limit: int) -> list[str]: ...
    async def blank_chat_lines_past(self, before: datetime, *, limit: int) -> int: ...
    async def closed_cases_past(self, before: datetime, *, limit: int) -> list[str]: ...
    async def inactive_customers(self, before: datetime, *, limit: int) -> list[str]: ...


class EventHistory(Protocol):
    """What the event transport keeps after delivery (a Redis stream holds up to its
    MAXLEN of past entries, dead letters until someone looks)."""

    async def forget(self, *, topics: Sequence[str], mentioning: Sequence[str],
                     since: datetime | None) -> int:
        """Remove retained envelopes of ``topics`` whose payload names any of
        ``mentioning``, published at or after ``since``; returns how many."""
        ...


class Outbox(Protocol):
    def add(self, events: Sequence[Event]) -> None:
        """Queue events to leave with this unit of work's commit (and only then)."""
        ...


class Inbox(Protocol):
    async def first_delivery(self, group: str, envelope_id: str) -> bool:
        """Record that ``group`` handled the envelope; False if it already had.

        Done inside the handler's unit of work, so the effect and the record commit together.
        """
        ...


class UnitOfWork(Protocol):
    customers: CustomerRepository
    contacts: ContactRepository
    cases: CaseRepository
    identity: IdentityRecords
    workforce: WorkforceRepository
    access: AccessRepository
    routing: RoutingRecords
    work: WorkRepository
    sla: SlaRepository
    blobs: BlobStore
    channel_cursors: ChannelCursors
    quarantine: QuarantineRecords
    message_refs: MessageRefs
    outbound: OutboundMessages
    chat: ChatRepository
    calls: CallRepository
    reports: ReportQueries
    wallboard: WallboardQueries
    verifications: VerificationRepository
    leases: LeaseRepository
    surveys: SurveyRepository
    notes: NoteRepository
    audit: AuditLog
    privacy: PrivacyRecords
    redactions: Redactions
    retention: RetentionQueries
    outbox: Outbox
    inbox: Inbox

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed."""
        ...
    async def commit(self) -> None: ...

    def savepoint(self) -> AbstractAsyncContextManager[None]:
        """A nested transaction: an exception inside undoes only what was done inside."""
        ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
