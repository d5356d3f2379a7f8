"""Group commit: requests that arrive while a transaction is being committed wait for it
and then go together in the next one, so a flood of concurrent requests costs one
transaction per batch instead of one each.

There is no timer and no background task. Each caller queues its request; whoever finds
no batch in progress takes the turn, runs everything queued (up to ``max_batch``) and hands
the turn on when it is done. So a request that finds the writer idle goes at once (a batch
of one), and under load a batch holds whatever arrived during the previous commit
("natural batching"). Each caller gets its own outcome only once its batch has run.

Cancelling a caller does not lose the others: requests of an interrupted batch go back to
the head of the queue and the next caller takes the turn.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Request = TypeVar("Request")
Result = TypeVar("Result")

# Runs one batch and returns, for each request in order, its result or the exception that
# request alone should raise.
BatchRunner = Callable[[Sequence[Request]], Awaitable[list[Result | Exception]]]


@dataclass(eq=False, slots=True)
class _Queued(Generic[Request, Result]):
    request: Request
    outcome: asyncio.Future[Result] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future())


class GroupCommit(Generic[Request, Result]):
    def __init__(self, run_batch: BatchRunner[Request, Result], *, max_batch: int) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._run_batch = run_batch
        self._max_batch = max_batch
        self._queue: deque[_Queued[Request, Result]] = deque()
        self._running = False
        self._turn_free: asyncio.Future[None] | None = None

    async def submit(self, request: Request) -> Result:
        queued: _Queued[Request, Result] = _Queued(request)
        self._queue.append(queued)
        try:
            while not queued.outcome.done():
                if self._running:
                    await asyncio.wait((queued.outcome, self._wait_for_turn()),
                                       return_when=asyncio.FIRST_COMPLETED)
                    continue
                await self._take_turn()
        except BaseException:
            # Given up (cancelled): a request still queued is not run at all; one in a
            # batch that is running is stored, but nobody is told.
            if queued in self._queue:
                self._queue.remove(queued)
            queued.outcome.cancel()
            raise
        return queued.outcome.result()

    def _wait_for_turn(self) -> asyncio.Future[None]:
        if self._turn_free is None:
            self._turn_free = asyncio.get_running_loop().create_future()
        return self._turn_free

    async def _take_turn(self) -> None:
        self._running = True
        batch = [self._queue.popleft()
                 for _ in range(min(self._max_batch, len(self._queue)))]
        try:
            outcomes = await self._run_batch([q.request for q in batch])
        except BaseException:
            # Interrupted (cancelled) before it told anyone anything: the next caller to
            # take the turn runs these again. Their callers are still waiting.
            self._queue.extendleft(reversed([q for q in batch if not q.outcome.done()]))
            raise
        finally:
            self._running = False
            if self._turn_free is not None:
                free, self._turn_free = self._turn_free, None
                free.set_result(None)
        for queued, outcome in zip(batch, outcomes, strict=True):
            if queued.outcome.done():  # its caller gave up while the batch ran
                continue
            if isinstance(outcome, Exception):
                queued.outcome.set_exception(outcome)
            else:
                queued.outcome.set_result(outcome)
