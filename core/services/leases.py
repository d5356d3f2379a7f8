"""Holding a named lease while doing work only one process may do.

``async with keeper.held(stop) as until:`` waits until the lease is ours (or ``stop`` is
set), then renews it every third of its life in the background; ``until`` is set when
``stop`` is set or the lease is lost (a renewal failed to reach the database for longer than
the lease lasts, or another holder took it after we missed renewals), and the work must then
stop. Leaving the block hands the lease back at once, so a clean shutdown never makes the
next holder wait for expiry; a process that dies simply stops renewing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

from core.domain.clock import Clock
from core.ports import UnitOfWorkFactory

log = logging.getLogger(__name__)


class LeaseKeeper:
    def __init__(self, *, name: str, holder: str, uow: UnitOfWorkFactory, clock: Clock,
                 ttl_s: float) -> None:
        self.name = name
        self.holder = holder
        self._uow = uow
        self._clock = clock
        self._ttl = timedelta(seconds=ttl_s)
        self._renew_every_s = ttl_s / 3

    async def try_take(self) -> bool:
        now = self._clock.now()
        async with self._uow() as uow:
            taken = await uow.leases.take(self.name, self.holder, now=now,
                                          until=now + self._ttl)
            await uow.commit()
        return taken

    @contextlib.asynccontextmanager
    async def held(self, stop: asyncio.Event) -> AsyncIterator[asyncio.Event]:
        until = asyncio.Event()
        if not await self._wait_for_lease(stop):
            until.set()
            yield until
            return
        log.info("lease %s taken by %s", self.name, self.holder)
        renewing = asyncio.create_task(self._renew(stop, until), name=f"lease-{self.name}")
        try:
            yield until
        finally:
            renewing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewing
            with contextlib.suppress(Exception):  # the database may be the reason we stop
                async with self._uow() as uow:
                    await uow.leases.give_up(self.name, self.holder)
                    await uow.commit()

    async def _wait_for_lease(self, stop: asyncio.Event) -> bool:
        standing_by = False
        while not stop.is_set():
            try:
                if await self.try_take():
                    return True
                if not standing_by:
                    log.info("lease %s is held elsewhere; %s stands by", self.name,
                             self.holder)
                    standing_by = True
            except Exception:
                log.exception("lease %s: could not ask the database", self.name)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._renew_every_s)
        return False

    async def _renew(self, stop: asyncio.Event, until: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        renewed_at = loop.time()
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._renew_every_s)
            if stop.is_set():
                break
            try:
                if not await self.try_take():
                    log.warning("lease %s was taken over; %s stops", self.name, self.holder)
                    break
                renewed_at = loop.time()
            except Exception:
                if loop.time() - renewed_at >= self._ttl.total_seconds():
                    log.warning("lease %s could not be renewed in time; %s stops",
                                self.name, self.holder)
                    break
                log.warning("lease %s: renewal failed; trying again", self.name,
                            exc_info=True)
        until.set()
