"""Channel bookkeeping that is not a contact: what we send, what we could not read, and the
message references that thread a conversation.

Channel-neutral on purpose: e-mail is the first user, but an SMS or WhatsApp adapter needs
the same outbox with retries, the same quarantine and the same reference index.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from core.domain.channels import Direction


def content_key(content: bytes) -> str:
    """The blob store's key for ``content``: the same bytes always get the same key."""
    return f"sha256:{hashlib.sha256(content).hexdigest()}"


class DeliveryState(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"  # given up: a permanent refusal, or retries exhausted
    BOUNCED = "bounced"  # accepted, then returned by a later server (a DSN)


class OutboundKind(StrEnum):
    REPLY = "reply"
    ACKNOWLEDGEMENT = "acknowledgement"


@dataclass(slots=True, kw_only=True)
class OutboundMessage:
    """One message on its way out. ``envelope`` is what the channel needs to build it again
    on every attempt, so a retry sends the very same message (same Message-ID)."""

    id: str
    channel: str
    kind: OutboundKind
    contact_id: str
    case_id: str | None
    message_id: str
    recipient: str
    envelope: dict[str, object] = field(repr=False)
    state: DeliveryState = DeliveryState.QUEUED
    attempts: int = 0
    next_attempt_at: datetime
    last_error: str | None = None
    created_at: datetime
    sent_at: datetime | None = None

    def sent(self, at: datetime) -> None:
        self.state = DeliveryState.SENT
        self.sent_at = at
        self.last_error = None

    def failed_attempt(self, reason: str, at: datetime, *, permanent: bool,
                       policy: RetryPolicy) -> None:
        """Count an attempt; give up when the refusal is permanent or attempts run out."""
        self.attempts += 1
        self.last_error = reason
        if permanent or self.attempts >= policy.max_attempts:
            self.state = DeliveryState.FAILED
        else:
            self.next_attempt_at = at + policy.delay(self.attempts)

    def bounced(self, reason: str) -> None:
        self.state = DeliveryState.BOUNCED
        self.last_error = reason


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """Exponential backoff for deliveries, capped; the schedule is stored, not slept on."""

    max_attempts: int = 8
    first_delay_s: float = 30.0
    max_delay_s: float = 3600.0

    def delay(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.max_delay_s,
                                     self.first_delay_s * 2 ** max(0, attempts - 1)))


class QuarantineStatus(StrEnum):
    RETRYING = "retrying"  # failed before; the adapter will try again
    QUARANTINED = "quarantined"  # given up: kept for a supervisor, never retried by itself
    RELEASED = "released"  # a supervisor had it processed again or dismissed it


@dataclass(slots=True, kw_only=True)
class QuarantinedItem:
    """Something a channel received but could not turn into a contact."""

    id: str
    channel: str
    source: str  # which mailbox, form or trunk
    item_ref: str  # the source's own reference, e.g. "uidvalidity:uid"
    raw_ref: str | None  # the untouched bytes in the blob store, when they were kept
    reason: str
    attempts: int
    status: QuarantineStatus
    first_failed_at: datetime
    last_failed_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageRef:
    """A channel message id (e-mail Message-ID) and the contact and case it belongs to."""

    channel: str
    message_id: str
    contact_id: str
    case_id: str | None
    customer_id: str
    direction: Direction
