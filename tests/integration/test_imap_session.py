"""IMAP sessions against a real Dovecot: TLS, STARTTLS, refusals and what stays unseen."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from channels.email.imap import ImapError, MailboxSession
from tests.support.dovecot import Mailbox
from tests.support.mail import customer_mail
from workers.dovecot import Dovecot, DovecotUnavailable


@pytest.fixture(scope="module")
def tls_dovecot() -> Iterator[Dovecot]:
    from tests.conftest import unavailable

    try:
        server = Dovecot(tls=True)
        server.start()
    except (DovecotUnavailable, RuntimeError, OSError) as err:
        unavailable("Dovecot with TLS", err)
        raise AssertionError("unreachable") from err
    try:
        yield server
    finally:
        server.stop()


async def test_starttls_and_implicit_tls_verify_the_server(tls_dovecot: Dovecot) -> None:
    plain = tls_dovecot.add_user("tls-user")
    starttls = replace(plain, security="starttls")
    implicit = replace(plain, security="tls", port=tls_dovecot.tls_port)

    async with MailboxSession(starttls, ssl_context=tls_dovecot.ssl_context()) as session:
        await session.append(customer_mail("jan@example.nl", "Via STARTTLS", "Hallo"))
    async with MailboxSession(implicit, ssl_context=tls_dovecot.ssl_context()) as session:
        [uid] = await session.uids_after(0, limit=10)
        [fetched] = await session.fetch([uid])
    assert b"Via STARTTLS" in fetched.raw

    for endpoint in (starttls, implicit):  # a certificate nobody vouched for is refused
        with pytest.raises(ImapError, match=r"(?i)certificate verify failed"):
            async with MailboxSession(endpoint):
                pass


async def test_a_wrong_password_is_refused_without_showing_it(mailbox: Mailbox) -> None:
    wrong = replace(mailbox.endpoint, password="not-the-password-123")
    with pytest.raises(ImapError) as refused:
        async with MailboxSession(wrong):
            pass
    assert "not-the-password-123" not in str(refused.value)


async def test_fetching_leaves_mail_unseen_until_marked(mailbox: Mailbox) -> None:
    async with MailboxSession(mailbox.endpoint) as session:
        await session.append(customer_mail("jan@example.nl", "Een", "1"))
        await session.append(customer_mail("jan@example.nl", "Twee", "2"))
        uids = await session.uids_after(0, limit=10)
        fetched = await session.fetch(uids)
        assert [m.uid for m in fetched] == uids
        assert await session.uids_after(max(uids), limit=10) == []  # the "n:*" quirk
        flags = await session._client.uid("fetch", "1:*", "(FLAGS)")
        assert not any(b"\\Seen" in bytes(line) for line in flags.lines)
        await session.mark_seen(uids[:1])
        flags = await session._client.uid("fetch", "1:*", "(FLAGS)")
        seen = [b"\\Seen" in bytes(line) for line in flags.lines[:-1]]
        assert seen == [True, False]


async def test_moving_mail_to_another_folder(mailbox: Mailbox) -> None:
    async with MailboxSession(mailbox.endpoint) as session:
        await session.append(customer_mail("jan@example.nl", "Verplaats mij", "1"))
        await session.create_folder("Verwerkt")
        uids = await session.uids_after(0, limit=10)
        await session.move(uids, "Verwerkt")
        assert await session.uids_after(0, limit=10) == []
    async with MailboxSession(replace(mailbox.endpoint, folder="Verwerkt")) as moved:
        assert len(await moved.uids_after(0, limit=10)) == 1
