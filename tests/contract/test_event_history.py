"""Erasure makes the Redis stream forget: entries of personal topics that name an erased
customer go, from the event stream and from every group's dead letters; the rest stays."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from core.bus import history
from core.bus.history import RedisEventHistory
from core.bus.redis_streams import RedisStreamsBus
from core.domain.events import Envelope
from core.domain.privacy import PERSONAL_EVENT_TOPICS
from tests.contract.conftest import connect_redis

pytestmark = pytest.mark.redis


def envelope(topic: str, **payload: object) -> Envelope:
    return Envelope(id=uuid.uuid4().hex, topic=topic, payload=payload,
                    occurred_at=datetime.now(UTC))


async def test_forgetting_removes_only_personal_entries_about_the_customer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history, "CHUNK", 2)  # several pages even for a few entries
    client = await connect_redis()
    stream = f"switchboard-test:{uuid.uuid4().hex}"
    bus = RedisStreamsBus(client, stream=stream)
    try:
        await bus.declare_groups(["audit", "surveys"])
        await bus.publish([
            envelope("customer.profile_changed", customer_id="cus_piet", by="caller +316",
                     changes={"display_name": {"from": "Piet", "to": "Piet Jansen"}}),
            envelope("contact.received", customer_id="cus_piet", contact_id="con_1"),
            envelope("customer.possible_duplicate", customer_id="cus_klaas",
                     other_customer_id="cus_piet", reason="email piet@example.nl"),
            envelope("customer.profile_changed", customer_id="cus_klaas", changes={}),
            envelope("customer.resolved", customer_id="cus_piet",
                     matched_on=["email:piet@example.nl"]),
        ])
        buried = envelope("customer.profile_changed", customer_id="cus_piet", changes={})
        await client.xadd(bus.dead_letter_stream("surveys"), {
            "e": json.dumps({"id": buried.id, "topic": buried.topic,
                             "payload": buried.payload,
                             "occurred_at": buried.occurred_at.isoformat()}),
            "entry_id": "1-0", "deliveries": "5", "error": "boom"})

        forgotten = await RedisEventHistory(client, stream=stream).forget(
            topics=PERSONAL_EVENT_TOPICS, mentioning=["cus_piet"], since=None)

        assert forgotten == 4
        left = [json.loads(fields[b"e"])["topic"] for _, fields in
                await client.xrange(stream)]
        assert left == ["contact.received", "customer.profile_changed"]
        assert await bus.dead_letters("surveys") == []
    finally:
        keys = [key async for key in client.scan_iter(match=f"{stream}*")]
        if keys:
            await client.delete(*keys)
        await bus.close()
