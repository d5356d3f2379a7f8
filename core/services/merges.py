"""Merging two customers (by a supervisor) and undoing a merge exactly.

A merge moves the other customer's identifiers, contacts and cases to the survivor and
records which ones moved; the merged customer stays as a tombstone pointing at the
survivor. Identifiers the survivor already holds stay on the tombstone. Undo moves back
exactly what the merge moved; contacts that arrived after the merge stay with the survivor.
Both are audited in their own transaction: the subject is the customer merged away (or
restored), the customer concerned the survivor.
"""

from __future__ import annotations

from core.domain.audit import Actor, AuditAction
from core.domain.clock import Clock
from core.domain.customer import Customer, CustomerStatus, Merge
from core.domain.errors import Conflict, InvalidInput, NotFound
from core.domain.events import CustomersMerged, MergeUndone
from core.domain.ids import new_id
from core.ports import UnitOfWork, UnitOfWorkFactory
from core.services import audit


class CustomerMerges:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def merge(self, survivor_id: str, other_id: str, *, actor: Actor) -> Merge:
        if survivor_id == other_id:
            raise InvalidInput({"other_id": "a customer cannot be merged into itself"})
        async with self._uow() as uow:
            survivor = await _active(uow, survivor_id)
            other = await _active(uow, other_id)
            held = {(i.kind, i.normalized if i.valid else i.value) for i in survivor.identifiers}
            moving = [i.id for i in other.identifiers
                      if (i.kind, i.normalized if i.valid else i.value) not in held]
            merge = Merge(
                id=new_id("mrg"), survivor_id=survivor.id, merged_id=other.id,
                moved_identifier_ids=moving,
                moved_contact_ids=await uow.contacts.ids_for_customer(other.id),
                moved_case_ids=await uow.cases.ids_for_customer(other.id),
                merged_by=actor.name, merged_at=self._clock.now())
            await uow.customers.move_identifiers(merge.moved_identifier_ids, survivor.id)
            await uow.contacts.move(merge.moved_contact_ids, survivor.id)
            await uow.cases.move(merge.moved_case_ids, survivor.id)
            await uow.customers.set_status(other.id, merged_into=survivor.id,
                                           at=merge.merged_at)
            await uow.identity.add_merge(merge)
            uow.outbox.add([CustomersMerged(merge_id=merge.id, survivor_id=survivor.id,
                                            merged_id=other.id)])
            await audit.record(uow, at=merge.merged_at, actor=actor,
                               action=AuditAction.CUSTOMERS_MERGED, subject_kind="customer",
                               subject_id=other.id, customer_id=survivor.id, details={
                                   "merge_id": merge.id, "moved": _moved(merge)})
            await uow.commit()
            return merge

    async def undo(self, merge_id: str, *, actor: Actor) -> Merge:
        async with self._uow() as uow:
            merge = await uow.identity.get_merge(merge_id)
            if merge is None:
                raise NotFound("merge", merge_id)
            if merge.undone_at is not None:
                raise Conflict(f"merge {merge_id} was already undone")
            survivor = await uow.customers.get(merge.survivor_id)
            merged = await uow.customers.get(merge.merged_id)
            if survivor is None or survivor.status is not CustomerStatus.ACTIVE:
                raise Conflict("the surviving customer was merged again since; undo that first")
            if merged is None or merged.merged_into != survivor.id:
                raise Conflict("the merged customer is no longer part of this merge")
            now = self._clock.now()
            await uow.customers.move_identifiers(merge.moved_identifier_ids, merged.id)
            await uow.contacts.move(merge.moved_contact_ids, merged.id)
            await uow.cases.move(merge.moved_case_ids, merged.id)
            await uow.customers.set_status(merged.id, merged_into=None, at=now)
            await uow.identity.mark_merge_undone(merge.id, by=actor.name, at=now)
            uow.outbox.add([MergeUndone(merge_id=merge.id, survivor_id=survivor.id,
                                        restored_id=merged.id)])
            await audit.record(uow, at=now, actor=actor, action=AuditAction.MERGE_UNDONE,
                               subject_kind="customer", subject_id=merged.id,
                               customer_id=survivor.id, details={
                                   "merge_id": merge.id, "moved_back": _moved(merge)})
            await uow.commit()
            merge.undone_at, merge.undone_by = now, actor.name
            return merge


def _moved(merge: Merge) -> dict[str, int]:
    return {"identifiers": len(merge.moved_identifier_ids),
            "contacts": len(merge.moved_contact_ids), "cases": len(merge.moved_case_ids)}


async def _active(uow: UnitOfWork, customer_id: str) -> Customer:
    customer = await uow.customers.get(customer_id)
    if customer is None:
        raise NotFound("customer", customer_id)
    if customer.status is CustomerStatus.ERASED:
        raise Conflict(f"customer {customer_id} was erased")
    if customer.status is not CustomerStatus.ACTIVE:
        raise Conflict(f"customer {customer_id} was merged into {customer.merged_into}")
    return customer
