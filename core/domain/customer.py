"""The unified customer record: one person or organisation across every channel."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from core.domain.channels import Channel


class IdentifierKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    CHAT_VISITOR = "chat_visitor"
    CRM = "crm"


class CustomerKind(StrEnum):
    PERSON = "person"
    ORGANISATION = "organisation"


class CustomerStatus(StrEnum):
    ACTIVE = "active"
    # Folded into another customer by a supervisor; kept so the merge can be undone.
    MERGED = "merged"
    # Personal data erased (core/domain/privacy.py); the row stays so reports still count
    # the contacts, with nothing left that says who it was.
    ERASED = "erased"


@dataclass(slots=True, kw_only=True)
class Identifier:
    """One way of recognising a customer, with where and when it was seen.

    ``value`` keeps the spelling as received; ``normalized`` is the matching key and is
    ``None`` when the value is invalid (kept for the agent's eyes, never used to match).
    A *claimed* identifier was typed by someone we cannot authenticate (a pre-chat form):
    it is shown to agents but never used to link a contact to an existing customer.
    """

    id: str
    kind: IdentifierKind
    value: str
    normalized: str | None
    skeleton: str | None = None
    verified: bool = False
    claimed: bool = False
    source: Channel | None = None
    first_seen_at: datetime
    last_seen_at: datetime

    @property
    def valid(self) -> bool:
        return self.normalized is not None

    @property
    def matchable(self) -> bool:
        return self.valid and not self.claimed


@dataclass(slots=True, kw_only=True)
class Organisation:
    """B2B fields: the company the contact person belongs to."""

    name: str
    registration_number: str | None = None
    vat_number: str | None = None


@dataclass(slots=True, kw_only=True)
class Household:
    """B2C fields: who shares the account."""

    name: str | None = None
    members: int | None = None
    address: str | None = None


@dataclass(slots=True, kw_only=True)
class Entitlement:
    """A product, contract or SLA entitlement the customer holds."""

    id: str
    kind: str  # "product" | "contract" | "sla"
    name: str
    reference: str | None = None
    valid_from: date | None = None
    valid_until: date | None = None


@dataclass(slots=True, kw_only=True)
class Customer:
    id: str
    display_name: str | None = None
    kind: CustomerKind = CustomerKind.PERSON
    organisation: Organisation | None = None
    household: Household | None = None
    segment: str | None = None  # tier: gold / silver / bronze, or the organisation's own
    value: float | None = None
    language: str | None = None
    preferred_channel: Channel | None = None
    status: CustomerStatus = CustomerStatus.ACTIVE
    merged_into: str | None = None
    identifiers: list[Identifier] = field(default_factory=list)
    entitlements: list[Entitlement] = field(default_factory=list)
    created_at: datetime
    updated_at: datetime

    def holds(self, kind: IdentifierKind, normalized: str) -> Identifier | None:
        for identifier in self.identifiers:
            if identifier.kind is kind and identifier.normalized == normalized:
                return identifier
        return None


@dataclass(slots=True, kw_only=True)
class PossibleDuplicate:
    """Two customers that may be the same; only a supervisor decides (merge or dismiss)."""

    id: str
    customer_id: str
    other_customer_id: str
    reason: str
    contact_id: str | None
    created_at: datetime
    dismissed: bool = False


@dataclass(slots=True, kw_only=True)
class Merge:
    """What a merge moved, so that it can be undone exactly."""

    id: str
    survivor_id: str
    merged_id: str
    moved_identifier_ids: list[str]
    moved_contact_ids: list[str]
    moved_case_ids: list[str]
    merged_by: str
    merged_at: datetime
    undone_at: datetime | None = None
    undone_by: str | None = None
