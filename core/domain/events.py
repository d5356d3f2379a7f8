"""Domain events: facts in the past tense, frozen, serialisable to plain JSON.

Events leave the database through the transactional outbox as :class:`Envelope` objects;
every consumer is idempotent on ``Envelope.id`` because every transport delivers at
least once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    topic: ClassVar[str] = "event"

    def payload(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactReceived(Event):
    topic: ClassVar[str] = "contact.received"
    contact_id: str
    channel: str
    direction: str
    customer_id: str
    case_id: str | None
    occurred_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerResolved(Event):
    topic: ClassVar[str] = "customer.resolved"
    contact_id: str
    customer_id: str
    created: bool
    matched_on: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseOpened(Event):
    topic: ClassVar[str] = "case.opened"
    case_id: str
    customer_id: str
    contact_id: str | None
    case_type: str
    priority: int
    queue_id: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseUpdated(Event):
    topic: ClassVar[str] = "case.updated"
    case_id: str
    contact_id: str | None = None
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class PossibleDuplicateFlagged(Event):
    topic: ClassVar[str] = "customer.possible_duplicate"
    customer_id: str
    other_customer_id: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerProfileChanged(Event):
    """Who changed what on a customer, and how: the record of every profile edit."""

    topic: ClassVar[str] = "customer.profile_changed"
    customer_id: str
    by: str  # a principal's name, or "caller +316…" for phone self-service
    via: str  # "api", "phone self-service", …
    changes: dict[str, object]  # field → {"from": old, "to": new}


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomersMerged(Event):
    topic: ClassVar[str] = "customer.merged"
    merge_id: str
    survivor_id: str
    merged_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MergeUndone(Event):
    topic: ClassVar[str] = "customer.merge_undone"
    merge_id: str
    survivor_id: str
    restored_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseRouted(Event):
    """The rules decided where a case goes; a work item now waits in ``queue_id``."""

    topic: ClassVar[str] = "routing.case_routed"
    case_id: str
    contact_id: str
    work_item_id: str
    queue_id: str
    priority: int
    case_type: str
    decision_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkWaiting(Event):
    """Work (re)entered a queue: after routing, a decline, a timeout or a transfer."""

    topic: ClassVar[str] = "routing.work_waiting"
    work_item_id: str
    queue_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferMade(Event):
    topic: ClassVar[str] = "routing.offer_made"
    offer_id: str
    work_item_id: str
    case_id: str
    agent_id: str
    expires_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferAnswered(Event):
    """Accepted, declined, expired or withdrawn."""

    topic: ClassVar[str] = "routing.offer_answered"
    offer_id: str
    work_item_id: str
    case_id: str
    agent_id: str
    status: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationEnded(Event):
    """A channel saw the conversation on a case end: the call or the chat ended, or the
    agent's reply left. Whoever holds the case's work goes into after-contact work."""

    topic: ClassVar[str] = "contact.conversation_ended"
    case_id: str
    channel: str
    ended_at: datetime
    reason: str  # "call ended", "chat ended by the visitor", "reply sent", …


@dataclass(frozen=True, slots=True, kw_only=True)
class AfterContactWorkStarted(Event):
    """The agent holding the work is wrapping up; ``due_at``: it is wrapped up for them then
    (None: no limit)."""

    topic: ClassVar[str] = "routing.after_contact_work"
    work_item_id: str
    case_id: str
    agent_id: str
    started_at: datetime
    due_at: datetime | None
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkCompleted(Event):
    topic: ClassVar[str] = "routing.work_completed"
    work_item_id: str
    case_id: str
    agent_id: str
    disposition: str
    outcome: str
    automatic: bool = False  # the after-contact work time ran out
    callback_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkCancelled(Event):
    """Waiting work left the queue unanswered: the caller hung up, the visitor left, or the
    case was resolved or closed before anyone took it."""

    topic: ClassVar[str] = "routing.work_cancelled"
    work_item_id: str
    case_id: str
    queue_id: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentPresenceChanged(Event):
    topic: ClassVar[str] = "agent.presence_changed"
    agent_id: str
    presence: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SlaWarning(Event):
    topic: ClassVar[str] = "sla.warning"
    case_id: str
    clock_id: str
    kind: str
    due_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class SlaBreached(Event):
    topic: ClassVar[str] = "sla.breached"
    case_id: str
    clock_id: str
    kind: str
    due_at: datetime
    escalation: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryChanged(Event):
    """An outbound message was sent, given up on, or bounced back later."""

    topic: ClassVar[str] = "delivery.changed"
    contact_id: str
    case_id: str | None
    channel: str
    state: str
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemQuarantined(Event):
    """A channel received something it could not take in; a supervisor should look."""

    topic: ClassVar[str] = "channel.quarantined"
    item_id: str
    channel: str
    source: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Envelope:
    """An event on the wire: its own id (the idempotency key), topic and JSON payload."""

    id: str
    topic: str
    payload: dict[str, Any]
    occurred_at: datetime
