"""A contact is one interaction on one channel; a case is what the customer wants handled."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum

from core.domain.channels import Channel, ChannelRef, Direction
from core.domain.errors import InvalidTransition


@dataclass(frozen=True, slots=True, kw_only=True)
class AttachmentMeta:
    """Metadata only: the bytes live in a content store under ``storage_key``.

    The original filename is data to show, never a path to use."""

    id: str
    filename: str
    content_type: str
    size_bytes: int
    storage_key: str | None = None


@dataclass(slots=True, kw_only=True)
class Contact:
    id: str
    ref: ChannelRef
    direction: Direction
    customer_id: str
    case_id: str | None
    occurred_at: datetime
    received_at: datetime
    from_name: str | None = None
    from_address: str | None = None
    subject: str | None = None
    summary: str | None = None
    body: str | None = None
    transcript: str | None = None
    attachments: list[AttachmentMeta] = field(default_factory=list)
    raw_ref: str | None = None  # key of the untouched original in the raw store
    # Channel facts routing rules may test: "mailbox", "form", "ivr_choice", "language".
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def channel(self) -> Channel:
        return self.ref.channel


_REFERENCE = re.compile(r"#?SW[-\s]?(\d{1,18})", re.IGNORECASE)


class CaseType(StrEnum):
    QUESTION = "question"
    COMPLAINT = "complaint"
    REQUEST = "request"


class Priority(IntEnum):
    LOW = 1
    NORMAL = 2
    HIGH = 3
    URGENT = 4


class CaseStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"  # waiting on the customer: SLA clocks pause
    RESOLVED = "resolved"
    CLOSED = "closed"


_ALLOWED: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.NEW: frozenset({CaseStatus.OPEN, CaseStatus.PENDING, CaseStatus.RESOLVED,
                               CaseStatus.CLOSED}),
    CaseStatus.OPEN: frozenset({CaseStatus.PENDING, CaseStatus.RESOLVED, CaseStatus.CLOSED}),
    CaseStatus.PENDING: frozenset({CaseStatus.OPEN, CaseStatus.RESOLVED, CaseStatus.CLOSED}),
    # A customer who answers after resolution reopens the case; closed is final.
    CaseStatus.RESOLVED: frozenset({CaseStatus.OPEN, CaseStatus.CLOSED}),
    CaseStatus.CLOSED: frozenset(),
}

OPEN_STATUSES = frozenset({CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.PENDING})


@dataclass(slots=True, kw_only=True)
class Case:
    id: str
    number: int
    customer_id: str
    type: CaseType
    status: CaseStatus = CaseStatus.NEW
    priority: Priority = Priority.NORMAL
    subject: str | None = None
    owner_agent_id: str | None = None
    queue_id: str | None = None
    tags: list[str] = field(default_factory=list)
    created_at: datetime
    updated_at: datetime
    first_response_due_at: datetime | None = None
    resolution_due_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    first_responded_at: datetime | None = None
    language: str | None = None
    # The classifier's verdict as shown to agents: class, confidence, matched keywords.
    classification: dict[str, object] | None = None

    @property
    def reference(self) -> str:
        return f"SW-{self.number}"

    @staticmethod
    def number_of(reference: str) -> int | None:
        """The case number in a reference as agents and customers write it ("SW-1234",
        "sw 1234", "#SW-1234"); None when it is not one."""
        found = _REFERENCE.fullmatch(reference.strip())
        return int(found.group(1)) if found else None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def move_to(self, status: CaseStatus, at: datetime) -> None:
        if status == self.status:
            return
        if status not in _ALLOWED[self.status]:
            raise InvalidTransition(self.status.value, status.value)
        self.status = status
        self.updated_at = at
        if status is CaseStatus.RESOLVED:
            self.resolved_at = at
        elif status is CaseStatus.CLOSED:
            self.closed_at = at
        elif status is CaseStatus.OPEN:
            self.resolved_at = None
