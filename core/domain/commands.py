"""Commands: requests to change state, imperative, handled by exactly one service."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from core.domain.channels import Channel, Direction
from core.domain.contact import AttachmentMeta, CaseType, Priority


@dataclass(frozen=True, slots=True, kw_only=True)
class Party:
    """Who a contact is from (inbound) or to (outbound), as the channel saw them.

    ``claimed_email`` is an address typed by someone we cannot authenticate (a pre-chat
    form): it is shown to agents but never links the contact to an existing customer.
    """

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    visitor_id: str | None = None
    crm_id: str | None = None
    claimed_email: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class IngestContact:
    channel: Channel
    direction: Direction
    external_id: str
    party: Party
    occurred_at: datetime | None = None
    subject: str | None = None
    summary: str | None = None
    body: str | None = None
    transcript: str | None = None
    from_address: str | None = None
    attachments: tuple[AttachmentMeta, ...] = ()
    raw_ref: str | None = None
    metadata: tuple[tuple[str, str], ...] = ()
    # Where the contact goes: an existing case of the same customer, or a new case with these.
    case_id: str | None = None
    # Cases the channel believes this continues (a reply's references). Each is a claim:
    # only a case of the customer the contact is matched to, and not closed, is continued.
    thread_case_ids: tuple[str, ...] = ()
    # Automatic messages (auto-replies, list mail) may join a thread but never open a case
    # or reopen one on their own.
    open_case: bool = True
    reopen: bool = True
    case_type: CaseType | None = None
    priority: Priority | None = None
    queue_id: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateCase:
    case_id: str
    status: str | None = None
    priority: Priority | None = None
    owner_agent_id: str | None = None
    clear_owner: bool = False
    case_type: CaseType | None = None
    queue_id: str | None = None
    tags: tuple[str, ...] | None = None
