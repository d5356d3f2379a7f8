"""SLA clocks on the running service: a complaint that arrives on Friday afternoon is due
on Monday morning (office hours, Europe/Amsterdam), warns at 80% and breaches on time —
nothing fires over the weekend — and the breach escalates the case."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from tests.support.centre import WAIT_S, running_centre
from workers.notify import SUPERVISORS

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=AMSTERDAM).astimezone(UTC)


async def next_push(pushed: AsyncIterator[dict[str, object]], kind: str) -> dict[str, Any]:
    async with asyncio.timeout(WAIT_S):
        async for message in pushed:
            if message["type"] == kind:
                return dict(message)
    raise AssertionError(f"the push stream ended before a {kind!r} arrived")


async def test_sla_warning_and_breach_fire_on_time_across_a_weekend(database_url: str) -> None:
    friday_afternoon = local(20, 15)
    async with running_centre(database_url, friday_afternoon) as centre, \
            centre.services.push.subscribe(SUPERVISORS) as pushed:
        created = await centre.contact(
            channel="email", external_id="<klacht-vrijdag@example.nl>",
            **{"from": {"email": "jan@example.nl", "name": "Jan de Vries"}},
            subject="Klacht", body="Ik ben zeer ontevreden: mijn bestelling is kapot.")
        case_id = created["case_id"]
        assert (await next_push(pushed, "case_routed"))["case_id"] == case_id
        case = await (await centre.client.get(f"/api/cases/{case_id}",
                                              headers=centre.supervisor)).json()
        # Default complaint policy: first response within 4 business hours.
        assert case["type"] == "complaint"
        assert case["first_response_due_at"] == local(23, 10).isoformat()

        for quiet in (local(20, 16, 59), local(21, 12), local(22, 23, 59), local(23, 9, 11)):
            centre.clock.set(quiet)
            assert await centre.services.sla_timer.fire_due() == [], quiet

        centre.clock.set(local(23, 9, 12))
        centre.services.wakeups.sla.set()
        warning = await next_push(pushed, "sla_warning")
        assert (warning["case_id"], warning["kind"]) == (case_id, "first_response")
        assert datetime.fromisoformat(warning["due_at"]) == local(23, 10)

        centre.clock.set(local(23, 10))
        centre.services.wakeups.sla.set()
        breach = await next_push(pushed, "sla_breached")
        assert (breach["case_id"], breach["kind"]) == (case_id, "first_response")
        assert "priority raised to high" in breach["escalation"]
        case = await (await centre.client.get(f"/api/cases/{case_id}",
                                              headers=centre.supervisor)).json()
        assert case["priority"] == "high"
        # Each signal fires once, however often the timer runs.
        assert await centre.services.sla_timer.fire_due() == []
