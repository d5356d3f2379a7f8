"""Assignment scenarios: who gets the work, who does not and why, as the wait grows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.domain.channels import Channel
from core.domain.errors import Conflict, InvalidInput
from core.domain.work import AgentLoad, Offer, OfferStatus, WorkItem, WorkStatus
from core.domain.workforce import Agent, Presence, Tier
from routing.assignment import (
    Candidate,
    RoutingPolicy,
    Strategy,
    after_miss,
    choose,
    order_queue,
    requirements,
)

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def agent(agent_id: str, *, tier: int = 1, skills: dict[str, int] | None = None,
          presence: Presence = Presence.AVAILABLE, queues: tuple[str, ...] = ("q_general",),
          idle_for_s: int = 60, load: dict[Channel, int] | None = None,
          capacity: dict[Channel, int] | None = None, teams: tuple[str, ...] = (),
          active: bool = True) -> Candidate:
    kwargs: dict[str, Any] = {}
    if capacity is not None:
        kwargs["capacity"] = capacity
    person = Agent(id=agent_id, name=agent_id.title(), username=agent_id, tier=Tier(tier),
                   skills=skills or {}, presence=presence, presence_since=NOW - timedelta(
                       hours=1), queue_ids=list(queues), team_ids=list(teams), active=active,
                   **kwargs)
    return Candidate(agent=person, queue_ids=frozenset(queues), load=AgentLoad(
        agent_id=agent_id, load=dict(load or {}),
        idle_since=NOW - timedelta(seconds=idle_for_s)))


def item(*, waited_s: int = 0, channel: Channel = Channel.EMAIL, queue: str = "q_general",
         skills: dict[str, int] | None = None, tier: int = 1, priority: int = 2,
         preferred: tuple[str, ...] = (), excluded: tuple[str, ...] = (),
         team: str | None = None, item_id: str = "wrk1") -> WorkItem:
    at = NOW - timedelta(seconds=waited_s)
    return WorkItem(id=item_id, case_id="cas1", contact_id="con1", customer_id="cus1",
                    channel=channel, queue_id=queue, priority=priority, skills=skills or {},
                    tier=Tier(tier), preferred_agent_ids=preferred, preferred_team_id=team,
                    excluded_agent_ids=excluded, enqueued_at=at, created_at=at)


POLICY = RoutingPolicy()

SCENARIOS: list[tuple[str, WorkItem, list[Candidate], str | None, dict[str, int]]] = [
    ("longest idle wins among equals",
     item(), [agent("ann", idle_for_s=30), agent("bob", idle_for_s=300)], "bob", {}),
    ("away and offline agents are passed over",
     item(), [agent("ann", presence=Presence.AWAY), agent("bob", presence=Presence.OFFLINE),
              agent("cor", idle_for_s=1)], "cor",
     {"presence_away": 1, "presence_offline": 1}),
    ("inactive agents never get work",
     item(), [agent("ann", active=False, idle_for_s=999)], None, {"inactive": 1}),
    ("agents of other queues are passed over",
     item(), [agent("ann", queues=("q_sales",))], None, {"not_in_queue": 1}),
    ("a full channel capacity blocks that channel only",
     item(channel=Channel.CHAT),
     [agent("ann", load={Channel.CHAT: 3}, idle_for_s=900), agent("bob", load={
         Channel.EMAIL: 5})], "bob", {"capacity": 1}),
    ("an agent on a call gets no mail",
     item(), [agent("ann", load={Channel.PHONE: 1}, idle_for_s=900), agent("bob")], "bob",
     {"busy_phone": 1}),
    ("required skill level must be met",
     item(skills={"complaints": 3}),
     [agent("ann", skills={"complaints": 2}, idle_for_s=900),
      agent("bob", skills={"complaints": 4})], "bob", {"skill": 1}),
    ("a missing skill counts as level 0",
     item(skills={"english": 1}), [agent("ann")], None, {"skill": 1}),
    ("2nd-line work never goes to 1st line",
     item(tier=2, waited_s=3600), [agent("ann", tier=1, idle_for_s=900), agent("bob", tier=2)],
     "bob", {"tier": 1}),
    ("1st-line work stays with 1st line at first",
     item(tier=1), [agent("bob", tier=2)], None, {"tier": 1}),
    ("1st-line work widens to 2nd line after waiting",
     item(tier=1, waited_s=300), [agent("bob", tier=2)], "bob", {}),
    ("skill levels relax by one after waiting",
     item(skills={"complaints": 3}, waited_s=120), [agent("ann", skills={"complaints": 2})],
     "ann", {}),
    ("relaxation never drops a skill entirely",
     item(skills={"complaints": 1}, waited_s=10_000), [agent("ann")], None, {"skill": 1}),
    ("sticky: the preferred agent wins over a longer idle colleague",
     item(preferred=("ann",)), [agent("ann", idle_for_s=1), agent("bob", idle_for_s=900)],
     "ann", {}),
    ("sticky: the preferred agent may take it from outside the queue",
     item(preferred=("ann",)), [agent("ann", queues=("q_sales",))], "ann", {}),
    ("sticky: an unavailable preferred agent does not hold the work",
     item(preferred=("ann",)), [agent("ann", presence=Presence.BUSY), agent("bob")], "bob",
     {"presence_busy": 1}),
    ("sticky ends after its window",
     item(preferred=("ann",), waited_s=61),
     [agent("ann", idle_for_s=1), agent("bob", idle_for_s=900)], "bob", {}),
    ("an agent who declined is passed over while others can take it",
     item(excluded=("bob",)), [agent("bob", idle_for_s=900), agent("ann")], "ann",
     {"declined_before": 1}),
    ("when everyone declined, the work is offered again rather than stranded",
     item(excluded=("bob",)), [agent("bob")], "bob", {}),
    ("the preferred team goes first",
     item(team="t_b"), [agent("ann", idle_for_s=900), agent("bob", teams=("t_b",))], "bob",
     {}),
    ("nobody serves the queue",
     item(), [], None, {}),
]


@pytest.mark.parametrize(("work", "candidates", "expected", "rejected"),
                         [s[1:] for s in SCENARIOS], ids=[s[0] for s in SCENARIOS])
def test_choose(work: WorkItem, candidates: list[Candidate], expected: str | None,
                rejected: dict[str, int]) -> None:
    trace = choose(work, candidates, POLICY, NOW)

    assert trace.chosen == expected, trace.why
    assert dict(trace.rejected) == rejected
    assert trace.why
    assert trace.eligible_count == len(trace.eligible) or trace.eligible_count > 10


def test_overflow_queue_joins_after_its_wait() -> None:
    policy = RoutingPolicy(overflow_queue_id="q_overflow", overflow_after_s=600)
    helper = [agent("ovf", queues=("q_overflow",))]

    assert choose(item(waited_s=599), helper, policy, NOW).chosen is None
    late = choose(item(waited_s=600), helper, policy, NOW)
    assert late.chosen == "ovf"
    assert "overflow" in late.why


@pytest.mark.parametrize(("strategy", "expected"), [
    (Strategy.LONGEST_IDLE, "ann"),
    (Strategy.LEAST_BUSY, "bob"),
    (Strategy.MOST_SKILLED, "cor"),
])
def test_strategies(strategy: Strategy, expected: str) -> None:
    candidates = [
        agent("ann", idle_for_s=900, load={Channel.EMAIL: 4}, skills={"nl": 1}),
        agent("bob", idle_for_s=10, skills={"nl": 1}),
        agent("cor", idle_for_s=20, load={Channel.EMAIL: 2}, skills={"nl": 5}),
    ]
    trace = choose(item(skills={"nl": 1}), candidates, RoutingPolicy(strategy=strategy), NOW)
    assert trace.chosen == expected


def test_trace_document_explains_the_decision() -> None:
    trace = choose(item(skills={"complaints": 3}, tier=2), [
        agent("ann", tier=1), agent("bob", tier=2, skills={"complaints": 1}),
        agent("cor", tier=2, skills={"complaints": 3})], POLICY, NOW)
    doc = trace.to_document()

    assert doc["chosen"] == "cor"
    assert doc["eligible"] == ["cor"]
    assert doc["rejected"] == {"tier": 1, "skill": 1}
    assert doc["rejected_examples"] == {"tier": ["ann"], "skill": ["bob"]}
    assert doc["requirements"]["skills"] == {"complaints": 3}
    assert doc["requirements"]["tiers"] == [2]
    assert "longest idle of 1 eligible" in doc["why"]


def test_requirements_loosen_step_by_step() -> None:
    policy = RoutingPolicy(relax_skills_after_s=60, relax_levels=2,
                           widen_to_second_line_after_s=None)
    work = item(skills={"complaints": 4})
    levels = [requirements(work, policy, NOW + timedelta(seconds=s)).skills["complaints"]
              for s in (0, 59, 60, 120, 600)]
    assert levels == [4, 4, 3, 2, 2]
    assert requirements(work, policy, NOW + timedelta(days=1)).tiers == {Tier.FIRST_LINE}


def test_queue_order_ages_priority_so_nothing_starves() -> None:
    old_low = item(item_id="old_low", priority=1, waited_s=1800)
    new_urgent = item(item_id="new_urgent", priority=3, waited_s=0)
    new_normal = item(item_id="new_normal", priority=2, waited_s=10)
    fifo = item(item_id="fifo", priority=2, waited_s=20)

    ordered = [i.id for i in order_queue([new_normal, old_low, new_urgent, fifo], POLICY, NOW)]
    # 1 + 1800/600 = 4 beats a fresh 3; equal priorities are first come, first served.
    assert ordered == ["old_low", "new_urgent", "fifo", "new_normal"]
    no_aging = RoutingPolicy(priority_step_s=None)
    assert order_queue([old_low, new_urgent], no_aging, NOW)[0].id == "new_urgent"


def test_agents_who_keep_missing_offers_are_set_away() -> None:
    load = AgentLoad(agent_id="ann")
    assert [after_miss(load, POLICY) for _ in range(3)] == [False, False, True]
    assert load.missed_offers == 3


class TestWorkItemLifecycle:
    def test_offer_decline_requeue_assign_complete(self) -> None:
        work = item(waited_s=40)
        work.offer_to("ofr1", "ann")
        assert (work.status, work.offer_id, work.attempts) == (WorkStatus.OFFERED, "ofr1", 1)
        work.back_to_queue(excluded_agent_id="ann", at=NOW)
        assert work.status is WorkStatus.QUEUED
        assert work.excluded_agent_ids == ("ann",)
        assert work.enqueued_at < NOW, "a refusal must not reset the wait"
        work.offer_to("ofr2", "bob")
        work.assign("bob")
        assert (work.status, work.assigned_agent_id) == (WorkStatus.ASSIGNED, "bob")
        work.complete(NOW)
        assert work.status is WorkStatus.COMPLETED
        with pytest.raises(Conflict):
            work.complete(NOW)

    def test_transfer_to_second_line_excludes_the_sender(self) -> None:
        work = item(preferred=("ann",))
        work.offer_to("ofr1", "ann")
        work.assign("ann")
        work.transfer(tier=Tier.SECOND_LINE, at=NOW)
        assert work.status is WorkStatus.QUEUED
        assert work.tier is Tier.SECOND_LINE
        assert work.excluded_agent_ids == ("ann",)
        assert work.preferred_agent_ids == ()
        assert work.enqueued_at == NOW

    def test_transfer_to_a_colleague_prefers_them(self) -> None:
        work = item()
        work.offer_to("ofr1", "ann")
        work.assign("ann")
        work.transfer(agent_id="bob", at=NOW)
        assert work.preferred_agent_ids == ("bob",)
        trace = choose(work, [agent("ann"), agent("bob", idle_for_s=1),
                              agent("cor", idle_for_s=999)], POLICY, NOW)
        assert trace.chosen == "bob"

    @pytest.mark.parametrize("move", ["assign", "back_to_queue", "complete", "transfer"])
    def test_queued_work_refuses_moves_that_need_an_agent(self, move: str) -> None:
        work = item()
        with pytest.raises(Conflict):
            if move == "assign":
                work.assign("ann")
            elif move == "back_to_queue":
                work.back_to_queue(excluded_agent_id="ann", at=NOW)
            elif move == "complete":
                work.complete(NOW)
            else:
                work.transfer(queue_id="q2", at=NOW)


class TestOffer:
    def offer(self) -> Offer:
        return Offer(id="ofr1", work_item_id="wrk1", agent_id="ann", case_id="cas1",
                     channel=Channel.EMAIL, created_at=NOW,
                     expires_at=NOW + timedelta(seconds=30))

    def test_accept_in_time(self) -> None:
        offer = self.offer()
        offer.accept(NOW + timedelta(seconds=29))
        assert offer.status is OfferStatus.ACCEPTED

    def test_accept_after_expiry_is_refused_and_leaves_it_pending(self) -> None:
        offer = self.offer()
        with pytest.raises(Conflict, match="expired"):
            offer.accept(NOW + timedelta(seconds=30))
        assert offer.status is OfferStatus.PENDING
        offer.expire(NOW + timedelta(seconds=31))
        assert offer.status is OfferStatus.EXPIRED

    def test_an_answered_offer_cannot_be_answered_again(self) -> None:
        offer = self.offer()
        offer.decline(NOW)
        for answer in (offer.accept, offer.decline, offer.expire, offer.withdraw):
            with pytest.raises(Conflict):
                answer(NOW)


class TestPolicyDocument:
    def test_round_trip(self) -> None:
        policy = RoutingPolicy(strategy=Strategy.LEAST_BUSY, offer_timeout_s=20,
                               overflow_queue_id="q_o", overflow_after_s=900)
        assert RoutingPolicy.from_document(policy.to_document()) == policy

    def test_partial_document_keeps_defaults(self) -> None:
        policy = RoutingPolicy.from_document({"offer_timeout_s": 45})
        assert policy.offer_timeout_s == 45
        assert policy.max_missed_offers == RoutingPolicy().max_missed_offers

    def test_errors_name_each_setting(self) -> None:
        with pytest.raises(InvalidInput) as err:
            RoutingPolicy.from_document({
                "offer_timeout_s": 1, "strategy": "random", "sticky_s": "60",
                "blocking": {"phone": ["chat", "fax"], "pigeon": []},
                "overflow_after_s": 60, "colour": "blue"})
        assert set(err.value.reasons) == {
            "offer_timeout_s", "strategy", "sticky_s", "blocking.phone[1]", "blocking.pigeon",
            "overflow_queue_id", "colour"}
        assert "between 5 and 3600" in err.value.reasons["offer_timeout_s"]
