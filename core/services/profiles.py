"""Editing a customer's profile, with per-field rules on who may change what.

Every edit is audited in its own transaction (``customer.edited``: which fields, by whom,
how, during which contact) and announced as a ``customer.profile_changed`` event with the old
and new values for whoever reacts to it. The audit entry names the fields, never their
values: they are the customer's personal data, and the log is never rewritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.domain.audit import Actor, AuditAction
from core.domain.channels import Channel
from core.domain.clock import Clock
from core.domain.customer import Customer, CustomerKind, CustomerStatus, Household, Organisation
from core.domain.errors import Conflict, InvalidInput, NotFound
from core.domain.events import CustomerProfileChanged
from core.domain.workforce import Role
from core.ports import UnitOfWork, UnitOfWorkFactory
from core.services import audit

# Commercial fields steer routing and are sensitive: only supervisors change them.
SUPERVISOR_FIELDS = frozenset({"segment", "value"})


class FieldNotAllowed(Exception):
    def __init__(self, fields: set[str], role: Role) -> None:
        super().__init__(f"the {role.value} role may not change: {', '.join(sorted(fields))}")
        self.fields = fields


@dataclass(frozen=True, slots=True, kw_only=True)
class ProfileChanges:
    """Only the fields present in ``values`` change; ``None`` clears a field."""

    values: dict[str, Any]


class CustomerProfiles:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def update(self, customer_id: str, changes: ProfileChanges, *, role: Role,
                     actor: Actor, via: str = "api", by: str | None = None,
                     contact_id: str | None = None) -> Customer:
        """``by``: who, as the event tells it (default the actor's name); ``contact_id``:
        the contact the edit was made during, which must be the customer's."""
        forbidden = set(changes.values) & SUPERVISOR_FIELDS
        if forbidden and not role.at_least(Role.SUPERVISOR):
            raise FieldNotAllowed(forbidden, role)
        async with self._uow() as uow:
            customer = await uow.customers.get(customer_id)
            if customer is None:
                raise NotFound("customer", customer_id)
            if customer.status is CustomerStatus.ERASED:
                raise Conflict(f"customer {customer_id} was erased")
            if customer.status is not CustomerStatus.ACTIVE:
                raise Conflict(f"customer {customer_id} was merged into {customer.merged_into}")
            before = {name: _plain(getattr(customer, name, None)) for name in changes.values}
            _apply(customer, changes.values)
            after = {name: _plain(getattr(customer, name, None)) for name in changes.values}
            if contact_id is not None:
                contact = await uow.contacts.get(contact_id)
                if contact is None or contact.customer_id != customer.id:
                    raise InvalidInput({"contact": "not a contact of this customer"})
            customer.updated_at = self._clock.now()
            await uow.customers.update_profile(customer)
            changed: dict[str, object] = {
                name: {"from": before[name], "to": after[name]}
                for name in after if before[name] != after[name]}
            if changed:
                await profile_changed(uow, at=customer.updated_at, actor=actor, by=by,
                                      via=via, customer_id=customer.id, changes=changed,
                                      contact_id=contact_id)
            await uow.commit()
            return customer


async def profile_changed(uow: UnitOfWork, *, at: datetime, actor: Actor, via: str,
                          customer_id: str, changes: dict[str, object],
                          by: str | None = None, contact_id: str | None = None) -> None:
    """Record an edit of a customer's data: the audit entry (fields, not values) and the
    event (with values). Every path that changes a customer's data comes through here."""
    await audit.record(uow, at=at, actor=actor, action=AuditAction.CUSTOMER_EDITED,
                       subject_kind="customer", subject_id=customer_id,
                       customer_id=customer_id, contact_id=contact_id,
                       details={"fields": sorted(changes), "via": via})
    uow.outbox.add([CustomerProfileChanged(customer_id=customer_id, by=by or actor.name,
                                           via=via, changes=changes)])


def _plain(value: object) -> object:
    """A JSON-safe picture of a field's value for the change record."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if hasattr(value, "value"):
        return value.value  # an enum
    if hasattr(value, "__dataclass_fields__"):
        return {k: _plain(getattr(value, k)) for k in value.__dataclass_fields__}
    return str(value)


def _apply(customer: Customer, values: dict[str, Any]) -> None:
    for name, value in values.items():
        if name == "kind":
            customer.kind = CustomerKind(value)
        elif name == "preferred_channel":
            customer.preferred_channel = Channel(value) if value else None
        elif name == "organisation":
            customer.organisation = Organisation(**value) if value else None
        elif name == "household":
            customer.household = Household(**value) if value else None
        else:
            setattr(customer, name, value)
