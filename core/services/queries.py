"""Read models for the API: a customer with open cases and timeline, case listings."""

from __future__ import annotations

from dataclasses import dataclass

from core.domain.contact import Case, CaseStatus, CaseType, Contact
from core.domain.customer import Customer, IdentifierKind, PossibleDuplicate
from core.domain.errors import InvalidInput, NotFound
from core.domain.work import WorkItem
from core.identity.normalise import normalise
from core.ports import TimelinePage, UnitOfWorkFactory


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerView:
    customer: Customer
    open_cases: list[Case]
    timeline: TimelinePage
    possible_duplicates: list[PossibleDuplicate]


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseView:
    case: Case
    contacts: list[Contact]
    work: WorkItem | None = None  # the case's live work item, if any


@dataclass(frozen=True, slots=True, kw_only=True)
class HeldWork:
    """A case an agent holds now: accepted and not yet wrapped up or transferred."""

    case: Case
    item: WorkItem


class Queries:
    def __init__(self, read_uow: UnitOfWorkFactory, *, default_region: str) -> None:
        self._uow = read_uow
        self._default_region = default_region

    async def customer(self, customer_id: str, *, timeline_limit: int,
                       cursor: str | None = None) -> CustomerView:
        async with self._uow() as uow:
            customer = await uow.customers.get(customer_id)
            if customer is None:
                raise NotFound("customer", customer_id)
            return CustomerView(
                customer=customer,
                open_cases=await uow.cases.open_for_customer(customer_id),
                timeline=await uow.contacts.timeline(customer_id, limit=timeline_limit,
                                                     cursor=cursor),
                possible_duplicates=await uow.identity.duplicates_of(customer_id),
            )

    async def timeline(self, customer_id: str, *, limit: int,
                       cursor: str | None) -> TimelinePage:
        async with self._uow() as uow:
            if await uow.customers.get(customer_id) is None:
                raise NotFound("customer", customer_id)
            return await uow.contacts.timeline(customer_id, limit=limit, cursor=cursor)

    async def duplicates(self, customer_id: str) -> list[PossibleDuplicate]:
        async with self._uow() as uow:
            if await uow.customers.get(customer_id) is None:
                raise NotFound("customer", customer_id)
            return await uow.identity.duplicates_of(customer_id)

    async def search(self, *, email: str | None, phone: str | None, text: str | None,
                     limit: int) -> list[Customer]:
        email_key = self._key(IdentifierKind.EMAIL, "email", email)
        phone_key = self._key(IdentifierKind.PHONE, "phone", phone)
        if email_key is None and phone_key is None and not text:
            raise InvalidInput({"query": "give email, phone or q"})
        async with self._uow() as uow:
            return await uow.customers.search(email=email_key, phone=phone_key, text=text,
                                              limit=limit)

    async def case(self, case_id: str, *, contact_limit: int) -> CaseView:
        async with self._uow() as uow:
            case = await uow.cases.get(case_id)
            if case is None:
                raise NotFound("case", case_id)
            return CaseView(case=case,
                            contacts=await uow.contacts.for_case(case_id, limit=contact_limit),
                            work=await uow.work.item_for_case(case_id))

    async def case_by_reference(self, reference: str) -> Case | None:
        """One probe of the unique index on the case number."""
        number = Case.number_of(reference)
        if number is None:
            raise InvalidInput({"reference": "a case reference looks like SW-1234"})
        async with self._uow() as uow:
            return await uow.cases.get_by_number(number)

    async def cases(self, *, status: CaseStatus | None, queue_id: str | None,
                    customer_id: str | None, limit: int, cursor: str | None,
                    case_type: CaseType | None = None) -> tuple[list[Case], str | None]:
        async with self._uow() as uow:
            return await uow.cases.page(status=status, queue_id=queue_id,
                                        customer_id=customer_id, limit=limit, cursor=cursor,
                                        case_type=case_type)

    async def held(self, agent_id: str) -> list[HeldWork]:
        """The agent's current work, longest waiting first."""
        async with self._uow() as uow:
            found = []
            for item in await uow.work.assigned_to(agent_id):
                case = await uow.cases.get(item.case_id)
                if case is not None:
                    found.append(HeldWork(case=case, item=item))
            return found

    def _key(self, kind: IdentifierKind, field: str, raw: str | None) -> str | None:
        if raw is None:
            return None
        normalised = normalise(kind, raw, default_region=self._default_region)
        if normalised.normalized is None:
            raise InvalidInput({field: normalised.problem or "not a valid value"})
        return normalised.normalized
