"""Waiting on several events at once without leaking the helper tasks."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable


async def wait_any(events: Iterable[asyncio.Event], *, timeout_s: float | None) -> bool:
    """Return True as soon as one event is set, False after ``timeout_s``."""
    waiters = [asyncio.create_task(event.wait(), name="wait-any") for event in events]
    try:
        done, _ = await asyncio.wait(waiters, timeout=timeout_s,
                                     return_when=asyncio.FIRST_COMPLETED)
        return bool(done)
    finally:
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
