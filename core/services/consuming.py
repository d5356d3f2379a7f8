"""Idempotent event handling: every transport delivers at least once, so each consumer
group records the envelopes it handled in the same transaction as the handler's effects."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from core.domain.events import Envelope
from core.ports import BatchHandler, EnvelopeHandler, UnitOfWork, UnitOfWorkFactory

EffectHandler = Callable[[UnitOfWork, Envelope], Awaitable[None]]


def idempotent(group: str, uow: UnitOfWorkFactory, handle: EffectHandler) -> EnvelopeHandler:
    async def handler(envelope: Envelope) -> None:
        async with uow() as work:
            if not await work.inbox.first_delivery(group, envelope.id):
                return  # a redelivery of something already handled and committed
            await handle(work, envelope)
            await work.commit()
    return handler


def idempotent_batch(group: str, uow: UnitOfWorkFactory, handle: EffectHandler, *,
                     wants: Callable[[Envelope], bool] = lambda _: True) -> BatchHandler:
    """The same, for a batch: every envelope's effects and inbox records in one
    transaction (all or nothing; the bus retries a failed batch one envelope at a time).

    ``wants`` picks the envelopes the handler acts on. The others have no effect, so
    there is nothing to record for them and no transaction when none is wanted: every
    group sees every topic, and most of them are someone else's business."""
    async def handler(envelopes: Sequence[Envelope]) -> None:
        wanted = [envelope for envelope in envelopes if wants(envelope)]
        if not wanted:
            return
        async with uow() as work:
            for envelope in wanted:
                if await work.inbox.first_delivery(group, envelope.id):
                    await handle(work, envelope)
            await work.commit()
    return handler
