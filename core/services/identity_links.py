"""Linking a phone number to a customer after proof, without an agent.

A caller types a customer number; a six-digit code goes to the e-mail address on that
customer's record (the channel sends it, in the same transaction as the attempt); the caller
types the code back and the calling number becomes a verified identifier of that customer,
recorded as a ``customer.profile_changed`` like any edit. Codes live ten minutes, allow three
tries, and only their hash is stored; a customer gets at most three codes an hour so the
feature cannot be used to flood someone's inbox.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from core.domain.audit import SELF_SERVICE
from core.domain.channels import Channel
from core.domain.clock import Clock
from core.domain.customer import CustomerStatus, Identifier, IdentifierKind
from core.domain.ids import new_id
from core.domain.verification import CheckOutcome, StartRefusal, Verification
from core.identity.normalise import normalise_opaque
from core.ports import UnitOfWork, UnitOfWorkFactory
from core.services.profiles import profile_changed

CODE_TTL = timedelta(minutes=10)
MAX_ATTEMPTS = 3
MAX_CODES_PER_HOUR = 3


@dataclass(frozen=True, slots=True)
class Challenge:
    """A code to send (once) and where to."""

    verification_id: str
    customer_id: str
    display_name: str
    language: str | None
    address: str
    phone: str
    code: str

    @property
    def masked_address(self) -> str:
        """"j…@example.nl": enough for the caller to recognise, too little to learn."""
        local, _, domain = self.address.partition("@")
        return f"{local[:1]}…@{domain}"


SendCode = Callable[[UnitOfWork, Challenge], Awaitable[None]]


def _code_hash(verification_id: str, code: str) -> str:
    # Keyed by the attempt's id so equal codes of different attempts do not hash alike.
    return hmac.new(verification_id.encode(), code.encode(), hashlib.sha256).hexdigest()


class IdentityLinks:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def start(self, *, reference: str, customer_number: str, phone: str,
                    send: SendCode) -> Challenge | StartRefusal:
        number = normalise_opaque(IdentifierKind.CRM, customer_number)
        now = self._clock.now()
        async with self._uow() as uow:
            holders = await uow.customers.holders([(IdentifierKind.CRM, number.normalized
                                                    or "")]) if number.normalized else {}
            owners = holders.get((IdentifierKind.CRM, number.normalized or ""), [])
            customer = await uow.customers.get(owners[0]) if len(owners) == 1 else None
            if customer is None or customer.status is not CustomerStatus.ACTIVE:
                return StartRefusal.UNKNOWN_NUMBER
            if customer.holds(IdentifierKind.PHONE, phone) is not None:
                return StartRefusal.ALREADY_LINKED
            phone_owners = (await uow.customers.holders([(IdentifierKind.PHONE, phone)])).get(
                (IdentifierKind.PHONE, phone), [])
            if any(owner != customer.id for owner in phone_owners):
                return StartRefusal.TAKEN
            address = next((i.normalized for i in customer.identifiers
                            if i.kind is IdentifierKind.EMAIL and i.matchable
                            and i.normalized), None)
            if address is None:
                return StartRefusal.NO_ADDRESS
            if await uow.verifications.count_since(customer.id, now - timedelta(hours=1)) \
                    >= MAX_CODES_PER_HOUR:
                return StartRefusal.TOO_MANY
            verification_id = new_id("vrf")
            code = f"{secrets.randbelow(1_000_000):06d}"
            await uow.verifications.add(Verification(
                id=verification_id, reference=reference, customer_id=customer.id,
                phone=phone, code_hash=_code_hash(verification_id, code), sent_to=address,
                attempts=0, created_at=now, expires_at=now + CODE_TTL))
            challenge = Challenge(verification_id=verification_id, customer_id=customer.id,
                                  display_name=customer.display_name or "",
                                  language=customer.language, address=address, phone=phone,
                                  code=code)
            await send(uow, challenge)
            await uow.commit()
        return challenge

    async def check(self, *, reference: str, code: str, by: str,
                    via: str) -> tuple[CheckOutcome, str | None]:
        """The outcome, and the customer the number now belongs to when linked."""
        now = self._clock.now()
        async with self._uow() as uow:
            pending = await uow.verifications.latest(reference)
            if pending is None or pending.verified_at is not None:
                return CheckOutcome.NONE, None
            if pending.expires_at <= now:
                return CheckOutcome.EXPIRED, None
            if pending.attempts >= MAX_ATTEMPTS:
                return CheckOutcome.EXHAUSTED, None
            pending.attempts += 1
            if not hmac.compare_digest(pending.code_hash, _code_hash(pending.id, code.strip())):
                await uow.verifications.save(pending)
                await uow.commit()
                return (CheckOutcome.EXHAUSTED if pending.attempts >= MAX_ATTEMPTS
                        else CheckOutcome.WRONG), None
            pending.verified_at = now
            await uow.verifications.save(pending)
            await uow.customers.lock_keys([(IdentifierKind.PHONE, pending.phone)])
            phone_owners = (await uow.customers.holders(
                [(IdentifierKind.PHONE, pending.phone)])).get(
                (IdentifierKind.PHONE, pending.phone), [])
            if pending.customer_id not in phone_owners:
                await uow.customers.add_identifiers(pending.customer_id, [Identifier(
                    id=new_id("idn"), kind=IdentifierKind.PHONE, value=pending.phone,
                    normalized=pending.phone, verified=True, source=Channel.PHONE,
                    first_seen_at=now,
                    last_seen_at=now)])
                await profile_changed(
                    uow, at=now, actor=SELF_SERVICE, by=by, via=via,
                    customer_id=pending.customer_id,
                    changes={"identifiers": {"from": None, "to": f"phone {pending.phone}"},
                             "verified_by": {"from": None,
                                             "to": f"code e-mailed to {pending.sent_to}"}})
            await uow.commit()
        return CheckOutcome.LINKED, pending.customer_id
