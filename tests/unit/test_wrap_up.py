"""Wrap-up as pure rules: the times and verdict a work item keeps from accept to completion,
the supervisors' disposition list, the outcomes, and the policy's after-contact work limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.domain.channels import Channel
from core.domain.errors import Conflict, InvalidInput
from core.domain.work import WorkItem, WorkStatus, WrapUpOutcome
from core.domain.workforce import Tier
from routing.assignment import RoutingPolicy
from routing.dispositions import Dispositions
from routing.wrap_up import parse_outcome

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def held(at: datetime = NOW) -> WorkItem:
    work = WorkItem(id="wrk1", case_id="cas1", contact_id="con1", customer_id="cus1",
                    channel=Channel.PHONE, queue_id="q_general", priority=2, skills={},
                    tier=Tier.FIRST_LINE, enqueued_at=at, created_at=at)
    work.offer_to("ofr1", "ann")
    work.assign("ann", at=at)
    return work


def later(seconds: int) -> datetime:
    return NOW + timedelta(seconds=seconds)


class TestWorkItemTimes:
    def test_accept_conversation_end_and_wrap_up_are_kept(self) -> None:
        work = held()
        assert work.accepted_at == NOW and not work.in_after_contact_work
        assert work.end_conversation(later(120), wrap_up_due_at=later(240))
        assert work.in_after_contact_work
        # The first end counts: a late "call ended" after the agent opened wrap-up moves
        # nothing.
        assert not work.end_conversation(later(150), wrap_up_due_at=later(270))
        work.complete(later(180), disposition="answered", outcome=WrapUpOutcome.RESOLVED)
        assert (work.status, work.conversation_ended_at, work.wrap_up_due_at,
                work.completed_at) == (WorkStatus.COMPLETED, later(120), later(240),
                                       later(180))
        assert (work.disposition, work.outcome, work.callback_at) == (
            "answered", WrapUpOutcome.RESOLVED, None)
        assert not work.in_after_contact_work
        with pytest.raises(Conflict):
            work.end_conversation(later(200), wrap_up_due_at=None)

    def test_wrapping_up_straight_from_the_conversation_has_no_after_contact_work(
            self) -> None:
        work = held()
        work.complete(later(60), disposition="answered", outcome=WrapUpOutcome.OPEN)
        assert work.conversation_ended_at == work.completed_at == later(60)

    def test_a_planned_callback_needs_its_time_and_only_it_keeps_one(self) -> None:
        with pytest.raises(InvalidInput):
            held().complete(later(60), disposition="x",
                            outcome=WrapUpOutcome.CALLBACK_PLANNED)
        work = held()
        work.complete(later(60), disposition="x", outcome=WrapUpOutcome.OPEN,
                      callback_at=later(3600))
        assert work.callback_at is None

    def test_a_transfer_keeps_the_first_accept_and_starts_a_new_conversation(self) -> None:
        work = held()
        work.end_conversation(later(30), wrap_up_due_at=later(150))
        work.transfer(queue_id="q_second", at=later(40))
        assert (work.conversation_ended_at, work.wrap_up_due_at) == (None, None)
        work.offer_to("ofr2", "bob")
        work.assign("bob", at=later(90))
        assert work.accepted_at == NOW


class TestOutcomes:
    def test_names_and_the_old_pending(self) -> None:
        assert parse_outcome("pending") is WrapUpOutcome.FOLLOW_UP
        assert parse_outcome("callback_planned") is WrapUpOutcome.CALLBACK_PLANNED
        with pytest.raises(InvalidInput) as refused:
            parse_outcome("done")
        assert refused.value.reasons == {
            "outcome": "must be one of resolved, follow_up, callback_planned, open"}


class TestDispositions:
    def test_the_default_list_has_dutch_and_english_labels(self) -> None:
        defaults = Dispositions.default()
        assert [d.code for d in defaults.items][:3] == ["answered", "information",
                                                         "callback_planned"]
        assert all(set(d.labels) == {"nl", "en"} for d in defaults.items)
        assert Dispositions.from_document(defaults.to_document()) == defaults

    def test_codes_apply_to_their_queues_and_others_are_refused_with_the_allowed(
            self) -> None:
        codes = Dispositions.from_document([
            {"code": "answered", "labels": {"nl": "Beantwoord", "en": "Answered"}},
            {"code": "refund", "labels": {"nl": " Geld terug ", "en": "Refund"},
             "queues": ["q_billing"]}], queue_ids={"q_billing", "q_general"})
        assert [d.code for d in codes.for_queue("q_general")] == ["answered"]
        assert [d.code for d in codes.for_queue("q_billing")] == ["answered", "refund"]
        assert codes.items[1].labels["nl"] == "Geld terug"
        assert codes.check("refund", "q_billing") == "refund"
        with pytest.raises(InvalidInput) as refused:
            codes.check("refund", "q_general")
        assert refused.value.reasons["disposition"].endswith("use one of answered")

    @pytest.mark.parametrize(("document", "path"), [
        ({"dispositions": []}, "dispositions"),
        ([{"code": "Answered", "labels": {"nl": "a", "en": "a"}}], "dispositions[0].code"),
        ([{"code": "auto", "labels": {"nl": "a", "en": "a"}}], "dispositions[0].code"),
        ([{"code": "a", "labels": {"nl": "a"}}], "dispositions[0].labels.en"),
        ([{"code": "a", "labels": {"nl": "a", "en": "a", "de": "a"}}],
         "dispositions[0].labels.de"),
        ([{"code": "a", "labels": {"nl": "a", "en": "x" * 101}}], "dispositions[0].labels.en"),
        ([{"code": "a", "labels": {"nl": "a", "en": "a"}, "queues": ["q_nope"]}],
         "dispositions[0].queues[0]"),
        ([{"code": "a", "labels": {"nl": "a", "en": "a"}, "queues": "q_general"}],
         "dispositions[0].queues"),
        ([{"code": "a", "labels": {"nl": "a", "en": "a"}, "outcome": "resolved"}],
         "dispositions[0].outcome"),
        ([{"code": "a", "labels": {"nl": "a", "en": "a"}},
          {"code": "a", "labels": {"nl": "b", "en": "b"}}], "dispositions[1].code"),
    ])
    def test_a_bad_list_is_refused_with_the_reason_where_it_is(
            self, document: object, path: str) -> None:
        with pytest.raises(InvalidInput) as refused:
            Dispositions.from_document(document, queue_ids={"q_general"})
        assert path in refused.value.reasons


class TestAfterContactWorkLimit:
    def test_the_policy_default_and_per_queue_limits(self) -> None:
        policy = RoutingPolicy.from_document({
            "after_contact_work_s": 90,
            "after_contact_work_s_by_queue": {"q_complaints": 600, "q_back_office": None}})
        assert policy.after_contact_work_limit_s("q_general") == 90
        assert policy.after_contact_work_limit_s("q_complaints") == 600
        assert policy.after_contact_work_limit_s("q_back_office") is None  # no limit there
        assert RoutingPolicy.from_document(policy.to_document()) == policy
        assert RoutingPolicy().after_contact_work_limit_s("q_general") == 120
        assert RoutingPolicy.from_document(
            {"after_contact_work_s": None}).after_contact_work_limit_s("q") is None

    @pytest.mark.parametrize(("document", "path"), [
        ({"after_contact_work_s": 5}, "after_contact_work_s"),
        ({"after_contact_work_s": "2m"}, "after_contact_work_s"),
        ({"after_contact_work_s_by_queue": {"q": 0}}, "after_contact_work_s_by_queue.q"),
        ({"after_contact_work_s_by_queue": {"q": True}}, "after_contact_work_s_by_queue.q"),
        ({"after_contact_work_s_by_queue": [600]}, "after_contact_work_s_by_queue"),
    ])
    def test_bad_limits_are_refused(self, document: dict[str, object], path: str) -> None:
        with pytest.raises(InvalidInput) as refused:
            RoutingPolicy.from_document(document)
        assert path in refused.value.reasons
