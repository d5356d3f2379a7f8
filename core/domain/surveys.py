"""Customer satisfaction surveys: a short question (CSAT 1-5 and/or NPS 0-10, with a
comment) after a case is resolved, by e-mail link, at the end of a chat, or after a call.

An *invitation* is one survey offered to one customer about one contact; it carries an
unguessable token (only its SHA-256 is stored) so the e-mailed link needs no login. A
*response* is the answer, stored with the customer, case and contact it rates so reports
can join CSAT per contact. Customers are asked at most once per ``min_days_between`` days
(the frequency cap, counted from the last invitation on any channel) and never after
they opted out.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import ClassVar

from core.domain.channels import Channel
from core.domain.errors import Conflict, InvalidInput
from core.domain.events import Event

SURVEY_CHANNELS = frozenset({Channel.EMAIL, Channel.CHAT, Channel.PHONE})
LANGUAGES = ("nl", "en")
MAX_COMMENT = 2000
CSAT_RANGE = range(1, 6)
NPS_RANGE = range(0, 11)
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # 32 random bytes, URL-safe base64


class SurveyKind(StrEnum):
    CSAT = "csat"  # "How satisfied are you?" 1 (very dissatisfied) … 5 (very satisfied)
    NPS = "nps"  # "How likely are you to recommend us?" 0 … 10
    BOTH = "both"

    @property
    def asks_csat(self) -> bool:
        return self is not SurveyKind.NPS

    @property
    def asks_nps(self) -> bool:
        return self is not SurveyKind.CSAT


class Skip(StrEnum):
    """Why a resolved case got no survey."""

    DISABLED = "disabled"
    NOT_RESOLVED = "not_resolved"  # reopened (or gone) before we got to it
    ALREADY_SURVEYED = "already_surveyed"  # this case had a survey already
    NO_CUSTOMER = "no_customer"
    OPTED_OUT = "opted_out"
    TOO_SOON = "too_soon"  # the per-customer frequency cap
    AUTOMATIC = "automatic"  # nobody but an auto-responder wrote on the case
    NO_ADDRESS = "no_address"  # no e-mail address of the customer's own (claims do not count)
    CANNOT_SEND = "cannot_send"  # no SMTP, sender or public URL for the link
    NO_CONSENT = "no_consent"  # the customer withdrew consent to be e-mailed by us


def language_of(*candidates: str | None) -> str:
    """The first of the candidates we have texts for; Dutch otherwise."""
    for candidate in candidates:
        if candidate and candidate[:2].lower() in LANGUAGES:
            return candidate[:2].lower()
    return "nl"


@dataclass(slots=True, kw_only=True)
class Invitation:
    id: str
    token_hash: str
    customer_id: str
    case_id: str | None
    contact_id: str | None  # the contact being rated (reports join CSAT on it)
    channel: Channel
    kind: SurveyKind
    language: str
    # The channel's own handle: the chat conversation id, the call's sid, the mail's
    # Message-ID. A chat answer must come from the conversation named here.
    reference: str | None
    created_at: datetime
    expires_at: datetime
    answered_at: datetime | None = None

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    @property
    def answered(self) -> bool:
        return self.answered_at is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class SurveySubject:
    """A customer as far as surveys go: when last asked, and whether they opted out."""

    customer_id: str
    last_invited_at: datetime | None = None
    opted_out_at: datetime | None = None
    opted_out_via: str | None = None

    @property
    def opted_out(self) -> bool:
        return self.opted_out_at is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """A checked answer: only the questions asked, within their ranges."""

    score: int | None  # CSAT 1-5
    nps: int | None  # 0-10
    comment: str | None


@dataclass(slots=True, kw_only=True)
class SurveyResponse:
    id: str
    invitation_id: str
    customer_id: str
    case_id: str | None
    contact_id: str | None
    channel: Channel
    kind: SurveyKind
    score: int | None
    nps: int | None
    comment: str | None
    language: str
    answered_at: datetime

    def same_answer(self, answer: Answer) -> bool:
        return (self.score, self.nps, self.comment) == (answer.score, answer.nps,
                                                        answer.comment)


@dataclass(frozen=True, slots=True, kw_only=True)
class SurveySummary:
    """What a set of responses says: average CSAT, share satisfied (4-5), NPS."""

    responses: int
    csat_count: int
    csat_average: float | None
    csat_satisfied_pct: float | None
    nps_count: int
    nps: float | None  # % promoters (9-10) minus % detractors (0-6), -100 … 100


def summarise(responses: Sequence[SurveyResponse]) -> SurveySummary:
    scores = [r.score for r in responses if r.score is not None]
    npss = [r.nps for r in responses if r.nps is not None]
    return SurveySummary(
        responses=len(responses), csat_count=len(scores),
        csat_average=round(sum(scores) / len(scores), 2) if scores else None,
        csat_satisfied_pct=round(100 * sum(s >= 4 for s in scores) / len(scores), 1)
        if scores else None,
        nps_count=len(npss),
        nps=round(100 * (sum(n >= 9 for n in npss) - sum(n <= 6 for n in npss)) / len(npss), 1)
        if npss else None)


class AlreadyAnswered(Conflict):
    """A different answer to a survey that has one: the first answer stands."""

    def __init__(self, response: SurveyResponse) -> None:
        super().__init__("this survey was answered already; the first answer stands")
        self.response = response


class SurveyExpired(Conflict):
    def __init__(self) -> None:
        super().__init__("this survey can no longer be answered")


# --- the frequency cap -------------------------------------------------------------------

def cap_threshold(now: datetime, min_days_between: int) -> datetime:
    """An invitation made at or before this moment no longer holds the customer back."""
    return now - timedelta(days=min_days_between)


def cap_allows(last_invited_at: datetime | None, now: datetime, min_days_between: int) -> bool:
    return last_invited_at is None or last_invited_at <= cap_threshold(now, min_days_between)


def next_allowed_at(last_invited_at: datetime | None,
                    min_days_between: int) -> datetime | None:
    """When the customer may be asked again (None: now)."""
    if last_invited_at is None:
        return None
    return last_invited_at + timedelta(days=min_days_between)


# --- tokens ----------------------------------------------------------------------------

def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """SHA-256 of a 256-bit random token: a slow hash adds nothing for that much entropy."""
    return hashlib.sha256(token.encode()).hexdigest()


def plausible_token(token: str) -> bool:
    return bool(_TOKEN.match(token))


# --- answers ---------------------------------------------------------------------------

def clean_comment(comment: str | None) -> str | None:
    if comment is None:
        return None
    cleaned = "".join(ch for ch in comment if ch in "\n\t" or ch.isprintable()).strip()
    return cleaned or None


def check_answer(kind: SurveyKind, *, score: int | None, nps: int | None,
                 comment: str | None) -> Answer:
    """The answer if it fits the survey; else InvalidInput with a reason per field."""
    reasons: dict[str, str] = {}
    if score is not None and not kind.asks_csat:
        reasons["score"] = "this survey does not ask for a satisfaction score"
    elif score is not None and score not in CSAT_RANGE:
        reasons["score"] = "choose 1 to 5"
    if nps is not None and not kind.asks_nps:
        reasons["nps"] = "this survey does not ask how likely you are to recommend us"
    elif nps is not None and nps not in NPS_RANGE:
        reasons["nps"] = "choose 0 to 10"
    if score is None and nps is None:
        reasons["score" if kind.asks_csat else "nps"] = "choose a score"
    text = clean_comment(comment)
    if text is not None and len(text) > MAX_COMMENT:
        reasons["comment"] = f"at most {MAX_COMMENT} characters"
    if reasons:
        raise InvalidInput(reasons)
    return Answer(score=score, nps=nps, comment=text)


# --- events ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True, kw_only=True)
class SurveyInvited(Event):
    topic: ClassVar[str] = "survey.invited"
    invitation_id: str
    customer_id: str
    case_id: str | None
    contact_id: str | None
    channel: str
    kind: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SurveyAnswered(Event):
    topic: ClassVar[str] = "survey.answered"
    invitation_id: str
    response_id: str
    customer_id: str
    case_id: str | None
    contact_id: str | None
    channel: str
    score: int | None
    nps: int | None
