"""The audit API: record an entry inside the unit of work of the change it describes, and
read the log back.

Recording::

    await audit.record(uow, at=self._clock.now(), actor=actor,
                       action=AuditAction.CUSTOMER_ERASED,
                       subject_kind="customer", subject_id=customer.id,
                       customer_id=customer.id, details={"legal_hold": False})
    await uow.commit()  # the change and its entry commit together, or neither does

Details are facts about the action, never secrets and never the values of a customer's
personal fields (the log is append-only, so an erasure could not take them out again):
keys that name a secret are replaced by ``"[redacted]"`` here as a last line of defence.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from datetime import datetime

from core.domain.audit import Actor, AuditAction, AuditEntry, AuditFilter
from core.domain.ids import new_id
from core.ports import UnitOfWork, UnitOfWorkFactory

REDACTED = "[redacted]"
_SECRET_KEYS = frozenset({"password", "new_password", "secret", "token", "session",
                          "cookie", "authorization", "api_key", "code"})
_SECRET_SUFFIXES = ("_password", "_secret", "_hash", "_token")


async def record(uow: UnitOfWork, *, at: datetime, actor: Actor, action: AuditAction,
                 subject_kind: str, subject_id: str | None, customer_id: str | None = None,
                 contact_id: str | None = None,
                 details: Mapping[str, object] | None = None) -> AuditEntry:
    """Add one entry to ``uow``; it is stored when (and only if) ``uow`` commits."""
    entry = AuditEntry(
        id=new_id("aud"), at=at, actor=actor, action=action, subject_kind=subject_kind,
        subject_id=subject_id, customer_id=customer_id, contact_id=contact_id,
        details=without_secrets(details or {}))
    await uow.audit.add(entry)
    return entry


def without_secrets(details: Mapping[str, object]) -> dict[str, object]:
    clean: dict[str, object] = {}
    for key, value in details.items():
        name = key.lower()
        if name in _SECRET_KEYS or name.endswith(_SECRET_SUFFIXES):
            clean[key] = REDACTED
        elif isinstance(value, Mapping):
            clean[key] = without_secrets(value)
        else:
            clean[key] = value
    return clean


class AuditTrail:
    """Reading the log: pages for the API, a stream for exports."""

    def __init__(self, read_uow: UnitOfWorkFactory) -> None:
        self._read_uow = read_uow

    async def page(self, where: AuditFilter, *, limit: int, cursor: str | None,
                   ) -> tuple[list[AuditEntry], str | None]:
        async with self._read_uow() as uow:
            return await uow.audit.page(where, limit=limit, cursor=cursor)

    async def stream(self, where: AuditFilter) -> AsyncGenerator[AuditEntry, None]:
        """Oldest first, read as it is sent (close the iterator when done)."""
        async with self._read_uow() as uow:
            async for entry in uow.audit.stream(where):
                yield entry
