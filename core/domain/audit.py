"""The audit log: who did what to which record, when — one entry per security-relevant or
data-changing action, never changed or removed afterwards.

An entry names people and records by id (and the actor by name, as they were called then);
it holds no customer personal data beyond ids, so erasing a customer never needs to rewrite
the log. Details are facts about the action (which fields changed, which version became
active), never secrets and never the values of a customer's personal fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class AuditAction(StrEnum):
    LOGIN_SUCCEEDED = "login.succeeded"
    LOGIN_FAILED = "login.failed"
    LOGOUT = "logout"
    USER_CREATED = "user.created"
    PASSWORD_CHANGED = "user.password_changed"  # noqa: S105 - an action name
    TOKEN_CREATED = "token.created"  # noqa: S105 - an action name
    TOKEN_REVOKED = "token.revoked"  # noqa: S105 - an action name
    AGENT_CREATED = "agent.created"
    AGENT_CHANGED = "agent.changed"  # skills, tier, teams, queues, capacity, phone, name
    AGENT_SUSPENDED = "agent.suspended"
    AGENT_REINSTATED = "agent.reinstated"
    TEAM_CREATED = "team.created"
    QUEUE_CREATED = "queue.created"
    QUEUE_CHANGED = "queue.changed"
    QUEUE_REMOVED = "queue.removed"  # archived: kept for history, nothing new goes there
    TEAM_RENAMED = "team.renamed"
    RULES_SAVED = "routing.rules_saved"
    RULES_PUBLISHED = "routing.rules_published"
    RULES_ROLLED_BACK = "routing.rules_rolled_back"
    ROUTING_CONFIG_CHANGED = "routing.config_changed"
    IVR_MENU_CHANGED = "ivr.menu_changed"
    FORM_CHANGED = "form.changed"
    CUSTOMER_EDITED = "customer.edited"
    CUSTOMERS_MERGED = "customer.merged"
    MERGE_UNDONE = "customer.unmerged"
    CUSTOMER_EXPORTED = "customer.exported"
    CUSTOMER_ERASED = "customer.erased"
    ERASURE_REQUESTED = "customer.erasure_requested"
    CONSENT_CHANGED = "customer.consent_changed"
    LEGAL_HOLD_PLACED = "legal_hold.placed"
    LEGAL_HOLD_RELEASED = "legal_hold.released"
    RETENTION_APPLIED = "retention.applied"  # what a retention pass removed, in counts
    NOTE_DELETED = "case.note_deleted"  # an internal note taken back by its author


@dataclass(frozen=True, slots=True, kw_only=True)
class Actor:
    """Who acted: a signed-in person or an integration's token (``id`` and ``role`` set),
    someone who only claimed a name (a failed login: ``id`` None), or Switchboard itself.
    ``request_id`` is the HTTP request it came with, to find it in the server log."""

    id: str | None
    name: str
    role: str | None
    request_id: str | None = None


SYSTEM = Actor(id=None, name="switchboard", role=None)
# A customer changing their own record (a phone menu's self-service): named by the contact
# the entry points at, never by their number or address here.
SELF_SERVICE = Actor(id=None, name="the customer (self-service)", role=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    id: str
    at: datetime
    actor: Actor
    action: AuditAction
    subject_kind: str  # "customer", "agent", "user", "token", "rule_set", "form", …
    subject_id: str | None
    customer_id: str | None = None  # the customer the action concerns, when there is one
    contact_id: str | None = None  # the contact it happened during, when known
    details: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditFilter:
    """Entries matching every given criterion; ``since`` included, ``until`` excluded.
    ``customer_ids``: entries concerning one of them, or done to one (a merge's other)."""

    actor_id: str | None = None
    action: AuditAction | None = None
    subject_kind: str | None = None
    subject_id: str | None = None
    customer_ids: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
