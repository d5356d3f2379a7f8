"""Privacy operations on the customer record: legal holds, erasure, retention terms and
contact consent (docs/security.md, "Privacy operations").

* A **legal hold** freezes a customer's data, or one case's, with a reason: while it is
  active neither an erasure nor a retention term may remove anything it covers.
* An **erasure** is a durable request worked through in steps (:class:`ErasureStep`), each
  step one or more short transactions that record how far they got. A crash, a failed
  step or a retried request simply continues where the last commit left off, so an
  erasure that was accepted always finishes. What it removes and what it keeps (the
  counts reports need: channel, times, queue, outcome) is defined here, not in SQL.
* **Retention terms** say how long each kind of data is kept (:class:`RetentionTerms`).
* **Consent**: a customer may withdraw consent to be called or mailed by us; outbound
  features check :func:`outbound_refusal` before they contact anyone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from core.domain.errors import Conflict

MAX_REASON = 1000

# Channel facts on a contact that say how it went, never who or what: kept by erasure and
# retention so reports and routing history still add up. Everything else goes (Message-IDs,
# links to stored bytes, delivery errors quoting addresses, recording links, typed numbers).
KEPT_CONTACT_FACTS = frozenset({
    "mailbox", "form", "topic", "ivr_choice", "language", "kind", "auto", "truncated",
    "delivery_state", "call_status", "outcome", "duration_s", "wait_s", "talk_s",
    "menu_path", "click_to_call", "agent_id", "call_sid",
})

# Events whose payload carries personal values (profile edits with their old and new
# values, duplicate flags quoting identifiers, the identifiers a contact was matched on);
# erasure rewrites them in the outbox and removes them from the bus's retained history.
PERSONAL_EVENT_TOPICS = ("customer.profile_changed", "customer.possible_duplicate",
                         "customer.resolved")


# --- legal holds ---------------------------------------------------------------------

@dataclass(slots=True, kw_only=True)
class LegalHold:
    """Keep everything of a customer (``case_id`` None), or of one of their cases."""

    id: str
    customer_id: str
    case_id: str | None
    reason: str
    placed_by: str
    placed_at: datetime
    released_by: str | None = None
    released_at: datetime | None = None
    release_reason: str | None = None

    @property
    def active(self) -> bool:
        return self.released_at is None

    @property
    def scope(self) -> str:
        return f"case {self.case_id}" if self.case_id else f"customer {self.customer_id}"

    def release(self, *, by: str, at: datetime, reason: str) -> None:
        if not self.active:
            raise Conflict(f"legal hold {self.id} was released already")
        self.released_by, self.released_at, self.release_reason = by, at, reason


class UnderLegalHold(Conflict):
    """The data is under a legal hold; nothing may be erased until it is released."""

    def __init__(self, hold: LegalHold) -> None:
        super().__init__(
            f"{hold.scope} is under legal hold {hold.id} since "
            f"{hold.placed_at.date().isoformat()} (placed by {hold.placed_by}: "
            f"{hold.reason}); release the hold before erasing")
        self.hold = hold


# --- erasure -------------------------------------------------------------------------

class ErasureStep(StrEnum):
    """The steps of an erasure, in order. Each is idempotent: run again, it finds nothing
    left to do and moves on."""

    IDENTITY = "identity"  # profile, identifiers, consents, duplicates, merges, codes
    CONTACTS = "contacts"  # every contact's content, its outbound mail, references
    CASES = "cases"  # subjects, notes, the text routing decisions saw
    CHANNELS = "channels"  # chat conversations, calls, survey comments, event payloads
    QUARANTINE = "quarantine"  # raw mail that never became a contact but names them
    BLOBS = "blobs"  # stored bytes nobody else refers to any more
    EVENTS = "events"  # the bus's retained history (Redis stream entries)
    DONE = "done"


ERASURE_STEPS: tuple[ErasureStep, ...] = tuple(ErasureStep)


@dataclass(slots=True, kw_only=True)
class ErasureMatch:
    """What identifies the customer outside rows that carry their id (a call from their
    number that never became a contact, quarantined mail from their address). Held only
    while the erasure runs: cleared by its last step."""

    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)

    def to_document(self) -> dict[str, list[str]]:
        return {"emails": list(self.emails), "phones": list(self.phones)}

    @classmethod
    def from_document(cls, document: dict[str, list[str]] | None) -> ErasureMatch:
        document = document or {}
        return cls(emails=list(document.get("emails", [])),
                   phones=list(document.get("phones", [])))


@dataclass(slots=True, kw_only=True)
class ErasureRequest:
    id: str
    customer_id: str
    # The customer and every customer merged into it (the same person's other records).
    customer_ids: list[str]
    requested_by: str
    requested_at: datetime
    reason: str
    step: ErasureStep = ErasureStep.IDENTITY
    cursor: str | None = None  # keyset position inside a batched step
    match: ErasureMatch = field(default_factory=ErasureMatch)
    counts: dict[str, int] = field(default_factory=dict)
    attempts: int = 0
    last_error: str | None = None
    completed_at: datetime | None = None

    @property
    def done(self) -> bool:
        return self.step is ErasureStep.DONE

    def count(self, what: str, n: int) -> None:
        if n:
            self.counts[what] = self.counts.get(what, 0) + n

    def advance(self) -> None:
        """On to the next step, from its beginning."""
        self.step = ERASURE_STEPS[ERASURE_STEPS.index(self.step) + 1]
        self.cursor = None

    def finish(self, at: datetime) -> None:
        self.step = ErasureStep.DONE
        self.cursor = None
        self.match = ErasureMatch()
        self.completed_at = at
        self.last_error = None


class OpenCasesRemain(Conflict):
    """An erasure would pull the content out from under work in progress."""

    def __init__(self, references: list[str]) -> None:
        shown = ", ".join(references[:5]) + (" …" if len(references) > 5 else "")
        super().__init__(f"the customer has open cases ({shown}); resolve or close them "
                         "before erasing")
        self.references = references


# --- retention -----------------------------------------------------------------------

class RetainedKind(StrEnum):
    RAW_MAIL = "raw_mail"  # the untouched original bytes of e-mail (and returned mail)
    RECORDINGS = "recordings"  # links to call recordings and voicemails
    CHAT_TRANSCRIPTS = "chat_transcripts"  # what was said in chats
    CLOSED_CASES = "closed_cases"  # the content of closed cases' contacts, notes, subject
    WEB_FORMS = "web_forms"  # what was typed into web forms
    INACTIVE_CUSTOMERS = "inactive_customers"  # whole customers with no contact for long


@dataclass(frozen=True, slots=True, kw_only=True)
class RetentionTerms:
    """Days each kind is kept; ``None`` keeps it for ever."""

    days: dict[RetainedKind, int | None]

    def cutoff(self, kind: RetainedKind, now: datetime) -> datetime | None:
        """Data of ``kind`` older than this is past its term; None when it is kept."""
        days = self.days.get(kind)
        return None if days is None else now - timedelta(days=days)

    @property
    def any(self) -> bool:
        return any(v is not None for v in self.days.values())


# --- consent -------------------------------------------------------------------------

class ConsentChannel(StrEnum):
    PHONE = "phone"  # we call them (click-to-call)
    EMAIL = "email"  # we mail them without their asking (acknowledgements, surveys)


@dataclass(frozen=True, slots=True, kw_only=True)
class Consent:
    """The customer's wish for one channel, as last recorded. No record means granted:
    a customer who contacts us may be answered and called back until they say otherwise."""

    customer_id: str
    channel: ConsentChannel
    granted: bool
    changed_at: datetime
    changed_by: str
    via: str  # how the customer told us: "phone", "email", "letter", "in person", …


class OutboundPurpose(StrEnum):
    """Why we contact a customer, which decides whether a withdrawn consent stops it."""

    CALL = "call"  # an agent calls them
    AUTOMATIC_MAIL = "automatic_mail"  # acknowledgement, confirmation, survey invitation
    REPLY = "reply"  # an answer to their own message (always allowed)


def outbound_refusal(consents: list[Consent], purpose: OutboundPurpose, *,
                     answering_own_request: bool) -> str | None:
    """Why contacting the customer for ``purpose`` is not allowed, or None when it is.

    A withdrawn consent stops what we start; it never stops an answer to the customer's
    own request: a reply to their message, or a call about a case of theirs that is still
    open (they asked us something and are waiting for the answer)."""
    if purpose is OutboundPurpose.REPLY:
        return None
    channel = ConsentChannel.PHONE if purpose is OutboundPurpose.CALL else ConsentChannel.EMAIL
    withdrawn = next((c for c in consents if c.channel is channel and not c.granted), None)
    if withdrawn is None:
        return None
    if purpose is OutboundPurpose.CALL and answering_own_request:
        return None
    verb = "called" if channel is ConsentChannel.PHONE else "e-mailed"
    said = (f"the customer withdrew consent to be {verb} on "
            f"{withdrawn.changed_at.date().isoformat()} (via {withdrawn.via})")
    if purpose is OutboundPurpose.CALL:
        return said + "; a call is allowed only about an open case of theirs"
    return said
