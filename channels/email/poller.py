"""Keeping one IMAP mailbox drained: connect, take in everything past the cursor, wait for
more (IDLE when the server has it, a poll interval otherwise), reconnect with backoff.

Order of effects per batch, which is what makes a restart at any moment safe:
1. each message is stored (idempotent on its dedupe key) in its own transaction;
2. only then is it marked ``\\Seen`` (or moved) on the server;
3. then the cursor (UIDVALIDITY, UID) is saved.
A crash between any two steps makes the next run see the message again, and step 1 finds it
already stored. A changed UIDVALIDITY resets the cursor to 0: every message is offered again
and the same dedupe key keeps each one stored once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_when_event_set,
    wait_exponential_jitter,
)

from channels.email.imap import FetchedMessage, ImapEndpoint, ImapError, MailboxSession
from channels.email.intake import Accepted, MailIntake, Outcome
from core.config import MailboxSettings
from core.domain.messaging import QuarantineStatus, content_key
from core.ports import UnitOfWorkFactory
from core.services.leases import LeaseKeeper

log = logging.getLogger(__name__)

BATCH = 50
IDLE_RENEW_S = 300.0  # RFC 2177: re-issue IDLE well within the server's 30-minute timeout
HEALTHY_AFTER_S = 60.0  # a connection that lived this long resets the backoff
FAILED_ATTEMPT_PAUSE_S = 5.0


class RetryLater(Exception):
    """A message failed in a way worth retrying; the batch stops before it."""


SessionFactory = Callable[[ImapEndpoint], MailboxSession]


class MailboxPoller:
    def __init__(self, *, mailbox: MailboxSettings, endpoint: ImapEndpoint,
                 intake: MailIntake, uow: UnitOfWorkFactory,
                 on_accepted: Callable[[Accepted], Awaitable[None]] | None = None,
                 session_factory: SessionFactory = MailboxSession,
                 lease: LeaseKeeper | None = None) -> None:
        self._mailbox = mailbox
        self._endpoint = endpoint
        self._intake = intake
        self._uow = uow
        self._on_accepted = on_accepted
        self._session_factory = session_factory
        self._lease = lease

    @property
    def name(self) -> str:
        return self._mailbox.name

    async def run(self, stop: asyncio.Event) -> None:
        """Serve the mailbox until ``stop`` is set, reconnecting after any failure; with a
        lease, only while this process holds it (others stand by and take over when it
        lapses). Two pollers overlapping for a moment is harmless — intake stores each
        message once by its dedupe key — the lease only saves doing the work twice."""
        if self._lease is None:
            await self._serve_until(stop)
            return
        while not stop.is_set():
            async with self._lease.held(stop) as until:
                if not until.is_set():
                    await self._serve_until(until)

    async def _serve_until(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            retrying = AsyncRetrying(
                # Anything: a dropped connection, a database that is away, a bug. Backing off
                # and logging beats a worker that dies and leaves the mailbox unread.
                retry=retry_if_exception_type(Exception),
                wait=wait_exponential_jitter(initial=1, max=60, jitter=1),
                stop=stop_when_event_set(stop),  # type: ignore[arg-type]
                sleep=_sleeper(stop), before_sleep=self._log_retry, reraise=True)
            with contextlib.suppress(Exception):  # only when stop was set while backing off
                await retrying(self._serve, stop)

    async def _serve(self, stop: asyncio.Event) -> None:
        """One connection's life. Returns when stopped, or when a long-lived connection
        drops (so the next one starts without backoff); raises when it failed early."""
        started = time.monotonic()
        try:
            async with self._session_factory(self._endpoint) as session:
                log.info("mailbox %s: connected (UIDVALIDITY %s, IDLE %s)", self.name,
                         session.uidvalidity, "yes" if session.supports_idle else "no")
                while not stop.is_set():
                    await self.drain(session)
                    await self._wait(session, stop)
        except (ImapError, RetryLater, OSError):
            if time.monotonic() - started < HEALTHY_AFTER_S or stop.is_set():
                raise
            log.warning("mailbox %s: connection lost; reconnecting", self.name)

    async def drain(self, session: MailboxSession) -> int:
        """Take in every message past the cursor; return how many were handled."""
        last = await self._cursor(session.uidvalidity)
        handled = 0
        while True:
            uids = await session.uids_after(last, limit=BATCH)
            if not uids:
                return handled
            fetched = await session.fetch(uids)
            done = await self._take(fetched)
            if done:
                await self._settle(session, done)
                last = max(done)
                handled += len(done)
            if len(done) < len(fetched):
                raise RetryLater(f"message {fetched[len(done)].uid} will be tried again")
            if not fetched:  # listed, then gone (another client expunged them)
                last = max(uids)
                await self._save_cursor(session.uidvalidity, last)

    async def _take(self, fetched: Sequence[FetchedMessage]) -> list[int]:
        """Store messages in order; stop at the first that must be retried."""
        done: list[int] = []
        for message in sorted(fetched, key=lambda m: m.uid):
            # Keyed by content, not UID: after a UIDVALIDITY change it is the same message.
            item_ref = content_key(message.raw)
            try:
                accepted = await self._intake.accept(message.raw, item_ref=item_ref)
            except Exception as err:
                log.exception("mailbox %s: message %s failed", self.name, message.uid)
                try:
                    item = await self._intake.record_failure(item_ref, message.raw, err)
                except Exception as unrecorded:
                    raise RetryLater("the failure could not be recorded") from unrecorded
                if item.status is not QuarantineStatus.QUARANTINED:
                    return done
                accepted = Accepted(outcome=Outcome.QUARANTINED, reason=item.reason)
            if self._on_accepted is not None:
                await self._on_accepted(accepted)
            done.append(message.uid)
        return done

    async def _settle(self, session: MailboxSession, uids: list[int]) -> None:
        if self._mailbox.move_to:
            await session.move(uids, self._mailbox.move_to)
        else:
            await session.mark_seen(uids)
        await self._save_cursor(session.uidvalidity, max(uids))

    async def _cursor(self, uidvalidity: int) -> int:
        async with self._uow() as uow:
            stored = await uow.channel_cursors.get(self._intake.source)
        if stored is None:
            return 0
        validity, last = stored
        if validity != uidvalidity:
            log.warning("mailbox %s: UIDVALIDITY changed from %s to %s; offering every "
                        "message again (stored ones are recognised)", self.name, validity,
                        uidvalidity)
            return 0
        return last

    async def _save_cursor(self, uidvalidity: int, last: int) -> None:
        async with self._uow() as uow:
            await uow.channel_cursors.save(self._intake.source, uidvalidity, last)
            await uow.commit()

    async def _wait(self, session: MailboxSession, stop: asyncio.Event) -> None:
        timeout = IDLE_RENEW_S if session.supports_idle else self._mailbox.poll_interval_s
        waiting = asyncio.create_task(session.wait_for_new(timeout),
                                      name=f"imap-wait-{self.name}")
        stopped = asyncio.create_task(stop.wait(), name=f"imap-stop-{self.name}")
        try:
            await asyncio.wait({waiting, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (waiting, stopped):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if waiting.done() and not waiting.cancelled() and waiting.exception() is not None:
            raise waiting.exception()  # type: ignore[misc]

    def _log_retry(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        delay = state.next_action.sleep if state.next_action else 0.0
        log.warning("mailbox %s: %s; retrying in %.1f s", self.name,
                    _describe(error), delay)


def _describe(error: BaseException | None) -> str:
    if error is None:
        return "failed"
    return f"{type(error).__name__}: {error}"


def _sleeper(stop: asyncio.Event) -> Callable[[float], Awaitable[None]]:
    async def sleep(seconds: float) -> None:
        # Back off, but wake at once for a shutdown.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds)

    return sleep
