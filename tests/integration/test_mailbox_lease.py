"""One IMAP mailbox, several mail-intake processes: exactly one polls it (a lease in the
database); when that process dies the lease lapses and another takes over; a clean stop
hands it over at once. Real Dovecot, real database, the test's clock."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import pytest

from channels.email.imap import ImapEndpoint, MailboxSession
from channels.email.poller import MailboxPoller
from core.services.leases import LeaseKeeper
from tests.integration.test_email_flow import (
    JAN,
    append,
    email_contacts,
    eventually,
    inbound,
    poller_for,
    quiet_centre,
    sqlite_database,
)
from tests.support.centre import Centre
from tests.support.dovecot import Mailbox
from tests.support.mail import customer_mail

__all__ = ["quiet_centre", "sqlite_database"]  # fixtures shared with the e-mail flow tests
TTL_S = 0.3  # real seconds between attempts are TTL_S / 3; expiry is on the test's clock
LEASE = "imap:support"


def keeper(centre: Centre, holder: str) -> LeaseKeeper:
    return LeaseKeeper(name=LEASE, holder=holder, uow=centre.services.uow,
                       clock=centre.services.clock, ttl_s=TTL_S)


class Connections:
    """Counts the IMAP connections each poller opens."""

    def __init__(self) -> None:
        self.opened: dict[str, int] = {}

    def factory(self, holder: str) -> Callable[[ImapEndpoint], MailboxSession]:
        def open_session(endpoint: ImapEndpoint) -> MailboxSession:
            self.opened[holder] = self.opened.get(holder, 0) + 1
            return MailboxSession(endpoint)
        return open_session


@contextlib.asynccontextmanager
async def running(poller: MailboxPoller) -> AsyncIterator[asyncio.Event]:
    stop = asyncio.Event()
    task = asyncio.create_task(poller.run(stop))
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)


async def lease_holder(centre: Centre) -> str | None:
    async with centre.services.read_uow() as uow:
        return await uow.leases.holder(LEASE, now=centre.services.clock.now())


async def test_one_poller_serves_the_mailbox_and_a_clean_stop_hands_it_over(
        quiet_centre: Centre, mailbox: Mailbox) -> None:
    connections = Connections()
    first = poller_for(quiet_centre, mailbox, lease=keeper(quiet_centre, "host-a"),
                       session_factory=connections.factory("host-a"))
    second = poller_for(quiet_centre, mailbox, lease=keeper(quiet_centre, "host-b"),
                        session_factory=connections.factory("host-b"))
    await append(mailbox, customer_mail(JAN, "Vraag 1", "Een."))
    async with running(first) as stop_first:
        await inbound(quiet_centre, 1)
        assert await lease_holder(quiet_centre) == "host-a"
        async with running(second):
            await append(mailbox, customer_mail(JAN, "Vraag 2", "Twee."))
            await inbound(quiet_centre, 2)
            assert connections.opened.get("host-b", 0) == 0  # standing by, not polling

            stop_first.set()  # a clean stop gives the lease back at once
            await append(mailbox, customer_mail(JAN, "Vraag 3", "Drie."))
            await inbound(quiet_centre, 3)
            assert await lease_holder(quiet_centre) == "host-b"
            assert connections.opened["host-b"] >= 1
    subjects = sorted(c.subject or "" for c in await email_contacts(quiet_centre))
    assert subjects == ["Vraag 1", "Vraag 2", "Vraag 3"]  # each stored once
    assert await lease_holder(quiet_centre) is None  # both stopped cleanly


async def test_a_dead_holders_mailbox_is_taken_over_when_its_lease_lapses(
        quiet_centre: Centre, mailbox: Mailbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="core.services.leases")
    clock: Any = quiet_centre.services.clock
    dead = keeper(quiet_centre, "host-that-died")
    assert await dead.try_take()  # then it "dies": never renews, never gives up
    await append(mailbox, customer_mail(JAN, "Vraag", "Hallo?"))
    survivor = poller_for(quiet_centre, mailbox, lease=keeper(quiet_centre, "host-b"))

    async with running(survivor):
        async def standing_by() -> bool:
            return "stands by" in caplog.text
        await eventually(standing_by, "the survivor standing by")
        assert await email_contacts(quiet_centre) == []  # nobody polls a held mailbox

        clock.advance(timedelta(seconds=TTL_S * 2))  # the dead holder's lease lapses
        await inbound(quiet_centre, 1)
        assert await lease_holder(quiet_centre) == "host-b"


async def test_a_lease_has_one_holder_at_a_time_on_either_database(services: Any) -> None:
    clock = services.clock
    first = LeaseKeeper(name="imap:x", holder="a", uow=services.uow, clock=clock, ttl_s=30)
    second = LeaseKeeper(name="imap:x", holder="b", uow=services.uow, clock=clock, ttl_s=30)
    results = await asyncio.gather(first.try_take(), second.try_take())
    assert sorted(results) == [False, True]  # racing for it: exactly one wins
    winner, loser = (first, second) if results[0] else (second, first)
    assert await winner.try_take()  # renewing is taking again
    assert not await loser.try_take()
    async with services.uow() as uow:
        await uow.leases.give_up("imap:x", loser.holder)  # only the holder can give it up
        await uow.commit()
    assert not await loser.try_take()
    async with services.uow() as uow:
        await uow.leases.give_up("imap:x", winner.holder)
        await uow.commit()
    assert await loser.try_take()
