"""Proving that an identifier belongs to a customer before linking it: a one-time code sent
to an address already on the customer's record and typed back (e.g. on the phone)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


@dataclass(slots=True, kw_only=True)
class Verification:
    id: str
    reference: str  # what the attempt belongs to: the call's sid
    customer_id: str
    phone: str  # E.164: the number that will be linked
    code_hash: str
    sent_to: str
    attempts: int
    created_at: datetime
    expires_at: datetime
    verified_at: datetime | None = None


class StartRefusal(StrEnum):
    UNKNOWN_NUMBER = "unknown_number"  # no customer has this customer number
    NO_ADDRESS = "no_address"  # the customer has no e-mail address to send a code to
    TAKEN = "taken"  # the phone number belongs to another customer
    ALREADY_LINKED = "already_linked"
    TOO_MANY = "too_many"  # too many codes sent for this customer lately


class CheckOutcome(StrEnum):
    LINKED = "linked"
    WRONG = "wrong"  # try again
    EXPIRED = "expired"
    EXHAUSTED = "exhausted"  # too many wrong codes: start over with an agent
    NONE = "none"  # nothing was started for this reference
