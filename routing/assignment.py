"""Choosing the agent for one waiting work item, and the order in which items are served.

Pure: the dispatcher hands in the item, the candidate agents with their current load and
the supervisor's routing policy, and gets back an `AssignmentTrace` that says who was
eligible, why the others were not, and why the chosen one won. That trace is stored with
the offer, so "why did this complaint go to Piet?" always has an answer.

How the requirements of an item loosen the longer it waits:
- sticky: while `sticky_s` has not passed and a preferred agent (account owner, last agent
  who handled the customer) is available, only preferred agents are considered;
- skills: after `relax_skills_after_s` every required level drops by up to `relax_levels`;
- tier: 1st-line work may also go to 2nd line after `widen_to_second_line_after_s`
  (2nd-line work never goes down to 1st line);
- overflow: agents of `overflow_queue_id` join after `overflow_after_s`.

The policy also limits after-contact work: work still being wrapped up
`after_contact_work_s` after its conversation ended (per queue in
`after_contact_work_s_by_queue`; null: no limit) is wrapped up automatically.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from core.domain.channels import Channel
from core.domain.errors import InvalidInput
from core.domain.work import AgentLoad, WorkItem
from core.domain.workforce import Agent, Presence, Tier


class Strategy(StrEnum):
    LONGEST_IDLE = "longest_idle"    # fairest: the agent free the longest goes first
    LEAST_BUSY = "least_busy"        # lowest occupancy of the channel's capacity first
    MOST_SKILLED = "most_skilled"    # highest levels in the required skills first


DEFAULT_BLOCKING: dict[Channel, frozenset[Channel]] = {
    # On a call an agent cannot also start a chat or pick up mail.
    Channel.PHONE: frozenset({Channel.CHAT, Channel.EMAIL, Channel.WEBFORM}),
}

_LIMITS: dict[str, tuple[int, int]] = {
    "offer_timeout_s": (5, 3600),
    "max_missed_offers": (1, 100),
    "sticky_s": (0, 86_400),
    "relax_skills_after_s": (0, 7 * 86_400),
    "relax_levels": (0, 4),
    "widen_to_second_line_after_s": (0, 7 * 86_400),
    "overflow_after_s": (0, 7 * 86_400),
    "priority_step_s": (0, 7 * 86_400),
    "after_contact_work_s": (10, 86_400),
}
_OPTIONAL = {"widen_to_second_line_after_s", "overflow_after_s", "relax_skills_after_s",
             "priority_step_s", "after_contact_work_s"}

_KNOWN = frozenset({*_LIMITS, "strategy", "overflow_queue_id", "blocking",
                    "after_contact_work_s_by_queue"})


@dataclass(frozen=True, slots=True, kw_only=True)
class RoutingPolicy:
    """How work meets agents; supervisors change it as a configuration document."""

    strategy: Strategy = Strategy.LONGEST_IDLE
    offer_timeout_s: int = 30
    max_missed_offers: int = 3
    sticky_s: int = 60
    relax_skills_after_s: int | None = 120
    relax_levels: int = 1
    widen_to_second_line_after_s: int | None = 300
    overflow_queue_id: str | None = None
    overflow_after_s: int | None = None
    # Waiting work gains one priority step per this many seconds, so low priority work
    # is never starved by a steady stream of urgent work.
    priority_step_s: int | None = 600
    blocking: Mapping[Channel, frozenset[Channel]] = field(
        default_factory=lambda: dict(DEFAULT_BLOCKING))
    # How long an agent may spend in after-contact work before it is done for them (None:
    # as long as they like), and the queues where that differs.
    after_contact_work_s: int | None = 120
    after_contact_work_s_by_queue: Mapping[str, int | None] = field(default_factory=dict)

    def after_contact_work_limit_s(self, queue_id: str | None) -> int | None:
        if queue_id is not None and queue_id in self.after_contact_work_s_by_queue:
            return self.after_contact_work_s_by_queue[queue_id]
        return self.after_contact_work_s

    def to_document(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy.value,
            "offer_timeout_s": self.offer_timeout_s,
            "max_missed_offers": self.max_missed_offers,
            "sticky_s": self.sticky_s,
            "relax_skills_after_s": self.relax_skills_after_s,
            "relax_levels": self.relax_levels,
            "widen_to_second_line_after_s": self.widen_to_second_line_after_s,
            "overflow_queue_id": self.overflow_queue_id,
            "overflow_after_s": self.overflow_after_s,
            "priority_step_s": self.priority_step_s,
            "blocking": {busy.value: sorted(c.value for c in blocked)
                         for busy, blocked in sorted(self.blocking.items())},
            "after_contact_work_s": self.after_contact_work_s,
            "after_contact_work_s_by_queue": dict(sorted(
                self.after_contact_work_s_by_queue.items())),
        }

    @classmethod
    def from_document(cls, doc: object) -> RoutingPolicy:
        if not isinstance(doc, Mapping):
            raise InvalidInput({"policy": "must be an object"})
        errors: dict[str, str] = {}
        for key in doc:
            if key not in _KNOWN:
                errors[str(key)] = f"unknown setting; expected one of {', '.join(sorted(_KNOWN))}"
        values: dict[str, Any] = _numbers(doc, errors)
        if "strategy" in doc:
            try:
                values["strategy"] = Strategy(doc["strategy"])
            except ValueError:
                errors["strategy"] = f"must be one of {', '.join(s.value for s in Strategy)}"
        for name, parse in _STRUCTURED.items():
            if name in doc:
                values[name] = parse(doc[name], errors)
        if values.get("overflow_after_s") is not None and not values.get("overflow_queue_id"):
            errors.setdefault("overflow_queue_id", "required when overflow_after_s is set")
        if errors:
            raise InvalidInput(errors)
        return cls(**values)


def _queue_id(queue: object, errors: dict[str, str]) -> str | None:
    if queue is None or (isinstance(queue, str) and queue.strip()):
        return queue
    errors["overflow_queue_id"] = "must be a queue id or null"
    return None


def _numbers(doc: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, (low, high) in _LIMITS.items():
        if name not in doc:
            continue
        value = doc[name]
        if value is None and name in _OPTIONAL:
            values[name] = None
        elif isinstance(value, bool) or not isinstance(value, int):
            errors[name] = "must be a whole number of seconds" if name.endswith("_s") \
                else "must be a whole number"
        elif not low <= value <= high:
            errors[name] = f"must be between {low} and {high}"
        else:
            values[name] = value
    return values


def _per_queue_limits(raw: object, errors: dict[str, str]) -> dict[str, int | None]:
    name = "after_contact_work_s_by_queue"
    low, high = _LIMITS["after_contact_work_s"]
    if not isinstance(raw, Mapping):
        errors[name] = "must map a queue id to seconds (or null: no limit there)"
        return {}
    limits: dict[str, int | None] = {}
    for queue_id, value in raw.items():
        if value is None:
            limits[str(queue_id)] = None
        elif isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            errors[f"{name}.{queue_id}"] = f"must be a whole number of seconds from {low} " \
                                           f"to {high}, or null"
        else:
            limits[str(queue_id)] = value
    return limits


def _blocking(raw: object, errors: dict[str, str]) -> dict[Channel, frozenset[Channel]]:
    if not isinstance(raw, Mapping):
        errors["blocking"] = "must map a channel to the channels it blocks"
        return {}
    result: dict[Channel, frozenset[Channel]] = {}
    for busy, blocked in raw.items():
        path = f"blocking.{busy}"
        try:
            busy_channel = Channel(busy)
        except ValueError:
            errors[path] = f"unknown channel; expected one of {', '.join(Channel)}"
            continue
        if not isinstance(blocked, list):
            errors[path] = "must be a list of channels"
            continue
        channels: set[Channel] = set()
        for n, name in enumerate(blocked):
            try:
                channels.add(Channel(name))
            except ValueError:
                errors[f"{path}[{n}]"] = f"unknown channel {name!r}"
        result[busy_channel] = frozenset(channels)
    return result


_STRUCTURED: dict[str, Callable[[Any, dict[str, str]], Any]] = {
    "overflow_queue_id": _queue_id, "blocking": _blocking,
    "after_contact_work_s_by_queue": _per_queue_limits,
}


@dataclass(frozen=True, slots=True)
class Candidate:
    agent: Agent
    queue_ids: frozenset[str]
    load: AgentLoad


@dataclass(frozen=True, slots=True, kw_only=True)
class Requirements:
    """What an agent must offer to take the item now, after relaxation for its wait."""

    queue_ids: frozenset[str]
    skills: Mapping[str, int]
    tiers: frozenset[Tier]
    sticky_agent_ids: tuple[str, ...]   # preferred agents still inside the sticky window
    preferred_team_id: str | None
    waited_s: float
    relaxed_levels: int
    widened_to_second_line: bool
    overflowed: bool

    def to_document(self) -> dict[str, Any]:
        return {
            "queues": sorted(self.queue_ids), "skills": dict(self.skills),
            "tiers": sorted(int(t) for t in self.tiers),
            "sticky_agents": list(self.sticky_agent_ids),
            "preferred_team": self.preferred_team_id, "waited_s": round(self.waited_s, 1),
            "relaxed_levels": self.relaxed_levels,
            "widened_to_second_line": self.widened_to_second_line,
            "overflowed": self.overflowed,
        }


def waited_s(item: WorkItem, now: datetime) -> float:
    return max(0.0, (now - item.enqueued_at).total_seconds())


def requirements(item: WorkItem, policy: RoutingPolicy, now: datetime) -> Requirements:
    waited = waited_s(item, now)
    relaxed = 0
    if policy.relax_skills_after_s is not None and policy.relax_levels:
        steps = int(waited // policy.relax_skills_after_s) if policy.relax_skills_after_s \
            else policy.relax_levels
        relaxed = min(policy.relax_levels, steps)
    skills = {skill: max(1, level - relaxed) for skill, level in item.skills.items()}
    tiers = {item.tier}
    widened = (item.tier is Tier.FIRST_LINE
               and policy.widen_to_second_line_after_s is not None
               and waited >= policy.widen_to_second_line_after_s)
    if widened:
        tiers.add(Tier.SECOND_LINE)
    queues = {item.queue_id}
    overflowed = (policy.overflow_queue_id is not None and policy.overflow_after_s is not None
                  and waited >= policy.overflow_after_s)
    if overflowed and policy.overflow_queue_id:
        queues.add(policy.overflow_queue_id)
    sticky = item.preferred_agent_ids if waited < policy.sticky_s else ()
    return Requirements(queue_ids=frozenset(queues), skills=skills, tiers=frozenset(tiers),
                        sticky_agent_ids=tuple(sticky),
                        preferred_team_id=item.preferred_team_id, waited_s=waited,
                        relaxed_levels=relaxed, widened_to_second_line=widened,
                        overflowed=overflowed)


def effective_priority(item: WorkItem, policy: RoutingPolicy, now: datetime) -> float:
    if not policy.priority_step_s:
        return float(item.priority)
    return item.priority + waited_s(item, now) / policy.priority_step_s


def order_queue(items: Iterable[WorkItem], policy: RoutingPolicy,
                now: datetime) -> list[WorkItem]:
    """Most urgent first (priority aged by waiting time), then first come, first served."""
    return sorted(items, key=lambda i: (-effective_priority(i, policy, now), i.enqueued_at,
                                        i.id))


def ineligibility(candidate: Candidate, item: WorkItem, req: Requirements,
                  policy: RoutingPolicy) -> str | None:
    """Why this agent cannot take the item now, or None when they can. The reasons are
    the trace's vocabulary (documented in docs/routing.md)."""
    agent, load = candidate.agent, candidate.load
    if not agent.active:
        return "inactive"
    if agent.presence is not Presence.AVAILABLE:
        return f"presence_{agent.presence.value}"
    if agent.id not in req.sticky_agent_ids and not candidate.queue_ids & req.queue_ids:
        return "not_in_queue"
    if agent.tier not in req.tiers:
        return "tier"
    for skill, level in req.skills.items():
        if agent.skills.get(skill, 0) < level:
            return "skill"
    if load.holding(item.channel) >= agent.capacity.get(item.channel, 0):
        return "capacity"
    for busy, blocked in policy.blocking.items():
        if item.channel in blocked and load.holding(busy):
            return f"busy_{busy.value}"
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class AssignmentTrace:
    requirements: Requirements
    eligible: tuple[str, ...]           # the best few, in ranking order
    eligible_count: int
    rejected: Mapping[str, int]         # reason -> number of agents
    rejected_examples: Mapping[str, tuple[str, ...]]
    chosen: str | None
    why: str

    def to_document(self) -> dict[str, Any]:
        return {
            "requirements": self.requirements.to_document(),
            "eligible": list(self.eligible), "eligible_count": self.eligible_count,
            "rejected": dict(self.rejected),
            "rejected_examples": {k: list(v) for k, v in self.rejected_examples.items()},
            "chosen": self.chosen, "why": self.why,
        }


_TRACE_ELIGIBLE = 10
_TRACE_EXAMPLES = 3


def choose(item: WorkItem, candidates: Sequence[Candidate], policy: RoutingPolicy,
           now: datetime) -> AssignmentTrace:
    req = requirements(item, policy, now)
    eligible: list[Candidate] = []
    rejected: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}
    seen: set[str] = set()
    for candidate in candidates:
        agent_id = candidate.agent.id
        if agent_id in seen:
            continue
        seen.add(agent_id)
        reason = ineligibility(candidate, item, req, policy)
        if reason is None:
            eligible.append(candidate)
            continue
        rejected[reason] += 1
        listed = examples.setdefault(reason, [])
        if len(listed) < _TRACE_EXAMPLES:
            listed.append(agent_id)

    pool = _pool(item, req, eligible, rejected, examples)
    ranked = sorted(pool, key=_ranking(item, req, policy))
    chosen = ranked[0] if ranked else None
    if chosen is not None:
        why = _why(chosen, item, req, policy, len(pool))
    else:
        why = "no eligible agent" + (
            f" ({', '.join(f'{n} {r}' for r, n in rejected.most_common())})" if rejected
            else " (nobody serves this queue)")
    return AssignmentTrace(
        requirements=req,
        eligible=tuple(c.agent.id for c in ranked[:_TRACE_ELIGIBLE]),
        eligible_count=len(pool), rejected=dict(rejected),
        rejected_examples={k: tuple(v) for k, v in examples.items()},
        chosen=chosen.agent.id if chosen else None, why=why)


def _pool(item: WorkItem, req: Requirements, eligible: list[Candidate],
          rejected: Counter[str], examples: dict[str, list[str]]) -> list[Candidate]:
    """Narrow the eligible agents by stickiness and earlier refusals."""
    if req.sticky_agent_ids:
        sticky = [c for c in eligible if c.agent.id in req.sticky_agent_ids]
        if sticky:
            return sticky
        # Sticky only while a preferred agent is actually available; otherwise widen now.
    excluded = set(item.excluded_agent_ids)
    fresh = [c for c in eligible if c.agent.id not in excluded]
    if not fresh:
        # Everyone who could take it has refused it once: ask again rather than strand it.
        return eligible
    for c in eligible:
        if c.agent.id in excluded:
            rejected["declined_before"] += 1
            listed = examples.setdefault("declined_before", [])
            if len(listed) < _TRACE_EXAMPLES:
                listed.append(c.agent.id)
    return fresh


def _ranking(item: WorkItem, req: Requirements, policy: RoutingPolicy) -> Any:
    channel = item.channel
    excluded = set(item.excluded_agent_ids)
    epoch = datetime.min.replace(tzinfo=item.enqueued_at.tzinfo)

    def key(c: Candidate) -> tuple[Any, ...]:
        agent, load = c.agent, c.load
        idle = load.idle_since or agent.presence_since or epoch
        capacity = agent.capacity.get(channel, 0) or 1
        occupancy = load.total / max(1, sum(agent.capacity.values()))
        team = 0 if req.preferred_team_id and req.preferred_team_id in agent.team_ids else 1
        retried = 1 if agent.id in excluded else 0
        if policy.strategy is Strategy.LEAST_BUSY:
            strategy_key: tuple[Any, ...] = (load.holding(channel) / capacity, occupancy, idle)
        elif policy.strategy is Strategy.MOST_SKILLED:
            strategy_key = (-sum(agent.skills.get(s, 0) for s in req.skills), occupancy, idle)
        else:
            strategy_key = (idle, occupancy)
        return (retried, team, *strategy_key, agent.id)

    return key


def _why(chosen: Candidate, item: WorkItem, req: Requirements, policy: RoutingPolicy,
         pool: int) -> str:
    agent = chosen.agent
    reasons: list[str] = []
    if agent.id in req.sticky_agent_ids:
        reasons.append("preferred agent for this customer (account owner or last handled)")
    if agent.id in item.excluded_agent_ids:
        reasons.append("asked again: every eligible agent has already refused this work")
    if req.preferred_team_id and req.preferred_team_id in agent.team_ids:
        reasons.append(f"in preferred team {req.preferred_team_id}")
    if policy.strategy is Strategy.LEAST_BUSY:
        reasons.append(f"least busy of {pool} eligible")
    elif policy.strategy is Strategy.MOST_SKILLED:
        reasons.append(f"most skilled of {pool} eligible")
    else:
        idle = chosen.load.idle_since or agent.presence_since
        reasons.append(f"longest idle of {pool} eligible (free since {idle.isoformat()})"
                       if idle else f"longest idle of {pool} eligible")
    if req.relaxed_levels:
        reasons.append(f"skill levels relaxed by {req.relaxed_levels} after waiting")
    if req.widened_to_second_line:
        reasons.append("widened to 2nd line after waiting")
    if req.overflowed:
        reasons.append("overflow queue joined after waiting")
    return "; ".join(reasons)


def after_miss(load: AgentLoad, policy: RoutingPolicy) -> bool:
    """Count an offer the agent let time out; True when they should be set away."""
    load.missed_offers += 1
    return load.missed_offers >= policy.max_missed_offers
