"""Fixtures: one private Dovecot per test session, a fresh mailbox (user) per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from channels.email.imap import ImapEndpoint
from workers.dovecot import Dovecot, DovecotUnavailable


@dataclass(frozen=True)
class Mailbox:
    server: Dovecot
    user: str
    endpoint: ImapEndpoint

    @property
    def url(self) -> str:
        return self.server.url(self.user)

    def reset_uidvalidity(self) -> None:
        self.server.reset_uidvalidity(self.user)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    from tests.conftest import unavailable

    try:
        server = Dovecot()
        server.start()
    except (DovecotUnavailable, RuntimeError, OSError) as err:
        unavailable("Dovecot", err)
        raise AssertionError("unreachable") from err
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mailbox(dovecot: Dovecot) -> Mailbox:
    user = f"u{uuid.uuid4().hex[:12]}"
    endpoint = dovecot.add_user(user)
    return Mailbox(server=dovecot, user=user, endpoint=endpoint)
