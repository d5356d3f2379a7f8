"""Contacts that arrive at the same moment are stored together (group commit), and each is
still stored exactly once, on the right customer, with nothing lost when one of them is
bad — on SQLite and PostgreSQL.

``asyncio.gather`` starts the calls in order: the first finds the writer idle and goes
alone, the rest queue behind it and are stored in one transaction.
"""

from __future__ import annotations

import asyncio

import pytest

from core.domain.channels import Channel, Direction
from core.domain.commands import IngestContact, Party
from core.domain.errors import InvalidInput
from core.services.ingest import IngestResult
from workers.services import Services


def mail(n: int, sender: str, **extra: object) -> IngestContact:
    return IngestContact(channel=Channel.EMAIL, direction=Direction.INBOUND,
                         external_id=f"<{n}@together.example>",
                         party=Party(email=sender, name="Klant"), subject=f"Vraag {n}",
                         **extra)  # type: ignore[arg-type]


async def contacts_of(services: Services, customer_id: str) -> list[str]:
    page = await services.queries.timeline(customer_id, limit=100, cursor=None)
    return sorted(contact.id for contact in page.contacts)


async def test_contacts_arriving_together_each_land_once_on_their_own_customer(
        services: Services):
    senders = [f"klant{n}@together.example" for n in range(4)]
    results = await asyncio.gather(*(services.ingestion.ingest(mail(n, senders[n % 4]))
                                     for n in range(24)))

    assert len({r.contact_id for r in results}) == 24
    assert not any(r.duplicate for r in results)
    # A new customer's later contacts in the same batch find the customer the first created.
    by_customer: dict[str, list[IngestResult]] = {}
    for n, result in enumerate(results):
        by_customer.setdefault(senders[n % 4], []).append(result)
    for sender, theirs in by_customer.items():
        assert len({r.customer_id for r in theirs}) == 1, sender
        assert sum(r.customer_created for r in theirs) == 1, sender
        assert await contacts_of(services, theirs[0].customer_id) == \
            sorted(r.contact_id for r in theirs)


async def test_the_same_contact_sent_several_times_at_once_is_stored_once(services: Services):
    results = await asyncio.gather(*(services.ingestion.ingest(
        mail(1, "piet@together.example")) for _ in range(6)))

    assert len({r.contact_id for r in results}) == 1
    assert [r.duplicate for r in results].count(False) == 1
    assert await contacts_of(services, results[0].customer_id) == [results[0].contact_id]


async def test_one_bad_contact_among_many_is_refused_and_the_others_are_stored(
        services: Services):
    victim = await services.ingestion.ingest(mail(0, "victim@together.example"))
    arrivals = [mail(n, f"klant{n}@together.example") for n in range(1, 9)]
    # The fifth tries to join a case that is not its customer's: refused, alone.
    arrivals[4] = mail(5, "evil@together.example", case_id=victim.case_id)

    outcomes = await asyncio.gather(*(services.ingestion.ingest(a) for a in arrivals),
                                    return_exceptions=True)

    assert isinstance(outcomes[4], InvalidInput)
    stored = [o for o in outcomes if isinstance(o, IngestResult)]
    assert len(stored) == 7
    for result in stored:
        assert await contacts_of(services, result.customer_id) == [result.contact_id]
    assert await contacts_of(services, victim.customer_id) == [victim.contact_id]


async def test_a_caller_that_gives_up_does_not_take_the_others_with_it(services: Services):
    arrivals = [mail(n, f"klant{n}@together.example") for n in range(10)]
    calls = [asyncio.create_task(services.ingestion.ingest(a)) for a in arrivals]
    await asyncio.sleep(0)  # every call has queued; the first holds the writer's turn
    calls[0].cancel()
    calls[3].cancel()

    outcomes = await asyncio.gather(*calls, return_exceptions=True)

    assert isinstance(outcomes[3], asyncio.CancelledError)
    stored = [o for o in outcomes if isinstance(o, IngestResult)]
    assert len(stored) >= 8
    for result in stored:
        assert await contacts_of(services, result.customer_id) == [result.contact_id]
    # Whatever was cut off can be sent again and is stored exactly once.
    again = [await services.ingestion.ingest(arrivals[n]) for n in (0, 3)]
    for result in again:
        assert await contacts_of(services, result.customer_id) == [result.contact_id]


pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
