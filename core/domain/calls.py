"""Phone calls as the telephony platform reports them: a state that only moves forward,
and the path the caller took, so the call can be told on the customer's timeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class CallStatus(StrEnum):
    QUEUED = "queued"
    INITIATED = "initiated"
    RINGING = "ringing"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    BUSY = "busy"
    FAILED = "failed"
    NO_ANSWER = "no-answer"
    CANCELED = "canceled"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def final(self) -> bool:
        return _RANK[self] == _FINAL


_FINAL = 3
_RANK = {CallStatus.QUEUED: 0, CallStatus.INITIATED: 0, CallStatus.RINGING: 1,
         CallStatus.IN_PROGRESS: 2, CallStatus.COMPLETED: _FINAL, CallStatus.BUSY: _FINAL,
         CallStatus.FAILED: _FINAL, CallStatus.NO_ANSWER: _FINAL, CallStatus.CANCELED: _FINAL}


class CallOutcome(StrEnum):
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    VOICEMAIL = "voicemail"
    CALLBACK = "callback"
    SELF_SERVICE = "self_service"


@dataclass(slots=True, kw_only=True)
class Call:
    sid: str
    direction: str  # "inbound" | "outbound"
    from_number: str
    to_number: str
    status: CallStatus = CallStatus.RINGING
    language: str = "nl"
    customer_id: str | None = None
    contact_id: str | None = None
    case_id: str | None = None
    path: list[str] = field(default_factory=list)  # menu choices, e.g. ["2", "complaint"]
    outcome: CallOutcome | None = None
    recording_url: str | None = None
    started_at: datetime
    enqueued_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    duration_s: int | None = None

    def advance(self, status: CallStatus) -> bool:
        """Move forward only: a late or repeated callback changes nothing."""
        if status.rank <= self.status.rank:
            return False
        self.status = status
        return True
