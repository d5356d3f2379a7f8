"""The routing processes: router (classify + rules on every new case), dispatcher (offers
work as soon as something changes; puts held work into after-contact work when its
conversation ends), desk timer (offers that expire, after-contact work that runs out), SLA
timer and the notifier that pushes to agent desktops.

Event-driven first: each loop is woken by the events that can change its answer, and only
falls back to a periodic pass for what no event announces (time-based skill relaxation,
another process's new deadline).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from core.domain.events import Envelope
from core.log_fields import event_log_fields, log_fields
from core.ports import UnitOfWork
from core.services.consuming import idempotent_batch
from routing.sla import SlaSignal
from routing.sla_clocks import follow_case_change
from workers.notify import agent_channel, notify
from workers.services import Services
from workers.waiting import wait_any

log = logging.getLogger(__name__)

ROUTER_GROUP = "router"
SLA_GROUP = "sla"
DISPATCH_GROUP = "dispatch"
NOTIFY_GROUP = "notify"
GROUPS = (ROUTER_GROUP, SLA_GROUP, DISPATCH_GROUP, NOTIFY_GROUP)

# Events after which a dispatch pass may find a new match.
DISPATCH_TRIGGERS = frozenset({
    "routing.work_waiting", "routing.offer_answered", "routing.work_completed",
    "routing.work_cancelled", "agent.presence_changed",
})
MAX_IDLE_S = 5.0  # the periodic pass for time-based relaxation and other processes' clocks


def _consumer(services: Services, name: str) -> str:
    return f"{name}-{services.instance}"


def opens_a_case(envelope: Envelope) -> bool:
    return envelope.topic == "case.opened" and bool(envelope.payload.get("contact_id"))


SLA_CHANGES = frozenset({"status", "type", "priority", "first_responded"})


def moves_sla_clocks(envelope: Envelope) -> bool:
    changes = envelope.payload.get("changes")
    return envelope.topic == "case.updated" and isinstance(changes, dict) \
        and bool(changes.keys() & SLA_CHANGES)


async def run_router(services: Services, stop: asyncio.Event) -> None:
    metrics = services.metrics
    timings: list[tuple[float, float]] = []  # this batch's (decision, arrival → queued)

    async def route(uow: UnitOfWork, envelope: Envelope) -> None:
        if envelope.topic != "case.opened" or not envelope.payload.get("contact_id"):
            return
        with log_fields(**event_log_fields(envelope.id, envelope.payload)):
            routed = await services.router.route(
                uow, case_id=str(envelope.payload["case_id"]),
                contact_id=str(envelope.payload["contact_id"]), now=services.clock.now())
        if routed is not None:
            services.wakeups.sla.set()
            timings.append((routed.decision_s, (routed.work_item.enqueued_at
                                                - envelope.occurred_at).total_seconds()))

    routed = idempotent_batch(ROUTER_GROUP, services.uow, route, wants=opens_a_case)

    async def route_batch(envelopes: Sequence[Envelope]) -> None:
        timings.clear()  # what a failed attempt measured was rolled back with it
        await routed(envelopes)
        for decision_s, delay_s in timings:
            metrics.routing_decision.observe(decision_s)
            metrics.routing_delay.observe(max(0.0, delay_s))
        # Committed: a dispatcher in this process need not wait for the work_waiting
        # events to come round through the outbox and the bus (other processes still do).
        services.wakeups.dispatch.set()

    # In batches: every case waiting is routed in one transaction, so the router keeps up
    # with any intake rate instead of queueing for the database once per case.
    await services.bus.consume_batches(
        group=ROUTER_GROUP, consumer=_consumer(services, "router"), handler=route_batch,
        stop=stop)


async def run_sla_follower(services: Services, stop: asyncio.Event) -> None:
    async def follow(uow: UnitOfWork, envelope: Envelope) -> None:
        if envelope.topic != "case.updated":
            return
        changes = envelope.payload.get("changes") or {}
        if isinstance(changes, dict) and changes.keys() & SLA_CHANGES:
            with log_fields(**event_log_fields(envelope.id, envelope.payload)):
                await follow_case_change(uow, str(envelope.payload["case_id"]), changes,
                                         services.clock.now())

    await services.bus.consume_batches(
        group=SLA_GROUP, consumer=_consumer(services, "sla"),
        handler=idempotent_batch(SLA_GROUP, services.uow, follow, wants=moves_sla_clocks),
        stop=stop)


async def _loop(stop: asyncio.Event, wake: asyncio.Event, name: str,
                step: Callable[[], Awaitable[datetime | None]], now: Callable[[], datetime],
                ) -> None:
    """Run ``step`` whenever woken, or at the moment it says it next needs to run."""
    while not stop.is_set():
        wake.clear()
        timeout_s = MAX_IDLE_S
        try:
            next_at = await step()
            if next_at is not None:
                timeout_s = min(MAX_IDLE_S, max(0.0, (next_at - now()).total_seconds()))
        except Exception:  # the database is away: try again shortly, lose nothing
            log.exception("%s pass failed", name)
        await wait_any((wake, stop), timeout_s=timeout_s)


async def run_dispatcher(services: Services, stop: asyncio.Event) -> None:
    async def wake_on_change(envelope: Envelope) -> None:
        if envelope.topic in DISPATCH_TRIGGERS:
            services.wakeups.dispatch.set()
        if envelope.topic == "routing.offer_made":
            services.wakeups.offers.set()
        elif envelope.topic == "contact.conversation_ended":
            # Idempotent: a redelivery finds the work in after-contact work already.
            p = envelope.payload
            if await services.desk.wrap_ups.conversation_ended(
                    str(p["case_id"]), at=datetime.fromisoformat(str(p["ended_at"])),
                    reason=str(p["reason"])) is not None:
                services.wakeups.offers.set()  # the desk timer has a new deadline

    async def dispatch() -> datetime | None:
        result = await services.dispatcher.dispatch()
        services.metrics.offers_made.inc(len(result.offers))
        if result.offers:
            services.wakeups.offers.set()
        for offer in result.offers:
            # Straight to the agent's desktop, committed: the notifier's push for the same
            # offer (after the outbox and the bus) finds it already shown.
            await services.push.publish(agent_channel(offer.agent_id),
                                        {"type": "offer_ready", "offer_id": offer.id})
        return None

    async def expire() -> datetime | None:  # the desk timer
        services.metrics.offers_missed.inc(len(await services.desk.expire_due_offers()))
        await services.desk.wrap_ups.finish_overdue()
        deadlines = (await services.desk.next_offer_expiry(),
                     await services.desk.wrap_ups.next_due())
        return min((d for d in deadlines if d is not None), default=None)

    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(services.bus.consume(
            group=DISPATCH_GROUP, consumer=_consumer(services, "dispatch"),
            handler=wake_on_change, stop=stop), name="dispatch-listener")
        tasks.create_task(_loop(stop, services.wakeups.dispatch, "dispatch", dispatch,
                                services.clock.now), name="dispatch-loop")
        tasks.create_task(_loop(stop, services.wakeups.offers, "desk timer", expire,
                                services.clock.now), name="offer-timer")


async def run_sla_timer(services: Services, stop: asyncio.Event) -> None:
    metrics = services.metrics

    async def fire() -> datetime | None:
        for fired in await services.sla_timer.fire_due():
            counter = (metrics.sla_breaches if fired.signal is SlaSignal.BREACH
                       else metrics.sla_warnings)
            counter.labels(fired.clock.kind.value).inc()
        return await services.sla_timer.next_deadline()

    await _loop(stop, services.wakeups.sla, "sla timer", fire, services.clock.now)


async def run_notifier(services: Services, stop: asyncio.Event) -> None:
    async def handle(envelope: Envelope) -> None:
        await notify(services, envelope)

    await services.bus.consume(group=NOTIFY_GROUP, consumer=_consumer(services, "notify"),
                               handler=handle, stop=stop)
