"""``switchboard bench routing``: how fast routing decides and assigns.

Two measurements, each printed with the parameters that produced it:

* **decision time** — the work done for every new contact, in memory: build the facts,
  evaluate the active rule set (default 1,000 rules) and choose an agent among the
  candidates of the chosen queue (default 10,000 agents over 200 queues); p50/p99/max;
* **assignments per second** — the dispatcher end to end against a real database (a fresh
  SQLite file unless ``--database-url`` is given): queued work offered to agents, each
  offer its own transaction with the conditional writes that prevent double assignment.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from core.config import Settings
from core.domain.channels import Channel
from core.domain.ids import new_id
from core.domain.work import AgentLoad, WorkItem
from core.domain.workforce import Agent, Presence, Queue, Tier
from core.storage import migrate
from core.storage.engine import build_engine
from routing.assignment import Candidate, RoutingPolicy, choose
from routing.rules import CompiledRuleSet, RuleSet
from workers import bootstrap

NOW = datetime(2026, 11, 17, 10, 0, tzinfo=UTC)
SKILLS = ("nl", "en", "billing", "complaints", "tech", "sales", "retention", "de")
WORDS = ("factuur", "klacht", "opzeggen", "levering", "storing", "wachtwoord", "adres",
         "betaling", "contract", "korting", "invoice", "refund", "delivery", "password")


@dataclass(frozen=True, slots=True)
class Percentiles:
    p50_ms: float
    p99_ms: float
    max_ms: float

    @classmethod
    def of(cls, seconds: list[float]) -> Percentiles:
        ordered = sorted(seconds)
        return cls(p50_ms=statistics.median(ordered) * 1000,
                   p99_ms=ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
                   max_ms=ordered[-1] * 1000)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", nargs="?", default="e2e",
                        choices=["e2e", "routing", "mail", "voice", "pop"],
                        help="what to measure (default: the whole service end to end)")
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--queues", type=int, default=200)
    parser.add_argument("--decisions", type=int, default=2000)
    parser.add_argument("--assignments", type=int, default=1000,
                        help="work items the dispatcher offers in the database run")
    parser.add_argument("--database-url", default=None,
                        help="database for the assignment run (default: a temporary SQLite)")
    parser.add_argument("--seed", type=int, default=7)
    from workers.bench_mail import add_arguments as mail_arguments

    mail_arguments(parser)
    from workers.bench_voice import add_arguments as voice_arguments

    voice_arguments(parser)
    from workers.bench_pop import add_arguments as pop_arguments

    pop_arguments(parser)
    from workers.bench_e2e import add_arguments as e2e_arguments

    e2e_arguments(parser)


def rule_set(rules: int, queues: int, rng: random.Random) -> RuleSet:
    """Rules shaped like a real centre's: keyword, segment, channel, value and time tests,
    most of which do not match a given contact, so nearly all are evaluated."""
    shapes = [
        lambda i: f'"{rng.choice(WORDS)}" in words and segment == "gold" and hour >= {i % 24}',
        lambda i: f'channel == "{rng.choice(list(Channel)).value}" and open_complaints > {i % 5}',
        lambda i: f'text =~~ "{rng.choice(WORDS)}{i}"',
        lambda i: f'customer_value != null and customer_value > {1000 + i}',
        lambda i: f'classification == "complaint" and language == "en" and weekday == {i % 7 + 1}',
        lambda i: f'mailbox == "team{i}@example.nl"',
    ]
    document: dict[str, Any] = {"default_queue": "q0", "rules": [
        {"id": f"r{i}", "name": f"rule {i}", "condition": shapes[i % len(shapes)](i),
         "actions": {"queue": f"q{i % queues}", "skills": {rng.choice(SKILLS): 2}},
         "stop": i % 10 == 0}
        for i in range(rules)]}
    return RuleSet.from_document(document)


def facts(rng: random.Random) -> dict[str, Any]:
    words = sorted({rng.choice(WORDS) for _ in range(30)} | {f"w{rng.randrange(500)}"
                                                         for _ in range(200)})
    return {
        "channel": rng.choice(["email", "phone", "chat", "webform"]), "direction": "inbound",
        "case_type": "question", "classification": rng.choice(["question", "complaint"]),
        "classification_confidence": 0.7, "language": rng.choice(["nl", "en"]),
        "negative_sentiment": rng.random() < 0.2, "subject": "Vraag", "body": " ".join(words),
        "text": " ".join(words), "words": words, "mailbox": None, "form": None,
        "ivr_choice": None, "segment": rng.choice(["gold", "silver", "bronze", None]),
        "customer_value": rng.choice([None, float(rng.randrange(5000))]),
        "customer_language": "nl", "customer_is_new": False,
        "open_complaints": rng.randrange(3), "open_cases": rng.randrange(5), "priority": 2,
        "tags": [], "hour": rng.randrange(24), "weekday": rng.randrange(1, 8),
        "business_hours": True, "account_owner": None,
    }


def candidates(agents: int, queues: int, rng: random.Random) -> dict[str, list[Candidate]]:
    by_queue: dict[str, list[Candidate]] = defaultdict(list)
    for n in range(agents):
        serves = frozenset({f"q{rng.randrange(queues)}", f"q{rng.randrange(queues)}"})
        agent = Agent(id=f"agt{n}", name=f"Agent {n}", username=f"a{n}",
                      tier=Tier(rng.choice([1, 1, 1, 2])),
                      skills={s: rng.randrange(1, 6) for s in rng.sample(SKILLS, 4)},
                      presence=rng.choice([Presence.AVAILABLE] * 3 + [Presence.AWAY,
                                                                       Presence.OFFLINE]),
                      presence_since=NOW, queue_ids=sorted(serves))
        load = AgentLoad(agent_id=agent.id,
                         load={Channel.EMAIL: rng.randrange(6), Channel.CHAT: rng.randrange(3)},
                         idle_since=NOW - timedelta(seconds=rng.randrange(3600)))
        candidate = Candidate(agent=agent, queue_ids=serves, load=load)
        for queue in serves:
            by_queue[queue].append(candidate)
    return by_queue


def decision_time(args: argparse.Namespace, rng: random.Random) -> list[str]:
    started = time.perf_counter()
    compiled = CompiledRuleSet(rule_set(args.rules, args.queues, rng))
    compile_s = time.perf_counter() - started
    by_queue = candidates(args.agents, args.queues, rng)
    policy = RoutingPolicy()
    samples = [facts(rng) for _ in range(args.decisions)]
    timings: list[float] = []
    rules_only: list[float] = []
    assigned = 0
    for n, sample in enumerate(samples):
        t0 = time.perf_counter()
        outcome = compiled.evaluate(sample)
        t1 = time.perf_counter()
        item = WorkItem(id=f"wrk{n}", case_id=f"cas{n}", contact_id=f"con{n}",
                        customer_id=f"cus{n}", channel=Channel(sample["channel"]),
                        queue_id=outcome.actions.queue or "q0", priority=2,
                        skills=dict(outcome.actions.skills), tier=Tier.FIRST_LINE,
                        enqueued_at=NOW, created_at=NOW)
        trace = choose(item, by_queue.get(item.queue_id, []), policy, NOW)
        t2 = time.perf_counter()
        assigned += trace.chosen is not None
        rules_only.append(t1 - t0)
        timings.append(t2 - t0)
    whole = Percentiles.of(timings)
    rules = Percentiles.of(rules_only)
    return [
        f"decision time: {args.rules} rules, {args.agents} agents in {args.queues} queues, "
        f"{args.decisions} contacts (seed {args.seed})",
        f"  rules + choice: p50 {whole.p50_ms:.2f} ms  p99 {whole.p99_ms:.2f} ms  "
        f"max {whole.max_ms:.2f} ms",
        f"  rules only:     p50 {rules.p50_ms:.2f} ms  p99 {rules.p99_ms:.2f} ms",
        f"  compiling the rule set: {compile_s * 1000:.0f} ms (once per published version)",
        f"  an agent was eligible for {assigned} of {args.decisions} contacts",
    ]


async def assignments(args: argparse.Namespace, rng: random.Random) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        engine = build_engine(url)
        try:
            await migrate.upgrade(engine)
        finally:
            await engine.dispose()
        settings = Settings(database_url=url, redis_url=None)
        async with bootstrap.build(settings) as services:
            await _seed(services, args, rng)
            started = time.perf_counter()
            offered = 0
            while offered < args.assignments:
                result = await services.dispatcher.dispatch()
                if not result.offers:
                    break
                offered += len(result.offers)
            elapsed = time.perf_counter() - started
    target = "SQLite (temporary file)" if args.database_url is None else "the given database"
    return [f"assignments: {offered} work items offered to {min(args.agents, 2000)} agents "
            f"on {target}",
            f"  {offered / elapsed:.0f} offers/s ({elapsed:.2f} s), each in a savepoint, "
            "committed in chunks"]


async def _seed(services: Any, args: argparse.Namespace, rng: random.Random) -> None:
    queues = min(args.queues, 50)
    agents = min(args.agents, 2000)
    async with services.uow() as uow:
        for q in range(queues):
            await uow.workforce.add_queue(Queue(id=f"q{q}", name=f"Queue {q}"))
        for n in range(agents):
            await uow.workforce.add_agent(Agent(
                id=f"agt{n}", name=f"Agent {n}", username=f"a{n}",
                skills={s: 5 for s in SKILLS}, presence=Presence.AVAILABLE,
                presence_since=NOW, queue_ids=[f"q{n % queues}"]))
        for n in range(args.assignments):
            await uow.work.add_item(WorkItem(
                id=new_id("wrk"), case_id=new_id("cas"), contact_id=new_id("con"),
                customer_id=new_id("cus"), channel=Channel.EMAIL, queue_id=f"q{n % queues}",
                priority=rng.randrange(1, 5), skills={"nl": 2}, tier=Tier.FIRST_LINE,
                enqueued_at=NOW, created_at=NOW))
        await uow.commit()


async def run(args: argparse.Namespace) -> int:
    if args.what == "mail":
        from workers import bench_mail

        return await bench_mail.run(args)
    if args.what == "voice":
        from workers import bench_voice

        return await bench_voice.run(args)
    if args.what == "pop":
        from workers import bench_pop

        return await bench_pop.run(args)
    if args.what == "e2e":
        from workers import bench_e2e

        return await bench_e2e.run(args)
    rng = random.Random(args.seed)
    lines = ["$ switchboard bench routing " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items()
        if k in ("rules", "agents", "queues", "decisions", "assignments"))]
    lines += decision_time(args, rng)
    lines += await assignments(args, rng)
    print("\n".join(lines))
    return 0
