"""Ports: what the services need from the outside world, as Protocols.

Adapters in ``core.storage`` (SQLAlchemy) and ``core.bus`` (in-process, Redis Streams)
implement them; the contract tests in ``tests/contract`` run every implementation through
the same suite.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from core.domain.contact import Case, CaseStatus, Contact
from core.domain.customer import Customer, Identifier, IdentifierKind, Merge, PossibleDuplicate
from core.domain.events import Envelope, Event
from core.domain.workforce import Agent, Queue, Role, Team

EnvelopeHandler = Callable[[Envelope], Awaitable[None]]


@dataclass(frozen=True, slots=True, kw_only=True)
class DeadLetter:
    envelope: Envelope
    group: str
    deliveries: int
    error: str


class EventBus(Protocol):
    """At-least-once delivery of envelopes to named consumer groups.

    Every group declared with :meth:`declare_groups` receives every envelope published
    after the declaration, once per group (shared among that group's consumers). A handler
    that raises gets the envelope again later; after ``max_deliveries`` attempts the
    envelope goes to the group's dead letters instead.
    """

    async def declare_groups(self, groups: Sequence[str]) -> None: ...

    async def publish(self, envelopes: Sequence[Envelope]) -> None: ...

    async def consume(
        self, *, group: str, consumer: str, handler: EnvelopeHandler, stop: asyncio.Event
    ) -> None:
        """Deliver to ``handler`` until ``stop`` is set; acknowledge only after it returns."""
        ...

    async def pending(self, group: str) -> int:
        """Envelopes delivered to the group but not yet acknowledged or dead-lettered."""
        ...

    async def dead_letters(self, group: str) -> list[DeadLetter]: ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class TimelinePage:
    contacts: list[Contact]
    next_cursor: str | None


class CustomerRepository(Protocol):
    async def get(self, customer_id: str) -> Customer | None: ...
    async def add(self, customer: Customer) -> None: ...
    async def update_profile(self, customer: Customer) -> None: ...
    async def add_identifiers(
        self, customer_id: str, identifiers: Sequence[Identifier]) -> None: ...
    async def touch_identifiers(
        self, identifier_ids: Sequence[str], seen_at: datetime) -> None: ...
    async def lock_keys(self, keys: Sequence[tuple[IdentifierKind, str]]) -> None:
        """Serialise concurrent resolutions of the same identifiers until commit, so two
        simultaneous first contacts of one person cannot create two customers."""
        ...
    async def holders(
        self, keys: Sequence[tuple[IdentifierKind, str]]
    ) -> dict[tuple[IdentifierKind, str], list[str]]:
        """Active customers holding each matchable (valid, not claimed) identifier key."""
        ...
    async def holders_by_skeleton(self, skeletons: Sequence[str]) -> dict[str, list[str]]: ...
    async def search(
        self, *, email: str | None, phone: str | None, text: str | None, limit: int
    ) -> list[Customer]: ...
    async def move_identifiers(
        self, identifier_ids: Sequence[str], to_customer_id: str) -> None: ...
    async def set_status(
        self, customer_id: str, *, merged_into: str | None, at: datetime
    ) -> None: ...


class ContactRepository(Protocol):
    async def get(self, contact_id: str) -> Contact | None: ...
    async def get_by_ref(self, channel: str, external_id: str) -> Contact | None: ...
    async def add(self, contact: Contact) -> None: ...
    async def timeline(
        self, customer_id: str, *, limit: int, cursor: str | None
    ) -> TimelinePage: ...
    async def ids_for_customer(self, customer_id: str) -> list[str]: ...
    async def for_case(self, case_id: str, *, limit: int) -> list[Contact]: ...
    async def move(self, contact_ids: Sequence[str], to_customer_id: str) -> None: ...


class CaseRepository(Protocol):
    async def get(self, case_id: str) -> Case | None: ...
    async def add(self, case: Case) -> None: ...
    async def save(self, case: Case) -> None: ...
    async def next_number(self) -> int: ...
    async def page(
        self, *, status: CaseStatus | None, queue_id: str | None, customer_id: str | None,
        limit: int, cursor: str | None,
    ) -> tuple[list[Case], str | None]: ...
    async def open_for_customer(self, customer_id: str) -> list[Case]: ...
    async def ids_for_customer(self, customer_id: str) -> list[str]: ...
    async def move(self, case_ids: Sequence[str], to_customer_id: str) -> None: ...


class IdentityRecords(Protocol):
    """Possible duplicates and merges: the audit trail of identity decisions."""

    async def add_duplicate(self, duplicate: PossibleDuplicate) -> bool:
        """Record a pair once; returns False when the pair was already flagged."""
        ...
    async def duplicates_of(self, customer_id: str) -> list[PossibleDuplicate]: ...
    async def add_merge(self, merge: Merge) -> None: ...
    async def get_merge(self, merge_id: str) -> Merge | None: ...
    async def mark_merge_undone(self, merge_id: str, *, by: str, at: datetime) -> None: ...


class WorkforceRepository(Protocol):
    async def add_team(self, team: Team) -> None: ...
    async def add_queue(self, queue: Queue) -> None: ...
    async def add_agent(self, agent: Agent) -> None: ...
    async def get_agent(self, agent_id: str) -> Agent | None: ...
    async def get_queue(self, queue_id: str) -> Queue | None: ...
    async def list_agents(self) -> list[Agent]: ...
    async def list_queues(self) -> list[Queue]: ...
    async def list_teams(self) -> list[Team]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    """Who is calling: resolved from an API token or, later, a session."""

    id: str
    name: str
    role: Role
    agent_id: str | None = None


class AccessRepository(Protocol):
    async def add_token(self, *, token_id: str, token_hash: str, principal: Principal,
                        created_at: datetime) -> None: ...
    async def principal_for_token(self, token_hash: str) -> Principal | None: ...
    async def add_user(self, *, user_id: str, username: str, password_hash: str, role: Role,
                       agent_id: str | None, created_at: datetime) -> None: ...
    async def password_hash_for(self, username: str) -> tuple[str, Principal] | None: ...


class Outbox(Protocol):
    def add(self, events: Sequence[Event]) -> None:
        """Queue events to leave with this unit of work's commit (and only then)."""
        ...


class Inbox(Protocol):
    async def first_delivery(self, group: str, envelope_id: str) -> bool:
        """Record that ``group`` handled the envelope; False if it already had.

        Done inside the handler's unit of work, so the effect and the record commit together.
        """
        ...


class UnitOfWork(Protocol):
    customers: CustomerRepository
    contacts: ContactRepository
    cases: CaseRepository
    identity: IdentityRecords
    workforce: WorkforceRepository
    access: AccessRepository
    outbox: Outbox
    inbox: Inbox

    async def __aenter__(self) -> Self: ...
    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed."""
        ...
    async def commit(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]
