"""Surveys on a real database (SQLite and PostgreSQL): the frequency cap claimed once under
concurrency, opt-outs, answers recorded once, the phone channel's calls, and the choice of
whom to ask when a case is resolved."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from core.config import Settings
from core.domain.channels import Channel, Direction
from core.domain.commands import IngestContact, Party
from core.domain.contact import CaseStatus
from core.domain.errors import NotFound
from core.domain.surveys import AlreadyAnswered, Skip, SurveyExpired, SurveyKind
from core.services.ingest import IngestResult
from core.storage.tables import contacts, survey_responses
from tests.support.clock import FakeClock
from tests.support.mail import MAIL_FROM
from workers import bootstrap
from workers.services import Services

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
async def built(database_url: str, clock: FakeClock) -> AsyncIterator[Services]:
    settings = Settings(database_url=database_url, redis_url=None, http_port=0,
                        log_format="text", mail_from=MAIL_FROM,
                        smtp_url=SecretStr("smtp://127.0.0.1:9"),
                        public_url="https://switchboard.example.nl")
    async with bootstrap.build(settings, clock=clock) as services:
        yield services


async def contact(services: Services, channel: Channel, external_id: str,
                  **party: str) -> IngestResult:
    return await services.ingestion.ingest(IngestContact(
        channel=channel, direction=Direction.INBOUND, external_id=external_id,
        party=Party(**party), subject="Vraag", body="Een vraag."))


async def resolve_and_decide(services: Services, case_id: str) -> Skip | Channel:
    async with services.uow() as uow:
        case = await uow.cases.get(case_id)
        assert case is not None
        case.move_to(CaseStatus.RESOLVED, services.clock.now())
        await uow.cases.save(case)
        decision = await services.surveys.case_resolved(uow, case_id)
        await uow.commit()
    if decision.invitation is not None:
        return decision.invitation.channel
    assert decision.skipped is not None
    return decision.skipped


async def test_a_claim_holds_for_the_cap_and_never_after_an_opt_out(
        built: Services, clock: FakeClock) -> None:
    customer = (await contact(built, Channel.EMAIL, "<1@x>", email="a@example.nl")).customer_id

    async def claim() -> bool:
        async with built.uow() as uow:
            won = await uow.surveys.claim(customer, now=clock.now(),
                                          not_after=clock.now() - timedelta(days=30))
            await uow.commit()
        return won

    assert await claim() is True
    clock.advance(timedelta(days=29))
    assert await claim() is False
    clock.advance(timedelta(days=1))
    assert await claim() is True
    await built.surveys.set_opt_out(customer, opted_out=True, via="test")
    clock.advance(timedelta(days=100))
    assert await claim() is False
    assert await built.surveys.phone_survey_due(customer) is False
    await built.surveys.set_opt_out(customer, opted_out=False, via="test")
    assert await built.surveys.phone_survey_due(customer) is True


async def test_two_claims_at_once_only_one_wins(built: Services, clock: FakeClock) -> None:
    customer = (await contact(built, Channel.EMAIL, "<1@x>", email="a@example.nl")).customer_id
    async with built.uow() as setup:  # the row exists, so both claims race on its lock
        await setup.surveys.set_opt_out(customer, at=None, via=None)
        await setup.commit()
    threshold = clock.now() - timedelta(days=30)

    async def second() -> bool:
        async with built.uow() as uow:
            won = await uow.surveys.claim(customer, now=clock.now(), not_after=threshold)
            await uow.commit()
        return won

    async with built.uow() as first:
        assert await first.surveys.claim(customer, now=clock.now(), not_after=threshold)
        racing = asyncio.create_task(second())  # waits for the first transaction's lock
        await waiting_for_a_lock(built)
        assert not racing.done()
        await first.commit()
    assert await asyncio.wait_for(racing, 10) is False


async def waiting_for_a_lock(services: Services) -> None:
    """Until another transaction waits for a row lock (PostgreSQL); SQLite serialises
    writers at BEGIN IMMEDIATE, so there the second claim simply runs after the first."""
    if services.engine.dialect.name != "postgresql":
        return
    async with asyncio.timeout(10):
        while True:
            async with services.engine.connect() as conn:
                waiting = await conn.scalar(sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"))
            if waiting:
                return
            await asyncio.sleep(0.01)


async def test_a_phone_survey_is_started_answered_once_and_then_due_no_more(
        built: Services, clock: FakeClock) -> None:
    called = await contact(built, Channel.PHONE, "CA123", phone="+31612345678")
    customer = called.customer_id
    assert await built.surveys.phone_survey_due(customer) is True

    invitation = await built.surveys.start(
        customer_id=customer, channel=Channel.PHONE, case_id=called.case_id,
        contact_id=called.contact_id, reference="CA123", language="en")
    assert invitation is not None and invitation.kind is SurveyKind.CSAT
    assert await built.surveys.phone_survey_due(customer) is False
    assert await built.surveys.start(customer_id=customer, channel=Channel.PHONE) is None
    found = await built.surveys.invitation_for_call("CA123")
    assert found is not None and found.id == invitation.id

    with pytest.raises(NotFound):  # not a chat survey
        await built.surveys.record_answer(invitation.id, channel=Channel.CHAT, score=5)
    answered = await built.surveys.record_answer(invitation.id, channel=Channel.PHONE,
                                                 score=5)
    assert answered.duplicate is False and answered.response.language == "en"
    again = await built.surveys.record_answer(invitation.id, channel=Channel.PHONE, score=5)
    assert again.duplicate is True and again.response.id == answered.response.id
    with pytest.raises(AlreadyAnswered):
        await built.surveys.record_answer(invitation.id, channel=Channel.PHONE, score=1)
    assert await built.surveys.invitation_for_call("CA123") is None  # answered

    # Reports join CSAT per contact with one join on contact_id.
    async with built.engine.connect() as conn:
        rows = (await conn.execute(
            sa.select(contacts.c.channel, survey_responses.c.score)
            .join(survey_responses, survey_responses.c.contact_id == contacts.c.id))).all()
    assert [tuple(r) for r in rows] == [("phone", 5)]


async def test_an_unanswered_survey_expires(built: Services, clock: FakeClock) -> None:
    called = await contact(built, Channel.PHONE, "CA9", phone="+31612345679")
    invitation = await built.surveys.start(customer_id=called.customer_id,
                                           channel=Channel.PHONE, reference="CA9")
    assert invitation is not None
    clock.advance(timedelta(days=14))
    with pytest.raises(SurveyExpired):
        await built.surveys.record_answer(invitation.id, channel=Channel.PHONE, score=3)


async def test_whom_to_ask_when_a_case_is_resolved(built: Services, clock: FakeClock) -> None:
    mailed = await contact(built, Channel.EMAIL, "<m@x>", email="m@example.nl")
    assert await resolve_and_decide(built, mailed.case_id or "") is Channel.EMAIL
    again = await contact(built, Channel.EMAIL, "<m2@x>", email="m@example.nl")
    assert await resolve_and_decide(built, again.case_id or "") is Skip.TOO_SOON

    # A claimed address (typed into a pre-chat form) is never one to mail.
    claimed = await contact(built, Channel.CHAT, "cnv_x", visitor_id="vis_" + "a" * 24,
                            claimed_email="someone@example.nl")
    assert await resolve_and_decide(built, claimed.case_id or "") is Skip.NO_ADDRESS

    # Resolving the same case twice (reopened in between) asks once.
    phoned = await contact(built, Channel.PHONE, "CA7", phone="+31612345670",
                           email="p@example.nl")
    assert await resolve_and_decide(built, phoned.case_id or "") is Channel.EMAIL
    async with built.uow() as uow:
        assert await uow.surveys.invitation_for_case(phoned.case_id or "") is not None
        decided = await built.surveys.case_resolved(uow, phoned.case_id or "")
    assert decided.skipped is Skip.ALREADY_SURVEYED

    # A case that was reopened before the worker got to it: nobody is asked.
    reopened = await contact(built, Channel.EMAIL, "<r@x>", email="r@example.nl")
    async with built.uow() as uow:
        decided = await built.surveys.case_resolved(uow, reopened.case_id or "")
    assert decided.skipped is Skip.NOT_RESOLVED
