"""Prometheus metrics of one process (``docs/operations.md`` lists them all).

Two kinds, so that nothing on a hot path waits for a metric:

* counters and histograms, updated in memory by the component that sees the thing
  happen — the outbox relay (contacts, events), the router (decision time, arrival to
  queued), the dispatcher and offer timer, the SLA timer, the HTTP middleware; never a
  database query per event;
* gauges of the installation's state (queue depth, longest wait, outbox backlog, the bus's
  consumer groups), read when Prometheus scrapes by the collectors added with
  :meth:`Metrics.add_state`, at most once per few seconds however many scrape.

Each process has its own registry (built by the composition root, no global state);
Prometheus scrapes every process and aggregates. The domain packages know nothing of this:
they return what they did (``Routed.decision_s``, the offers a pass made), and the workers
count it here.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Sequence
from datetime import datetime

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.metrics_core import Metric
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from core.domain.channels import Channel, Direction
from core.domain.events import ContactReceived, Envelope
from core.domain.sla import SlaKind

CONTENT_TYPE = CONTENT_TYPE_LATEST
VERSION = "0.1.0"

# Routing decisions are microseconds to milliseconds (docs/benchmarks.md); a contact's way
# from arrival to queued is milliseconds to seconds; requests are the usual web spread.
DECISION_BUCKETS_S = (0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001,
                      0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1)
PIPELINE_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
                      60.0, 300.0)
HTTP_BUCKETS_S = (0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0)
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class StateCollector(Collector):
    """Gauges read at scrape time: ``refresh`` does the I/O, ``collect`` only reports."""

    @abstractmethod
    async def refresh(self) -> None: ...

    @abstractmethod
    def collect(self) -> Iterable[Metric]: ...


class Metrics:
    def __init__(self) -> None:
        # The *_created series double the series count and tell Prometheus nothing it
        # needs (process_start_time_seconds marks restarts).
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = registry = CollectorRegistry()
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
        self._states: list[StateCollector] = []
        Gauge("switchboard_build_info", "Always 1; the version running in this process.",
              ["version"], registry=registry).labels(VERSION).set(1)
        self.workers_running = Gauge(
            "switchboard_worker_running", "1 while this process runs the worker kind.",
            ["worker"], registry=registry)

        self.contacts_received = Counter(
            "switchboard_contacts_received", "Contacts committed (counted by the outbox "
            "relay as their contact.received event leaves), by channel and direction.",
            ["channel", "direction"], registry=registry)
        for channel in Channel:
            for direction in Direction:
                self.contacts_received.labels(channel.value, direction.value)
        self.events_published = Counter(
            "switchboard_events_published", "Events the outbox relay put on the bus, by "
            "topic.", ["topic"], registry=registry)
        self.outbox_delay = Histogram(
            "switchboard_outbox_delay_seconds", "From an event's commit to its publication "
            "on the bus.", registry=registry, buckets=PIPELINE_BUCKETS_S)

        self.routing_decision = Histogram(
            "switchboard_routing_decision_seconds", "The router's decision for one contact "
            "in memory: classification, facts and the active rules.", registry=registry,
            buckets=DECISION_BUCKETS_S)
        self.routing_delay = Histogram(
            "switchboard_routing_delay_seconds", "From a contact's case being opened (its "
            "arrival) to its work item waiting in a queue.", registry=registry,
            buckets=PIPELINE_BUCKETS_S)
        self.offers_made = Counter(
            "switchboard_offers_made", "Work offered to an agent.", registry=registry)
        self.offers_missed = Counter(
            "switchboard_offers_missed", "Offers that expired unanswered; the work went "
            "back to its queue (and the agent away).", registry=registry)
        self.sla_warnings = Counter(
            "switchboard_sla_warnings", "SLA clocks that reached their warning point.",
            ["kind"], registry=registry)
        self.sla_breaches = Counter(
            "switchboard_sla_breaches", "SLA clocks that passed their target.", ["kind"],
            registry=registry)
        for clock_kind in SlaKind:
            self.sla_warnings.labels(clock_kind.value)
            self.sla_breaches.labels(clock_kind.value)

        self.http_duration = Histogram(
            "switchboard_http_request_duration_seconds", "HTTP requests (webhooks, API, "
            "pages) by method and route template, until the response is ready.",
            ["method", "route"], registry=registry, buckets=HTTP_BUCKETS_S)
        self.http_requests = Counter(
            "switchboard_http_requests", "HTTP requests answered, by method, route template "
            "and status.", ["method", "route", "status"], registry=registry)
        self.websockets = Gauge(
            "switchboard_websocket_connections", "Open WebSocket connections: agent "
            "desktops, supervisor wallboards, chat visitors.", ["kind"], registry=registry)
        for kind in ("agent", "supervisor", "chat"):
            self.websockets.labels(kind)

    def published(self, envelopes: Sequence[Envelope], now: datetime) -> None:
        """Count a batch the outbox relay published (after its commit)."""
        for envelope in envelopes:
            self.events_published.labels(envelope.topic).inc()
            self.outbox_delay.observe(max(0.0, (now - envelope.occurred_at).total_seconds()))
            if envelope.topic == ContactReceived.topic:
                self.contacts_received.labels(
                    _known(envelope.payload.get("channel"), _CHANNELS),
                    _known(envelope.payload.get("direction"), _DIRECTIONS)).inc()

    def add_state(self, collector: StateCollector) -> None:
        self._states.append(collector)
        self.registry.register(collector)

    def remove_state(self, collector: StateCollector) -> None:
        self._states.remove(collector)
        self.registry.unregister(collector)

    async def scrape(self) -> bytes:
        """The text exposition, with the state gauges read fresh enough."""
        for state in self._states:
            await state.refresh()
        return generate_latest(self.registry)


_CHANNELS = frozenset(c.value for c in Channel)
_DIRECTIONS = frozenset(d.value for d in Direction)


def _known(value: object, known: frozenset[str]) -> str:
    return value if isinstance(value, str) and value in known else "other"


def method_label(method: str) -> str:
    # Any token is a valid HTTP method: unknown ones share a label, so nobody can grow
    # the number of series by inventing methods.
    return method if method in HTTP_METHODS else "other"
