"""Rate limits for public endpoints (forms, chat), on the `limits` library's moving
window. In memory per process: with several web processes each counts its own share
(documented); limits are per client IP and per resource."""

from __future__ import annotations

import math
import time

from aiohttp import web
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter


class RateLimits:
    def __init__(self) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    async def retry_after(self, limit: RateLimitItem, *keys: str) -> int | None:
        """None when allowed (and counted); else the seconds until the next is allowed."""
        if await self._limiter.hit(limit, *keys):
            return None
        stats = await self._limiter.get_window_stats(limit, *keys)
        return max(1, math.ceil(stats.reset_time - time.time()))


def limit(text: str) -> RateLimitItem:
    return parse(text)


def client_ip(request: web.Request) -> str:
    # Behind a reverse proxy this is the client it names, when SWITCHBOARD_TRUSTED_PROXIES
    # says the proxy is ours (workers/web/proxies.py).
    return request.remote or "unknown"


RATE_LIMITS = web.AppKey("rate_limits", RateLimits)
