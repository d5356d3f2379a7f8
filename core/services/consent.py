"""The customer's contact preferences: consent to be called or mailed by us, recorded with
who changed it, when and how the customer said so, and checked by outbound features.

The rule (:func:`core.domain.privacy.outbound_refusal`): a withdrawn consent stops what we
start — an agent's call, an automatic mail (acknowledgement, form confirmation, survey
invitation) — but never an answer to the customer's own request: a reply to their
message, or a call about a case of theirs that is still open.
"""

from __future__ import annotations

from core.domain.audit import Actor, AuditAction
from core.domain.clock import Clock
from core.domain.customer import CustomerStatus
from core.domain.errors import Conflict, NotFound
from core.domain.privacy import Consent, ConsentChannel, OutboundPurpose, outbound_refusal
from core.ports import UnitOfWork, UnitOfWorkFactory
from core.services import audit


class Consents:
    def __init__(self, *, uow: UnitOfWorkFactory, read_uow: UnitOfWorkFactory,
                 clock: Clock) -> None:
        self._uow = uow
        self._read_uow = read_uow
        self._clock = clock

    async def set(self, customer_id: str, channel: ConsentChannel, *, granted: bool,
                  via: str, actor: Actor) -> Consent:
        async with self._uow() as uow:
            customer = await uow.customers.get(customer_id)
            if customer is None:
                raise NotFound("customer", customer_id)
            if customer.status is not CustomerStatus.ACTIVE:
                raise Conflict(f"customer {customer_id} is {customer.status.value}")
            consent = Consent(customer_id=customer_id, channel=channel, granted=granted,
                              changed_at=self._clock.now(), changed_by=actor.name, via=via)
            await uow.privacy.set_consent(consent)
            await audit.record(
                uow, at=consent.changed_at, actor=actor, action=AuditAction.CONSENT_CHANGED,
                subject_kind="customer", subject_id=customer_id, customer_id=customer_id,
                details={"channel": channel.value, "granted": granted, "via": via})
            await uow.commit()
        return consent

    async def of(self, customer_id: str) -> list[Consent]:
        async with self._read_uow() as uow:
            if await uow.customers.get(customer_id) is None:
                raise NotFound("customer", customer_id)
            return await uow.privacy.consents([customer_id])


async def refusal(uow: UnitOfWork, customer_id: str, purpose: OutboundPurpose) -> str | None:
    """Why contacting the customer for ``purpose`` is not allowed now, or None; read in the
    caller's transaction. Consent recorded on customers merged into this one counts too."""
    if purpose is OutboundPurpose.REPLY:
        return None
    consents = await uow.privacy.consents(await uow.redactions.merged_into(customer_id))
    if not consents:
        return None
    answering = purpose is OutboundPurpose.CALL and bool(
        await uow.cases.open_for_customer(customer_id))
    return outbound_refusal(consents, purpose, answering_own_request=answering)


class ConsentWithdrawn(Conflict):
    """Contacting this customer this way is not allowed; the message says why."""
