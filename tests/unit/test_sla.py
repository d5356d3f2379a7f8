"""SLA policies and clocks: which policy applies, when a clock warns and breaches in
business time, and how pauses, stops and reclassification move its deadlines."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.domain.channels import Channel
from core.domain.contact import CaseType, Priority
from core.domain.errors import InvalidInput
from core.domain.sla import CalendarSpec, SlaClock, SlaKind, SlaPolicy
from core.storage.tables import sla_clocks
from routing.calendar import BusinessCalendar
from routing.configuration import DEFAULT_SLA_POLICIES
from routing.sla import (
    SlaSignal,
    consumed_s,
    evaluate,
    pause,
    remaining_s,
    resume,
    retarget,
    select_policy,
    start_clock,
    stop,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
HOUR = 3600
OFFICE = BusinessCalendar(CalendarSpec.office_hours_nl())
ALWAYS = BusinessCalendar(CalendarSpec.around_the_clock())

COMPLAINT = SlaPolicy(id="sla_complaint", name="Complaint", calendar_id=OFFICE.id,
                      case_type="complaint", first_response_s=4 * HOUR,
                      resolution_s=40 * HOUR)
STANDARD = SlaPolicy(id="sla_standard", name="Standard", calendar_id=OFFICE.id,
                     first_response_s=8 * HOUR, resolution_s=24 * HOUR)
URGENT = SlaPolicy(id="sla_urgent", name="Urgent", calendar_id=ALWAYS.id, priority=4,
                   first_response_s=1 * HOUR, resolution_s=2 * HOUR, warn_at_fraction=0.5)
RESOLUTION_ONLY = SlaPolicy(id="sla_letters", name="Letters", calendar_id=OFFICE.id,
                            channel="letter", resolution_s=80 * HOUR)


def local(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    """A wall-clock moment in Amsterdam in 2026, as UTC."""
    return datetime(2026, month, day, hour, minute, tzinfo=AMSTERDAM).astimezone(UTC)


FRIDAY_3PM = local(20, 15)


def clock_for(policy: SlaPolicy = COMPLAINT, *, at: datetime = FRIDAY_3PM,
              kind: SlaKind = SlaKind.FIRST_RESPONSE,
              calendar: BusinessCalendar = OFFICE) -> SlaClock:
    clock = start_clock(clock_id="sla_1", case_id="case_1", kind=kind, policy=policy,
                        calendar=calendar, at=at)
    assert clock is not None
    return clock


# --- starting --------------------------------------------------------------------------------


def test_a_complaint_on_friday_afternoon_is_due_on_monday_morning() -> None:
    clock = clock_for()

    assert (clock.warn_at, clock.due_at) == (local(23, 9, 12), local(23, 10))
    assert clock.next_deadline == local(23, 9, 12)
    assert (clock.policy_id, clock.calendar_id, clock.target_s) == (
        "sla_complaint", "cal_office_nl", 4 * HOUR)
    assert (clock.started_at, clock.running_since, clock.consumed_s) == (
        FRIDAY_3PM, FRIDAY_3PM, 0)
    assert clock.running and not clock.paused and not clock.stopped


def test_a_clock_started_at_the_weekend_counts_from_monday_opening() -> None:
    clock = clock_for(at=local(21, 11))

    assert (clock.warn_at, clock.due_at) == (local(23, 12, 12), local(23, 13))


@pytest.mark.parametrize(("policy", "kind", "expected_due"), [
    pytest.param(COMPLAINT, SlaKind.RESOLUTION, local(27, 10), id="complaint-resolution"),
    pytest.param(URGENT, SlaKind.FIRST_RESPONSE, local(20, 16), id="24x7-first-response"),
    pytest.param(RESOLUTION_ONLY, SlaKind.RESOLUTION, local(3, 14, month=12),
                 id="letters-resolution"),
])
def test_start_clock_targets(policy: SlaPolicy, kind: SlaKind, expected_due: datetime) -> None:
    calendar = ALWAYS if policy is URGENT else OFFICE

    clock = clock_for(policy, kind=kind, calendar=calendar)

    assert clock.due_at == expected_due
    assert clock.calendar_id == calendar.id


def test_no_clock_for_a_kind_the_policy_sets_no_target_for() -> None:
    assert start_clock(clock_id="sla_1", case_id="case_1", kind=SlaKind.FIRST_RESPONSE,
                       policy=RESOLUTION_ONLY, calendar=OFFICE, at=FRIDAY_3PM) is None


def test_a_clock_keeps_utc() -> None:
    clock = clock_for(at=datetime(2026, 11, 20, 15, tzinfo=AMSTERDAM))

    assert clock.started_at.tzinfo is UTC
    assert clock.due_at is not None and clock.due_at.tzinfo is UTC
    with pytest.raises(ValueError):
        clock_for(at=datetime(2026, 11, 20, 15))


# --- signals ---------------------------------------------------------------------------------


def test_each_signal_fires_once_and_on_time() -> None:
    clock = clock_for()
    timeline = [
        (local(20, 16, 59), []),
        (local(22, 23, 59), []),
        (local(23, 9, 11), []),
        (local(23, 9, 12), [SlaSignal.WARNING]),
        (local(23, 9, 30), []),
        (local(23, 10), [SlaSignal.BREACH]),
        (local(23, 10), []),
        (local(24, 10), []),
    ]

    fired = [(now, evaluate(clock, now)) for now, _ in timeline]

    assert fired == timeline
    assert clock.warned and clock.breached
    assert clock.next_deadline is None


def test_next_deadline_moves_from_warning_to_breach() -> None:
    clock = clock_for()

    evaluate(clock, local(23, 9, 12))

    assert clock.next_deadline == local(23, 10)


def test_a_late_evaluation_fires_warning_then_breach() -> None:
    clock = clock_for()

    assert evaluate(clock, local(23, 11)) == [SlaSignal.WARNING, SlaSignal.BREACH]
    assert evaluate(clock, local(23, 12)) == []


@pytest.mark.parametrize("halt", [
    pytest.param(lambda c: pause(c, OFFICE, local(23, 9)), id="paused"),
    pytest.param(lambda c: stop(c, OFFICE, local(23, 9)), id="stopped"),
])
def test_a_clock_that_is_not_running_signals_nothing(halt: Any) -> None:
    clock = clock_for()
    halt(clock)

    assert evaluate(clock, local(30, 12)) == []
    assert not clock.warned and not clock.breached
    assert clock.next_deadline is None


# --- pause, resume, stop ---------------------------------------------------------------------


def test_pause_and_resume_keep_the_business_time_consumed() -> None:
    clock = clock_for(at=local(23, 9))  # Monday 09:00, four hours

    pause(clock, OFFICE, local(23, 10, 30))

    assert clock.paused and not clock.running
    assert clock.consumed_s == 1.5 * HOUR
    assert (clock.paused_at, clock.running_since) == (local(23, 10, 30), None)
    assert (clock.due_at, clock.warn_at, clock.next_deadline) == (None, None, None)
    assert remaining_s(clock, OFFICE, local(25, 14)) == 2.5 * HOUR

    resume(clock, OFFICE, local(25, 14))  # Wednesday 14:00: 2.5 hours left

    assert clock.running and clock.paused_at is None
    assert clock.due_at == local(25, 16, 30)
    assert clock.warn_at == local(25, 15, 42)  # 3h12m in all, 1h30m of it used
    assert consumed_s(clock, OFFICE, local(25, 15)) == 2.5 * HOUR


def test_pausing_in_closed_time_consumes_only_open_time() -> None:
    clock = clock_for()  # Friday 15:00

    pause(clock, OFFICE, local(22, 12))  # Sunday
    resume(clock, OFFICE, local(24, 9))  # Tuesday opening

    assert clock.consumed_s == 3 * HOUR
    assert clock.due_at == local(24, 10)


def test_pause_and_resume_are_idempotent() -> None:
    clock = clock_for(at=local(23, 9))
    resume(clock, OFFICE, local(23, 10))  # not paused: nothing to do

    assert clock.running_since == local(23, 9)

    pause(clock, OFFICE, local(23, 10))
    pause(clock, OFFICE, local(23, 12))  # already paused

    assert (clock.consumed_s, clock.paused_at) == (HOUR, local(23, 10))


def test_a_warning_already_fired_does_not_fire_again_after_a_pause() -> None:
    clock = clock_for(at=local(23, 9))
    assert evaluate(clock, local(23, 12, 12)) == [SlaSignal.WARNING]

    pause(clock, OFFICE, local(23, 12, 30))
    resume(clock, OFFICE, local(24, 9))

    assert clock.next_deadline == clock.due_at == local(24, 9, 30)
    assert evaluate(clock, local(24, 9, 30)) == [SlaSignal.BREACH]


def test_stop_keeps_the_time_used_and_ends_the_clock() -> None:
    clock = clock_for(at=local(23, 9))

    stop(clock, OFFICE, local(23, 11))

    assert clock.stopped and not clock.running and not clock.paused
    assert (clock.stopped_at, clock.consumed_s, clock.running_since) == (
        local(23, 11), 2 * HOUR, None)
    assert clock.due_at == local(23, 13)  # kept, to tell whether it was met
    assert remaining_s(clock, OFFICE, local(30, 12)) == 2 * HOUR

    stop(clock, OFFICE, local(23, 12))  # already stopped

    assert clock.stopped_at == local(23, 11)


def test_stopping_a_paused_clock() -> None:
    clock = clock_for(at=local(23, 9))
    pause(clock, OFFICE, local(23, 10))

    stop(clock, OFFICE, local(24, 10))

    assert (clock.consumed_s, clock.paused_at, clock.stopped_at) == (
        HOUR, None, local(24, 10))
    resume(clock, OFFICE, local(24, 11))
    assert clock.stopped and clock.next_deadline is None


def test_remaining_is_negative_when_overdue() -> None:
    clock = clock_for()

    assert remaining_s(clock, OFFICE, FRIDAY_3PM) == 4 * HOUR
    assert remaining_s(clock, OFFICE, local(21, 12)) == HOUR
    assert remaining_s(clock, OFFICE, local(23, 11, 30)) == -1.5 * HOUR


# --- reclassification ------------------------------------------------------------------------


def test_retarget_keeps_the_time_consumed_and_fires_a_warning_again() -> None:
    clock = clock_for()  # complaint, 4h, Friday 15:00
    assert evaluate(clock, local(23, 9, 12)) == [SlaSignal.WARNING]

    retarget(clock, STANDARD, OFFICE, local(23, 9, 30))  # a question after all: 8h

    assert (clock.policy_id, clock.target_s) == ("sla_standard", 8 * HOUR)
    assert clock.consumed_s == 3.5 * HOUR
    assert clock.running_since == local(23, 9, 30)
    assert clock.due_at == local(23, 14)  # 4.5h from 09:30
    assert clock.warn_at == local(23, 12, 24)  # 6h24m in all
    assert not clock.warned
    assert evaluate(clock, local(23, 12, 24)) == [SlaSignal.WARNING]
    assert evaluate(clock, local(23, 14)) == [SlaSignal.BREACH]


def test_retarget_to_a_tighter_target_already_passed_fires_at_once() -> None:
    clock = clock_for(STANDARD, at=local(23, 9))
    gold = SlaPolicy(id="sla_complaint_gold", name="Gold", calendar_id=OFFICE.id,
                     first_response_s=HOUR)

    retarget(clock, gold, OFFICE, local(23, 11))

    assert clock.due_at == clock.warn_at == local(23, 11)
    assert evaluate(clock, local(23, 11)) == [SlaSignal.WARNING, SlaSignal.BREACH]


def test_retarget_does_not_repeat_a_breach_that_still_stands() -> None:
    clock = clock_for(at=local(23, 9))
    assert evaluate(clock, local(23, 13)) == [SlaSignal.WARNING, SlaSignal.BREACH]
    tighter = dataclasses.replace(COMPLAINT, id="sla_tighter", first_response_s=2 * HOUR)

    retarget(clock, tighter, OFFICE, local(23, 14))

    assert clock.warned and clock.breached
    assert clock.next_deadline is None
    assert evaluate(clock, local(23, 15)) == []


def test_retarget_lifts_a_breach_the_new_target_puts_in_the_future() -> None:
    clock = clock_for(at=local(23, 9))
    assert evaluate(clock, local(23, 13)) == [SlaSignal.WARNING, SlaSignal.BREACH]

    retarget(clock, STANDARD, OFFICE, local(23, 14))  # 5h used of 8h

    assert not clock.breached and clock.warned is False
    assert clock.warn_at == local(23, 15, 24) and clock.due_at == local(23, 17)


def test_retarget_while_paused_applies_on_resume() -> None:
    clock = clock_for(at=local(23, 9))
    pause(clock, OFFICE, local(23, 10))

    retarget(clock, URGENT, ALWAYS, local(23, 11))

    assert (clock.target_s, clock.calendar_id, clock.warn_at_fraction) == (
        HOUR, "cal_24x7", 0.5)
    assert (clock.due_at, clock.consumed_s) == (None, HOUR)
    resume(clock, ALWAYS, local(21, 12, month=12))
    assert clock.due_at == clock.warn_at == local(21, 12, month=12)


def test_retarget_leaves_a_clock_the_new_policy_has_no_target_for() -> None:
    clock = clock_for()
    before = dataclasses.replace(clock)

    retarget(clock, RESOLUTION_ONLY, OFFICE, local(23, 9))

    assert clock == before


# --- choosing a policy -----------------------------------------------------------------------


@pytest.mark.parametrize(("case_type", "priority", "segment", "channel", "expected"), [
    pytest.param("complaint", 2, "gold", "email", "sla_complaint_gold", id="gold-complaint"),
    pytest.param("complaint", 2, None, "email", "sla_complaint", id="complaint"),
    pytest.param("complaint", 2, "silver", "phone", "sla_complaint", id="silver-complaint"),
    pytest.param("question", 2, "gold", "chat", "sla_gold", id="gold-question"),
    pytest.param("request", 1, None, "email", "sla_standard", id="anything-else"),
    pytest.param(CaseType.COMPLAINT, Priority.NORMAL, "gold", Channel.EMAIL,
                 "sla_complaint_gold", id="enums-equal-their-values"),
])
def test_select_policy_prefers_the_most_specific(case_type: str, priority: int,
                                                 segment: str | None, channel: str,
                                                 expected: str) -> None:
    chosen = select_policy(DEFAULT_SLA_POLICIES, case_type=case_type, priority=priority,
                           segment=segment, channel=channel)

    assert chosen is not None and chosen.id == expected


def test_select_policy_breaks_ties_by_order_and_may_find_none() -> None:
    by_channel = SlaPolicy(id="by_channel", name="Chat", calendar_id="c", channel="chat",
                           first_response_s=60)
    by_priority = SlaPolicy(id="by_priority", name="Urgent", calendar_id="c", priority=4,
                            first_response_s=60)
    both = dataclasses.replace(by_channel, id="both", priority=Priority.URGENT)
    facts: dict[str, Any] = {"case_type": "question", "priority": 4, "segment": None,
                             "channel": "chat"}

    assert select_policy([by_channel, by_priority], **facts) is by_channel
    assert select_policy([by_priority, by_channel], **facts) is by_priority
    assert select_policy([by_channel, by_priority, both], **facts) is both
    assert select_policy([by_channel, by_priority], **{**facts, "channel": "email",
                                                        "priority": 2}) is None
    assert select_policy([], **facts) is None


def test_a_policy_criterion_never_matches_a_missing_fact() -> None:
    gold = SlaPolicy(id="gold", name="Gold", calendar_id="c", segment="gold",
                     first_response_s=60)

    assert select_policy([gold], case_type="question", priority=2, segment=None,
                         channel="email") is None


# --- policy documents ------------------------------------------------------------------------


def test_policy_criteria_become_domain_enums() -> None:
    policy = SlaPolicy(id="p", name="P", calendar_id="c", case_type="complaint", priority=3,
                       channel="chat", first_response_s=60)

    assert policy.case_type is CaseType.COMPLAINT
    assert policy.priority is Priority.HIGH
    assert policy.channel is Channel.CHAT
    assert policy.target_for(SlaKind.FIRST_RESPONSE) == 60
    assert policy.target_for(SlaKind.RESOLUTION) is None


@pytest.mark.parametrize("policy", [
    *[pytest.param(p, id=p.id) for p in DEFAULT_SLA_POLICIES],
    pytest.param(URGENT, id="priority-and-fraction"),
    pytest.param(RESOLUTION_ONLY, id="channel-and-one-target"),
])
def test_sla_policy_round_trips_through_json(policy: SlaPolicy) -> None:
    document = json.loads(json.dumps(policy.to_document()))

    assert SlaPolicy.from_document(document) == policy


def test_policy_priority_may_be_named() -> None:
    policy = SlaPolicy.from_document({"id": "p", "name": "P", "calendar_id": "c",
                                      "priority": "high", "resolution_s": 60})

    assert policy.priority is Priority.HIGH
    assert policy.warn_at_fraction == 0.8
    assert policy.to_document()["priority"] == 3


@pytest.mark.parametrize(("changes", "expected"), [
    pytest.param({"first_response_s": 0}, {"first_response_s"}, id="zero-target"),
    pytest.param({"resolution_s": -5}, {"resolution_s"}, id="negative-target"),
    pytest.param({"resolution_s": 1.5}, {"resolution_s"}, id="fractional-target"),
    pytest.param({"resolution_s": True}, {"resolution_s"}, id="boolean-target"),
    pytest.param({"resolution_s": "3600"}, {"resolution_s"}, id="text-target"),
    pytest.param({"resolution_s": 10**9}, {"resolution_s"}, id="target-beyond-a-year"),
    pytest.param({"first_response_s": None, "resolution_s": None}, {"first_response_s"},
                 id="no-target-at-all"),
    pytest.param({"warn_at_fraction": 1}, {"warn_at_fraction"}, id="fraction-1"),
    pytest.param({"warn_at_fraction": 0}, {"warn_at_fraction"}, id="fraction-0"),
    pytest.param({"warn_at_fraction": "0.8"}, {"warn_at_fraction"}, id="fraction-text"),
    pytest.param({"case_type": "klacht"}, {"case_type"}, id="unknown-case-type"),
    pytest.param({"priority": 5}, {"priority"}, id="unknown-priority"),
    pytest.param({"channel": "fax"}, {"channel"}, id="unknown-channel"),
    pytest.param({"segment": ""}, {"segment"}, id="blank-segment"),
    pytest.param({"calendar_id": None}, {"calendar_id"}, id="no-calendar"),
    pytest.param({"target": 60}, {"target"}, id="unknown-key"),
    pytest.param({"id": "", "name": None, "warn_at_fraction": 2},
                 {"id", "name", "warn_at_fraction"}, id="every-problem-at-once"),
])
def test_policy_from_document_names_problems_by_path(changes: dict[str, object],
                                                     expected: set[str]) -> None:
    document = {**COMPLAINT.to_document(), **changes}

    with pytest.raises(InvalidInput) as raised:
        SlaPolicy.from_document(document)
    assert set(raised.value.reasons) == expected


def test_policy_from_document_refuses_a_non_object() -> None:
    with pytest.raises(InvalidInput) as raised:
        SlaPolicy.from_document("sla_standard")
    assert raised.value.reasons == {"policy": "must be an object"}


@pytest.mark.parametrize(("changes", "expected"), [
    pytest.param({"warn_at_fraction": 1.0}, {"warn_at_fraction"}, id="fraction"),
    pytest.param({"first_response_s": 0, "case_type": "klacht"},
                 {"first_response_s", "case_type"}, id="target-and-type"),
])
def test_a_policy_built_in_code_is_checked_too(changes: dict[str, Any],
                                               expected: set[str]) -> None:
    with pytest.raises(InvalidInput) as raised:
        dataclasses.replace(COMPLAINT, **changes)
    assert set(raised.value.reasons) == expected


# --- the clock as stored ---------------------------------------------------------------------


def test_every_clock_field_has_its_column() -> None:
    fields = {f.name for f in dataclasses.fields(SlaClock)}

    assert fields | {"next_deadline"} == set(sla_clocks.c.keys())


@pytest.mark.parametrize(("state", "expected"), [
    pytest.param({}, "warn", id="running"),
    pytest.param({"warned": True}, "due", id="warned"),
    pytest.param({"warned": True, "breached": True}, None, id="breached"),
    pytest.param({"warn_at": None}, "due", id="no-warning"),
    pytest.param({"paused_at": local(23, 9), "running_since": None}, None, id="paused"),
    pytest.param({"stopped_at": local(23, 9), "running_since": None}, None, id="stopped"),
])
def test_next_deadline(state: dict[str, Any], expected: str | None) -> None:
    clock = dataclasses.replace(clock_for(), **state)
    moments = {"warn": local(23, 9, 12), "due": local(23, 10), None: None}

    assert clock.next_deadline == moments[expected]
