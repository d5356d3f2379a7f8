"""Fixtures: one private Dovecot per test session, a fresh mailbox (user) per test.

The server is started synchronously (a plain subprocess, no event loop), so it outlives the
per-test event loops of pytest-asyncio without belonging to any of them.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest

from channels.email.imap import ImapEndpoint
from workers.dovecot import Dovecot, DovecotError, DovecotUnavailable


@dataclass(frozen=True)
class Mailbox:
    server: Dovecot
    user: str
    password: str = field(repr=False)
    endpoint: ImapEndpoint

    @property
    def url(self) -> str:
        return self.server.url(self.user, self.password)

    def reset_uidvalidity(self) -> int:
        """Blocking form, for synchronous callers; prefer
        ``await mailbox.server.reset_uidvalidity(mailbox.user)``."""
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(
                asyncio.run, self.server.reset_uidvalidity(self.user)).result()


def private_dovecot(*, tls: bool = False) -> Dovecot:
    """A started server of one's own (stop it), for tests that must not share one: ones that
    stop it, or need TLS. Fails under CI=true and skips elsewhere when Dovecot is missing."""
    from tests.conftest import unavailable

    try:
        server = Dovecot(tls=tls)
        server.start()
    except (DovecotUnavailable, DovecotError, OSError) as err:
        unavailable("Dovecot", err)
        raise AssertionError("unreachable") from err
    return server


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    server = private_dovecot()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mailbox(dovecot: Dovecot) -> Mailbox:
    user = f"u{uuid.uuid4().hex[:12]}"
    endpoint = dovecot.add_user(user)
    return Mailbox(server=dovecot, user=user, password=endpoint.password, endpoint=endpoint)
