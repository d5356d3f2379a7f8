"""A local stand-in for Twilio's REST API at the HTTP boundary: a real aiohttp server that
records what the `twilio` library sends and answers as Twilio documents."""

from __future__ import annotations

import asyncio
import base64
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class FakeTwilio:
    url: str = ""
    created: list[dict[str, str]] = field(default_factory=list)
    updated: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    auth: list[tuple[str, str]] = field(default_factory=list)
    _failures: list[tuple[int, int, str]] = field(default_factory=list)
    _sids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    ended: set[str] = field(default_factory=set)  # calls ended through the API

    def fail_next(self, status: int, code: int, message: str) -> None:
        self._failures.append((status, code, message))

    async def create_call(self, request: web.Request) -> web.Response:
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        user, _, password = base64.b64decode(encoded).decode().partition(":") \
            if scheme == "Basic" else ("", "", "")
        self.auth.append((user, password))
        if self._failures:
            return self._error(*self._failures.pop(0))
        form = await request.post()
        values = {k: str(v) for k, v in form.items()}
        values["StatusCallbackEvent"] = ",".join(str(v) for v in form.getall(
            "StatusCallbackEvent", []))
        self.created.append(values)
        sid = f"CAfake{next(self._sids):026d}"
        return web.json_response({
            "sid": sid, "account_sid": request.match_info["account"], "to": values.get("To"),
            "from": values.get("From"), "status": "queued", "direction": "outbound-api",
            "api_version": "2010-04-01", "uri": f"/2010-04-01/Accounts/x/Calls/{sid}.json"},
            status=201)

    async def update_call(self, request: web.Request) -> web.Response:
        form = await request.post()
        sid = request.match_info["sid"]
        if self._failures:
            return self._error(*self._failures.pop(0))
        if sid in self.ended:
            # What Twilio answers for a call that is over (error 21220).
            return self._error(400, 21220, "Call is not in-progress. Cannot redirect.")
        values = {k: str(v) for k, v in form.items()}
        if values.get("Status") in ("completed", "canceled"):
            self.ended.add(sid)
        async with self._changed:
            self.updated.append((sid, values))
            self._changed.notify_all()
        return web.json_response({"sid": sid, "account_sid": request.match_info["account"],
                                  "status": values.get("Status", "in-progress")})

    @staticmethod
    def _error(status: int, code: int, message: str) -> web.Response:
        return web.json_response({"code": code, "message": message, "status": status,
                                  "more_info": f"https://www.twilio.com/docs/errors/{code}"},
                                 status=status)

    async def wait_for_updates(self, count: int, timeout_s: float = 10) -> list[
            tuple[str, dict[str, str]]]:
        async with asyncio.timeout(timeout_s), self._changed:
            await self._changed.wait_for(lambda: len(self.updated) >= count)
        return self.updated[:count]


@asynccontextmanager
async def fake_twilio() -> AsyncIterator[FakeTwilio]:
    fake = FakeTwilio()
    app = web.Application()
    app.router.add_post("/2010-04-01/Accounts/{account}/Calls.json", fake.create_call)
    app.router.add_post("/2010-04-01/Accounts/{account}/Calls/{sid}.json", fake.update_call)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    fake.url = f"http://{host}:{port}"
    try:
        yield fake
    finally:
        await runner.cleanup()
