"""Placing and releasing legal holds (core.domain.privacy.LegalHold), audited.

A hold names a customer, or one of their cases, and why. While it is active, erasure is
refused (409, naming the hold) and retention passes over what it covers. Released holds
stay on record with who released them and why.
"""

from __future__ import annotations

from core.domain.audit import Actor, AuditAction
from core.domain.clock import Clock
from core.domain.customer import CustomerStatus
from core.domain.errors import Conflict, NotFound
from core.domain.ids import new_id
from core.domain.privacy import LegalHold
from core.ports import UnitOfWorkFactory
from core.services import audit


class LegalHolds:
    def __init__(self, *, uow: UnitOfWorkFactory, read_uow: UnitOfWorkFactory,
                 clock: Clock) -> None:
        self._uow = uow
        self._read_uow = read_uow
        self._clock = clock

    async def place(self, *, customer_id: str | None = None, case_id: str | None = None,
                    reason: str, actor: Actor) -> LegalHold:
        """Hold a customer (``customer_id``) or one case (``case_id``)."""
        async with self._uow() as uow:
            if case_id is not None:
                case = await uow.cases.get(case_id)
                if case is None:
                    raise NotFound("case", case_id)
                customer_id = case.customer_id
            assert customer_id is not None
            customer = await uow.customers.get(customer_id)
            if customer is None:
                raise NotFound("customer", customer_id)
            if customer.status is CustomerStatus.ERASED:
                raise Conflict(f"customer {customer_id} was erased: there is nothing to hold")
            # An erasure under way is no obstacle: the hold stops it where it is.
            hold = LegalHold(id=new_id("hld"), customer_id=customer_id, case_id=case_id,
                             reason=reason, placed_by=actor.name,
                             placed_at=self._clock.now())
            await uow.privacy.add_hold(hold)
            await audit.record(
                uow, at=hold.placed_at, actor=actor, action=AuditAction.LEGAL_HOLD_PLACED,
                subject_kind="legal_hold", subject_id=hold.id, customer_id=customer_id,
                details={"case_id": case_id})  # the reason stays with the hold: free text
            await uow.commit()
        return hold

    async def release(self, hold_id: str, *, reason: str, actor: Actor) -> LegalHold:
        async with self._uow() as uow:
            hold = await uow.privacy.get_hold(hold_id)
            if hold is None:
                raise NotFound("legal hold", hold_id)
            hold.release(by=actor.name, at=self._clock.now(), reason=reason)
            await uow.privacy.save_hold(hold)
            await audit.record(
                uow, at=self._clock.now(), actor=actor,
                action=AuditAction.LEGAL_HOLD_RELEASED, subject_kind="legal_hold",
                subject_id=hold.id, customer_id=hold.customer_id,
                details={"case_id": hold.case_id})
            await uow.commit()
        return hold

    async def for_customer(self, customer_id: str) -> list[LegalHold]:
        """Every hold on the customer and their cases, released ones too, oldest first."""
        async with self._read_uow() as uow:
            if await uow.customers.get(customer_id) is None:
                raise NotFound("customer", customer_id)
            return await uow.privacy.holds_for([customer_id], active_only=False)

    async def active(self, *, limit: int) -> list[LegalHold]:
        async with self._read_uow() as uow:
            return await uow.privacy.active_holds(limit=limit)
