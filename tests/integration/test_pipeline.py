"""The event pipeline end to end: a committed contact leaves through the outbox, the relay
puts it on the bus (in-process or Redis Streams) and an idempotent consumer sees each event
once — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis

from core.config import Settings
from core.domain.channels import Channel, Direction
from core.domain.commands import IngestContact, Party
from core.domain.events import Envelope
from core.ports import UnitOfWork
from core.services.consuming import idempotent
from core.storage import outbox
from tests.conftest import REDIS_URL, unavailable
from workers import bootstrap
from workers.relay import OutboxRelay
from workers.services import Services

GROUP = "pipeline-test"


@pytest.fixture(params=["inprocess", pytest.param("redis", marks=pytest.mark.redis)])
async def pipeline(request: pytest.FixtureRequest, database_url: str
                   ) -> AsyncIterator[Services]:
    stream = f"switchboard-test:{uuid.uuid4().hex}"
    redis_url = None
    if request.param == "redis":
        client = redis.Redis.from_url(REDIS_URL)
        try:
            await client.ping()
        except (OSError, redis.RedisError) as err:
            unavailable(f"Redis at {REDIS_URL}", err)
        finally:
            await client.aclose()
        redis_url = REDIS_URL
    settings = Settings(database_url=database_url, redis_url=redis_url, redis_stream=stream,
                        bus_reclaim_idle_s=0.5)
    async with bootstrap.build(settings, groups=(GROUP,)) as services:
        yield services
    if redis_url:
        client = redis.Redis.from_url(REDIS_URL)
        keys = [k async for k in client.scan_iter(match=f"{stream}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


def contact(n: int) -> IngestContact:
    return IngestContact(channel=Channel.EMAIL, direction=Direction.INBOUND,
                         external_id=f"<{n}@pipeline>",
                         party=Party(email=f"customer{n % 3}@example.com"))


async def test_committed_contacts_reach_a_consumer_once_each(pipeline: Services):
    seen: list[Envelope] = []
    all_arrived = asyncio.Event()
    handled_effects: list[str] = []

    async def effect(uow: UnitOfWork, envelope: Envelope) -> None:
        handled_effects.append(envelope.id)

    handler = idempotent(GROUP, pipeline.uow, effect)

    async def recording(envelope: Envelope) -> None:
        seen.append(envelope)
        await handler(envelope)
        await handler(envelope)  # a redelivery after the commit changes nothing
        if len(handled_effects) == 15:
            all_arrived.set()

    relay = OutboxRelay(pipeline.engine, pipeline.bus, pipeline.clock,
                        signal=pipeline.outbox_signal, batch_size=4)
    stop = asyncio.Event()
    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(relay.run(stop))
        tasks.create_task(pipeline.bus.consume(group=GROUP, consumer="c1", handler=recording,
                                               stop=stop))
        results = [await pipeline.ingestion.ingest(contact(n)) for n in range(5)]
        await asyncio.wait_for(all_arrived.wait(), timeout=10)
        stop.set()

    assert len(handled_effects) == len(set(handled_effects)) == 15
    for result in results:
        topics = [e.topic for e in seen if e.payload.get("contact_id") == result.contact_id]
        assert topics == ["contact.received", "customer.resolved", "case.opened"]
    async with pipeline.engine.connect() as conn:
        assert await outbox.unpublished_count(conn) == 0
    assert await pipeline.bus.pending(GROUP) == 0


async def test_events_wait_in_the_outbox_while_the_bus_is_down(pipeline: Services):
    """Nothing is lost when publishing fails: the rows stay until a later relay run."""
    await pipeline.ingestion.ingest(contact(1))

    class BrokenBus:
        async def publish(self, envelopes: object) -> None:
            raise ConnectionError("bus down")

    broken = OutboxRelay(pipeline.engine, BrokenBus(), pipeline.clock,  # type: ignore[arg-type]
                         signal=pipeline.outbox_signal)
    with pytest.raises(ConnectionError):
        await broken.drain()
    async with pipeline.engine.connect() as conn:
        assert await outbox.unpublished_count(conn) == 3
    relay = OutboxRelay(pipeline.engine, pipeline.bus, pipeline.clock,
                        signal=pipeline.outbox_signal)
    assert await relay.drain() == 3
    async with pipeline.engine.connect() as conn:
        assert await outbox.unpublished_count(conn) == 0
