"""Prometheus metrics of a running centre (HTTP API, workers, an agent on a real WebSocket)
on SQLite and PostgreSQL: after contacts flow through, the counters, histograms and gauges
moved with the right labels, route labels are templates (never an id), and /metrics on
the main port is closed without the metrics token.

Counters are updated by other tasks than the request that caused them, so every reading
polls the scrape with a deadline instead of sleeping.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import sqlite_url
from tests.support.centre import WAIT_S, Centre, available, receive, running_centre

# A Tuesday morning in office hours (10:30 in Amsterdam).
START = datetime(2026, 11, 17, 9, 30, tzinfo=UTC)
TOKEN = "metrics-token-0123456789abcdef"
SCRAPER = {"Authorization": f"Bearer {TOKEN}"}
RULES: dict[str, Any] = {
    "default_queue": "q_backlog",
    "rules": [{"id": "calls", "name": "Calls to the desk", "condition": 'channel == "phone"',
               "actions": {"queue": "q_general"}, "stop": True}],
}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
async def centre(database_url: str) -> AsyncIterator[Centre]:
    async with running_centre(database_url, START, queues=("q_general", "q_backlog"),
                              extra_settings={"metrics_token": TOKEN}) as running:
        yield running


@pytest.fixture
def sqlite_only(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """For what does not depend on the database."""
    return sqlite_url(request, tmp_path)


@pytest.fixture
async def sqlite_centre(sqlite_only: str) -> AsyncIterator[Centre]:
    async with running_centre(sqlite_only, START, workers=("relay",),
                              extra_settings={"metrics_token": TOKEN}) as running:
        yield running


async def scrape(centre: Centre) -> Samples:
    response = await centre.client.get("/metrics", headers=SCRAPER)
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


async def until(centre: Centre, check: Callable[[Samples], bool], what: str) -> Samples:
    """Scrape until ``check`` holds; fail with the last scrape after WAIT_S."""
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while True:
        samples = await scrape(centre)
        if check(samples):
            return samples
        if asyncio.get_running_loop().time() > deadline:
            interesting = {k: v for k, v in samples.items() if k[0].startswith("switchboard")}
            raise AssertionError(f"{what}: not seen within {WAIT_S} s; last scrape:\n"
                                 f"{interesting}")
        await asyncio.sleep(0.05)  # polling the scrape under a deadline


async def test_the_metrics_follow_contacts_through_the_centre(centre: Centre) -> None:
    await centre.publish(RULES)
    _, anna = await centre.agent("Anna", tier=1, skills={}, queues=["q_general"])
    desk = await available(centre, anna)
    for n, address in enumerate(("piet@example.nl", "els@example.nl")):
        await centre.contact(channel="email", external_id=f"<m{n}@example.nl>",
                             subject="Vraag", **{"from": {"email": address}})
    call = await centre.contact(channel="phone", external_id="CA-metrics-1",
                                **{"from": {"phone": "+31612345678"}})

    # Arrival: counted by channel once committed; each routed once, the decision timed.
    samples = await until(centre, lambda s: value(
        s, "switchboard_routing_decision_seconds_count") == 3, "three routing decisions")
    samples = await until(centre, lambda s: value(
        s, "switchboard_contacts_received_total", channel="phone", direction="inbound") == 1,
        "the call counted")
    assert value(samples, "switchboard_contacts_received_total", channel="email",
                 direction="inbound") == 2
    assert value(samples, "switchboard_contacts_received_total", channel="chat",
                 direction="inbound") == 0  # every channel is there from the start
    assert value(samples, "switchboard_routing_delay_seconds_count") == 3
    assert value(samples, "switchboard_events_published_total",
                 topic="contact.received") == 3
    assert value(samples, "switchboard_worker_running", worker="router") == 1
    assert value(samples, "switchboard_websocket_connections", kind="agent") == 1
    assert (value(samples, "process_resident_memory_bytes") or 0) > 0

    # The call is offered to Anna, who lets it ring: a miss, then it is offered again.
    first = await receive(desk, "offer")
    assert first["case"]["id"] == call["case_id"]
    centre.clock.advance(timedelta(seconds=31))
    centre.services.wakeups.offers.set()
    await receive(desk, "offer_withdrawn")
    await receive(desk, "offer")
    await until(centre, lambda s: (value(s, "switchboard_offers_made_total"),
                                   value(s, "switchboard_offers_missed_total")) == (2, 1),
                "two offers made, one missed")

    # Wednesday 16:00 in Amsterdam: every first response (8 business hours) is late.
    await desk.close()
    centre.clock.set(datetime(2026, 11, 18, 15, 0, tzinfo=UTC))
    centre.services.wakeups.sla.set()
    samples = await until(centre, lambda s: value(
        s, "switchboard_sla_breaches_total", kind="first_response") == 3, "three breaches")
    assert value(samples, "switchboard_sla_warnings_total", kind="first_response") == 3
    assert value(samples, "switchboard_sla_breaches_total", kind="resolution") == 0

    # State read at scrape time: what waits where and for how long, outbox and bus.
    waited_s = (centre.clock.now() - START).total_seconds()
    samples = await until(centre, lambda s: value(
        s, "switchboard_queue_longest_wait_seconds", queue="q_backlog") == waited_s,
        "the backlog's wait")
    assert value(samples, "switchboard_queue_waiting", queue="q_backlog") == 2
    assert value(samples, "switchboard_queue_waiting", queue="q_general") == 1
    assert value(samples, "switchboard_websocket_connections", kind="agent") == 0
    assert value(samples, "switchboard_state_read_ok") == 1
    assert value(samples, "switchboard_bus_dead_letters", group="router") == 0
    assert value(samples, "switchboard_bus_pending", group="router") is not None
    assert value(samples, "switchboard_outbox_unpublished") is not None


async def test_requests_are_counted_by_route_template_never_by_path(
        sqlite_centre: Centre) -> None:
    centre = sqlite_centre
    created = await centre.contact(channel="email", external_id="<t@example.nl>",
                                   **{"from": {"email": "truus@example.nl"}})
    customer_id = created["customer_id"]
    assert (await centre.client.get(f"/api/customers/{customer_id}",
                                    headers=centre.supervisor)).status == 200
    assert (await centre.client.get("/no/such/page/12345")).status == 404
    assert (await centre.client.put("/api/contacts", json={})).status == 405

    samples = await scrape(centre)
    assert value(samples, "switchboard_http_requests_total", method="POST",
                 route="/api/contacts", status="202") == 1
    assert value(samples, "switchboard_http_requests_total", method="GET",
                 route="/api/customers/{id}", status="200") == 1
    assert value(samples, "switchboard_http_request_duration_seconds_count", method="GET",
                 route="/api/customers/{id}") == 1
    assert value(samples, "switchboard_http_requests_total", method="GET",
                 route="unmatched", status="404") == 1
    assert value(samples, "switchboard_http_requests_total", method="PUT",
                 route="unmatched", status="405") == 1
    label_values = {v for _, labels in samples for _, v in labels}
    assert not [v for v in label_values if customer_id in v or "12345" in v]


async def test_metrics_on_the_main_port_need_the_metrics_token(sqlite_centre: Centre) -> None:
    centre = sqlite_centre
    assert (await centre.client.get("/metrics")).status == 401
    wrong = await centre.client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status == 401
    assert wrong.headers["WWW-Authenticate"].startswith("Bearer")
    # A user's API token is not a metrics token either.
    assert (await centre.client.get("/metrics", headers=centre.admin)).status == 401
    assert (await centre.client.get("/metrics", headers=SCRAPER)).status == 200


async def test_without_a_metrics_token_the_main_port_has_no_metrics(sqlite_only: str) -> None:
    async with running_centre(sqlite_only, START, workers=()) as centre:
        response = await centre.client.get("/metrics", headers=SCRAPER)
        assert response.status == 404
        assert "SWITCHBOARD_METRICS_PORT" in (await response.json())["error"]["message"]
