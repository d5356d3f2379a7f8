"""Routing one case: classify the contact, run the active rules, apply their actions, start
the SLA clocks and put a work item in the queue — in the caller's unit of work, with the
decision's facts and trace stored beside it."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.domain.contact import Case, CaseType, Contact, Priority
from core.domain.customer import Customer
from core.domain.errors import NotFound
from core.domain.events import CaseRouted, CaseUpdated, Event, WorkWaiting
from core.domain.ids import new_id
from core.domain.routing import RoutingDecision
from core.domain.sla import SlaKind, SlaPolicy
from core.domain.work import WorkItem
from core.domain.workforce import Tier
from core.ports import UnitOfWork
from routing.classification import Classification
from routing.configuration import ConfigurationLoader, RoutingConfig
from routing.facts import build_facts, customer_context
from routing.rules import RoutingOutcome, RuleActions
from routing.sla import select_policy, start_clock

log = logging.getLogger(__name__)

# A customer created by the very contact that opened this case is new to us.
NEW = timedelta(seconds=2)


@dataclass(frozen=True, slots=True, kw_only=True)
class Routed:
    decision: RoutingDecision
    work_item: WorkItem
    decision_s: float  # classifying and evaluating the rules, in memory (for the metrics)


class CaseRouter:
    def __init__(self, loader: ConfigurationLoader) -> None:
        self._loader = loader

    async def route(self, uow: UnitOfWork, *, case_id: str, contact_id: str,
                    now: datetime) -> Routed | None:
        """Route the case unless it is already waiting, held or finished (redeliveries).
        The case is held until commit, so an agent resolving it meanwhile, or a second
        router handed the same event, waits and then sees this decision."""
        case = await uow.cases.get(case_id, for_update=True)
        contact = await uow.contacts.get(contact_id)
        if case is None or contact is None:
            raise NotFound("case" if case is None else "contact", case_id or contact_id)
        if not case.is_open or await uow.work.item_for_case(case_id) is not None:
            return None
        customer = await uow.customers.get(case.customer_id)
        if customer is None:
            raise NotFound("customer", case.customer_id)
        config = await self._loader.load(uow)
        open_cases = await uow.cases.open_for_customer(customer.id)
        started = time.perf_counter()  # the decision itself, without the reads around it
        classification = _classify(config, contact, customer)
        if classification.source != "default":
            case.type = classification.case_type
        context = customer_context(customer, open_cases, case_id=case.id,
                                   created=abs(customer.created_at - case.created_at) < NEW)
        facts = build_facts(contact=contact, case=case, customer=customer,
                            classification=classification, context=context,
                            calendar=config.routing_calendar, now=now)
        try:
            outcome = await self._evaluate(uow, config, case, facts)
            decision_s = time.perf_counter() - started
            actions = outcome.actions
            queue_id = await _queue(uow, actions, case)
        except NoQueue:
            # A fresh installation with no queue yet: retrying cannot help, so say so once
            # per case and leave it unrouted (it is still listed and searchable).
            log.warning("case %s is not routed: no queue exists yet (create one with "
                        "POST /api/queues or `switchboard demo`)", case.reference)
            return None
        _apply(case, actions, classification, queue_id, now)
        policy = _sla_policy(config, actions, case, customer, contact)
        if policy is not None:
            await _start_clocks(uow, config, case, policy, now)
        await uow.cases.save(case)
        item = WorkItem(
            id=new_id("wrk"), case_id=case.id, contact_id=contact.id, customer_id=customer.id,
            channel=contact.channel, queue_id=queue_id, priority=int(case.priority),
            skills=dict(actions.skills), tier=Tier(actions.tier or Tier.FIRST_LINE),
            preferred_agent_ids=tuple(await _preferred(uow, actions, customer)),
            preferred_team_id=actions.preferred_team, enqueued_at=now, created_at=now)
        await uow.work.add_item(item)
        decision = RoutingDecision(
            id=new_id("rtd"), case_id=case.id, contact_id=contact.id, work_item_id=item.id,
            rule_set_version=config.rules.version, facts=facts,
            classification=classification.to_document(),
            outcome={**outcome.to_document(), "queue": queue_id,
                     "sla_policy": policy.id if policy else None,
                     "rule_set_version": config.rules.version},
            decided_at=now)
        await uow.routing.add_decision(decision)
        events: list[Event] = [
            CaseRouted(case_id=case.id, contact_id=contact.id, work_item_id=item.id,
                       queue_id=queue_id, priority=int(case.priority),
                       case_type=case.type.value, decision_id=decision.id),
            CaseUpdated(case_id=case.id, contact_id=contact.id, changes={
                "type": case.type.value, "priority": int(case.priority), "queue": queue_id,
                "tags": list(case.tags)}),
            WorkWaiting(work_item_id=item.id, queue_id=queue_id),
        ]
        uow.outbox.add(events)
        return Routed(decision=decision, work_item=item, decision_s=decision_s)

    async def _evaluate(self, uow: UnitOfWork, config: RoutingConfig, case: Case,
                        facts: dict[str, object]) -> RoutingOutcome:
        if config.rules.compiled is None:
            fallback = case.queue_id or await _first_queue(uow)
            return RoutingOutcome(actions=RuleActions(queue=fallback), matched=(), trace=())
        return config.rules.compiled.evaluate(facts)


def _classify(config: RoutingConfig, contact: Contact, customer: Customer) -> Classification:
    meta = contact.metadata
    return config.classifier.classify(
        subject=contact.subject, text=contact.body or contact.transcript or contact.summary,
        choice=meta.get("ivr_choice") or meta.get("topic"),
        language_hint=meta.get("language") or customer.language)


class NoQueue(NotFound):
    def __init__(self) -> None:
        super().__init__("queue", "any: create a queue before routing work")


async def _first_queue(uow: UnitOfWork) -> str:
    queues = await uow.workforce.list_queues()
    if not queues:
        raise NoQueue
    return queues[0].id


async def _queue(uow: UnitOfWork, actions: RuleActions, case: Case) -> str:
    # A queue deleted after the rules were published must not strand the work.
    for candidate in (actions.queue, case.queue_id):
        if candidate and await uow.workforce.get_queue(candidate) is not None:
            return candidate
    return await _first_queue(uow)


def _apply(case: Case, actions: RuleActions, classification: Classification, queue_id: str,
           now: datetime) -> None:
    if actions.case_type:
        case.type = CaseType(actions.case_type)
    if actions.priority:
        case.priority = Priority(actions.priority)
    case.tags = sorted(set(case.tags) | set(actions.tags))
    case.queue_id = queue_id
    case.language = classification.language
    case.classification = classification.to_document()
    case.updated_at = now


def _sla_policy(config: RoutingConfig, actions: RuleActions, case: Case, customer: Customer,
                contact: Contact) -> SlaPolicy | None:
    if actions.sla_policy:
        for policy in config.sla_policies:
            if policy.id == actions.sla_policy:
                return policy
    return select_policy(config.sla_policies, case_type=case.type.value,
                         priority=int(case.priority), segment=customer.segment,
                         channel=contact.channel.value)


async def _start_clocks(uow: UnitOfWork, config: RoutingConfig, case: Case,
                        policy: SlaPolicy, now: datetime) -> None:
    calendar = config.calendar(policy.calendar_id)
    for kind in (SlaKind.FIRST_RESPONSE, SlaKind.RESOLUTION):
        clock = start_clock(clock_id=new_id("sla"), case_id=case.id, kind=kind, policy=policy,
                            calendar=calendar, at=now)
        if clock is None:
            continue
        await uow.sla.add_clock(clock)
        if kind is SlaKind.FIRST_RESPONSE:
            case.first_response_due_at = clock.due_at
        else:
            case.resolution_due_at = clock.due_at


async def _preferred(uow: UnitOfWork, actions: RuleActions, customer: Customer) -> list[str]:
    preferred = [actions.preferred_agent] if actions.preferred_agent else []
    last = await uow.work.last_agent_for_customer(customer.id)
    if last and last not in preferred:
        preferred.append(last)
    return preferred
