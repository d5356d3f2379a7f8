"""Domain errors, typed by what the caller can do about them.

    DomainError
    ├── NotFound            the referenced record does not exist (HTTP 404)
    ├── Conflict            the request clashes with the current state (HTTP 409)
    │   ├── InvalidTransition   a case status change the lifecycle forbids
    │   └── AlreadyStored       a unique record (a contact's channel reference) exists
    └── InvalidInput        the request itself is wrong; carries per-field reasons (HTTP 422)

Adapters translate these at their boundary; the domain never knows about HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""


class NotFound(DomainError):
    def __init__(self, kind: str, record_id: str) -> None:
        super().__init__(f"{kind} {record_id!r} does not exist")
        self.kind = kind
        self.record_id = record_id


class Conflict(DomainError):
    """The request is well-formed but cannot be applied to the current state."""


class InvalidTransition(Conflict):
    def __init__(self, current: str, requested: str) -> None:
        super().__init__(f"a case cannot move from {current!r} to {requested!r}")
        self.current = current
        self.requested = requested


class AlreadyStored(Conflict):
    """A concurrent writer stored the same record first; the caller reads theirs."""


class InvalidInput(DomainError):
    """Carries one reason per offending field, keyed by a dotted path."""

    def __init__(self, reasons: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {why}" for field, why in reasons.items()))
        self.reasons = dict(reasons)
