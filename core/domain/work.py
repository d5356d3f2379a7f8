"""Work waiting for an agent, the offers made for it, and how occupied each agent is.

A work item is the routing side of a case: it carries what the rules decided (queue,
priority, skills, tier, preferences) and moves QUEUED → OFFERED → ASSIGNED → COMPLETED.
Every move is a method that refuses an impossible one, so a late or duplicated message
(an accept after a timeout, a second wrap-up) cannot corrupt it.

While ASSIGNED, an item is first *handled* (the conversation with the customer) and then in
*after-contact work* from the moment the conversation ended (the call or chat ended, the
reply was sent, or the agent opened wrap-up) until it is completed with a disposition and
an outcome. It keeps when each of those happened, so handle time is stored, not guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from core.domain.channels import Channel
from core.domain.errors import Conflict, InvalidInput
from core.domain.workforce import Tier


class WorkStatus(StrEnum):
    QUEUED = "queued"
    OFFERED = "offered"
    ASSIGNED = "assigned"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


LIVE_STATUSES = frozenset({WorkStatus.QUEUED, WorkStatus.OFFERED, WorkStatus.ASSIGNED})


class WorkKind(StrEnum):
    CONTACT = "contact"    # a contact routing made into work
    CALLBACK = "callback"  # a call back an agent promised at wrap-up, waiting from its time


class WrapUpOutcome(StrEnum):
    """How the agent left the case at wrap-up (the case follows: see routing.wrap_up)."""

    RESOLVED = "resolved"
    FOLLOW_UP = "follow_up"                # waiting on the customer: the case is pending
    CALLBACK_PLANNED = "callback_planned"  # we call the customer back at a set time
    OPEN = "open"                          # more work later; the case stays as it is

    @classmethod
    def parse(cls, value: str) -> WrapUpOutcome:
        """The outcome named; ``pending`` is the name desktops used before ``follow_up``."""
        return cls.FOLLOW_UP if value == "pending" else cls(value)


@dataclass(slots=True, kw_only=True)
class WorkItem:
    id: str
    case_id: str
    contact_id: str
    customer_id: str
    channel: Channel
    queue_id: str
    priority: int
    skills: dict[str, int]            # skill -> minimum level
    tier: Tier
    preferred_agent_ids: tuple[str, ...] = ()
    preferred_team_id: str | None = None
    # Agents who declined or let an offer lapse: asked again only when nobody else can.
    excluded_agent_ids: tuple[str, ...] = ()
    status: WorkStatus = WorkStatus.QUEUED
    enqueued_at: datetime             # start of the current wait; relaxation counts from it
    created_at: datetime
    assigned_agent_id: str | None = None
    offer_id: str | None = None
    attempts: int = 0                 # offers made so far
    version: int = 0                  # optimistic concurrency between dispatchers
    kind: WorkKind = WorkKind.CONTACT
    accepted_at: datetime | None = None            # the first accept
    conversation_ended_at: datetime | None = None  # after-contact work began
    wrap_up_due_at: datetime | None = None         # then it is wrapped up automatically
    completed_at: datetime | None = None
    disposition: str | None = None
    outcome: WrapUpOutcome | None = None
    callback_at: datetime | None = None            # the call back promised at wrap-up

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def in_after_contact_work(self) -> bool:
        return self.status is WorkStatus.ASSIGNED and self.conversation_ended_at is not None

    def offer_to(self, offer_id: str, agent_id: str) -> None:
        self._expect(WorkStatus.QUEUED, "offered")
        self.status = WorkStatus.OFFERED
        self.offer_id = offer_id
        self.attempts += 1

    def back_to_queue(self, *, excluded_agent_id: str, at: datetime) -> None:
        """The offer was declined, timed out or withdrawn. The wait keeps counting from
        the original enqueue time so relaxation and aging are not reset by a refusal."""
        self._expect(WorkStatus.OFFERED, "requeued")
        self.status = WorkStatus.QUEUED
        self.offer_id = None
        if excluded_agent_id not in self.excluded_agent_ids:
            self.excluded_agent_ids = (*self.excluded_agent_ids, excluded_agent_id)

    def assign(self, agent_id: str, *, at: datetime | None = None) -> None:
        self._expect(WorkStatus.OFFERED, "assigned")
        self.status = WorkStatus.ASSIGNED
        self.assigned_agent_id = agent_id
        if self.accepted_at is None:
            # The first accept: a transferred item's handling counts from there.
            self.accepted_at = at

    def transfer(self, *, queue_id: str | None = None, agent_id: str | None = None,
                 tier: Tier | None = None, at: datetime) -> None:
        """Held work goes back to waiting, aimed at a queue, a colleague or 2nd line. The
        transferring agent is excluded so it does not bounce straight back."""
        self._expect(WorkStatus.ASSIGNED, "transferred")
        previous = self.assigned_agent_id
        self.status = WorkStatus.QUEUED
        self.assigned_agent_id = None
        self.offer_id = None
        if queue_id is not None:
            self.queue_id = queue_id
        if agent_id is not None:
            self.preferred_agent_ids = (agent_id,)
        elif queue_id is not None or tier is not None:
            self.preferred_agent_ids = ()
        if tier is not None and tier > self.tier:
            self.tier = tier
        self.excluded_agent_ids = (previous,) if previous and previous != agent_id else ()
        self.enqueued_at = at
        # The next agent has a conversation of their own before wrapping up.
        self.conversation_ended_at = self.wrap_up_due_at = None

    def end_conversation(self, at: datetime, *, wrap_up_due_at: datetime | None) -> bool:
        """After-contact work starts; False when it already had (the first end counts)."""
        self._expect(WorkStatus.ASSIGNED, "wrapped up")
        if self.conversation_ended_at is not None:
            return False
        self.conversation_ended_at = at
        self.wrap_up_due_at = wrap_up_due_at
        return True

    def complete(self, at: datetime, *, disposition: str | None = None,
                 outcome: WrapUpOutcome | None = None,
                 callback_at: datetime | None = None) -> None:
        self._expect(WorkStatus.ASSIGNED, "completed")
        if outcome is WrapUpOutcome.CALLBACK_PLANNED and callback_at is None:
            raise InvalidInput({"callback_at": "required when the outcome is callback_planned"})
        self.status = WorkStatus.COMPLETED
        if self.conversation_ended_at is None:  # wrapped up straight from the conversation
            self.conversation_ended_at = at
        self.completed_at = at
        self.disposition, self.outcome = disposition, outcome
        self.callback_at = callback_at if outcome is WrapUpOutcome.CALLBACK_PLANNED else None

    def cancel(self) -> None:
        if not self.is_live:
            raise Conflict(f"work item {self.id} is already {self.status.value}")
        self.status = WorkStatus.CANCELLED
        self.offer_id = None

    def _expect(self, status: WorkStatus, becoming: str) -> None:
        if self.status is not status:
            raise Conflict(f"work item {self.id} is {self.status.value}; "
                           f"only {status.value} work can be {becoming}")


class OfferStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


@dataclass(slots=True, kw_only=True)
class Offer:
    id: str
    work_item_id: str
    agent_id: str
    case_id: str
    channel: Channel
    created_at: datetime
    expires_at: datetime
    status: OfferStatus = OfferStatus.PENDING
    answered_at: datetime | None = None

    def accept(self, at: datetime) -> None:
        self._answer(OfferStatus.ACCEPTED, at)
        if at >= self.expires_at:
            # The timer may not have run yet; the deadline is what the agent was shown.
            self.status, self.answered_at = OfferStatus.PENDING, None
            raise Conflict(f"offer {self.id} expired at {self.expires_at.isoformat()}")

    def decline(self, at: datetime) -> None:
        self._answer(OfferStatus.DECLINED, at)

    def expire(self, at: datetime) -> None:
        self._answer(OfferStatus.EXPIRED, at)

    def withdraw(self, at: datetime) -> None:
        self._answer(OfferStatus.WITHDRAWN, at)

    def _answer(self, status: OfferStatus, at: datetime) -> None:
        if self.status is not OfferStatus.PENDING:
            raise Conflict(f"offer {self.id} is already {self.status.value}")
        self.status = status
        self.answered_at = at


@dataclass(slots=True, kw_only=True)
class AgentLoad:
    """How much an agent holds per channel, kept apart from the agent record so offers and
    releases (hot, contended) never race profile edits."""

    agent_id: str
    load: dict[Channel, int] = field(default_factory=dict)
    idle_since: datetime | None = None   # when the agent last became free of all work
    missed_offers: int = 0               # consecutive offers that timed out
    version: int = 0

    def holding(self, channel: Channel) -> int:
        return self.load.get(channel, 0)

    def release(self, channel: Channel, at: datetime) -> None:
        """One piece of work on ``channel`` ended or was never taken up."""
        self.load[channel] = max(0, self.load.get(channel, 0) - 1)
        if not any(self.load.values()):
            self.idle_since = at

    @property
    def total(self) -> int:
        return sum(self.load.values())
