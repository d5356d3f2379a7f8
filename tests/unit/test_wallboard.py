"""The wallboard's maths on the test clock: where "today" begins, what a first response
counts for in today's service level, and which clocks are warnings or breaches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.domain.contact import CaseStatus
from core.domain.sla import CalendarSpec, SlaClock, SlaKind, SlaPolicy
from core.ports import BoardClock
from routing.calendar import BusinessCalendar
from routing.sla import evaluate, pause, start_clock, stop
from routing.wallboard import (
    AlertState,
    Outcome,
    ServiceLevel,
    alert_state,
    day_start,
    first_response_outcome,
)
from tests.support.clock import FakeClock

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
HOUR = 3600
OFFICE = BusinessCalendar(CalendarSpec.office_hours_nl())
# One business hour to answer, warned at 80%: 48 minutes.
FAST = SlaPolicy(id="sla_fast", name="Fast", calendar_id=OFFICE.id, first_response_s=HOUR,
                 resolution_s=8 * HOUR)


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A wall-clock moment in Amsterdam in November 2026, as UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=AMSTERDAM).astimezone(UTC)


TUESDAY = day_start(AMSTERDAM, local(17, 12))
WEDNESDAY = day_start(AMSTERDAM, local(18, 12))


def on_board(clock: SlaClock, *, status: CaseStatus = CaseStatus.OPEN,
             first_responded_at: datetime | None = None,
             resolved_at: datetime | None = None) -> BoardClock:
    return BoardClock(clock=clock, case_number=1001, queue_id="q_general", case_status=status,
                      first_responded_at=first_responded_at, resolved_at=resolved_at,
                      closed_at=None)


def started(time: FakeClock, kind: SlaKind = SlaKind.FIRST_RESPONSE) -> SlaClock:
    clock = start_clock(clock_id="sla_1", case_id="cas_1", kind=kind, policy=FAST,
                        calendar=OFFICE, at=time.now())
    assert clock is not None
    return clock


def outcome(board_clock: BoardClock, time: FakeClock) -> Outcome | None:
    now = time.now()
    return first_response_outcome(board_clock, OFFICE, since=day_start(AMSTERDAM, now),
                                  now=now)


# --- where today begins ---------------------------------------------------------------------


@pytest.mark.parametrize(("now", "zone", "midnight"), [
    # Winter: Amsterdam is UTC+1.
    (datetime(2026, 11, 17, 9, 30, tzinfo=UTC), "Europe/Amsterdam",
     datetime(2026, 11, 16, 23, 0, tzinfo=UTC)),
    # Just after local midnight, still the previous day in UTC.
    (datetime(2026, 11, 16, 23, 0, 1, tzinfo=UTC), "Europe/Amsterdam",
     datetime(2026, 11, 16, 23, 0, tzinfo=UTC)),
    # Just before local midnight.
    (datetime(2026, 11, 16, 22, 59, 59, tzinfo=UTC), "Europe/Amsterdam",
     datetime(2026, 11, 15, 23, 0, tzinfo=UTC)),
    # Summer: UTC+2.
    (datetime(2026, 7, 1, 12, 0, tzinfo=UTC), "Europe/Amsterdam",
     datetime(2026, 6, 30, 22, 0, tzinfo=UTC)),
    # The day the clocks go forward at 02:00: the day began in winter time (23 hours long).
    (datetime(2026, 3, 29, 12, 0, tzinfo=UTC), "Europe/Amsterdam",
     datetime(2026, 3, 28, 23, 0, tzinfo=UTC)),
    # The day they go back at 03:00: began in summer time (25 hours long).
    (datetime(2026, 10, 25, 20, 0, tzinfo=UTC), "Europe/Amsterdam",
     datetime(2026, 10, 24, 22, 0, tzinfo=UTC)),
    # Santiago skips from 00:00 to 01:00: the day begins at the jump.
    (datetime(2026, 9, 6, 12, 0, tzinfo=UTC), "America/Santiago",
     datetime(2026, 9, 6, 4, 0, tzinfo=UTC)),
])
def test_the_day_begins_at_local_midnight(now: datetime, zone: str,
                                          midnight: datetime) -> None:
    tz = ZoneInfo(zone)
    begins = day_start(tz, now)
    assert begins == midnight
    assert begins.astimezone(tz).date() == now.astimezone(tz).date()
    assert (begins - timedelta(microseconds=1)).astimezone(tz).date() \
        < now.astimezone(tz).date()


def test_the_day_needs_an_aware_moment() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        day_start(AMSTERDAM, datetime(2026, 11, 17, 12))


# --- service level ---------------------------------------------------------------------------


def test_a_first_response_within_target_counts_in_target() -> None:
    time = FakeClock(local(17, 10))
    clock = started(time)
    time.advance(timedelta(minutes=59))
    stop(clock, OFFICE, time.now())
    assert outcome(on_board(clock), time) is Outcome.IN_TARGET


def test_exactly_on_target_is_in_target_and_a_second_more_is_late() -> None:
    time = FakeClock(local(17, 10))
    on_time, late = started(time), started(time)
    time.advance(timedelta(hours=1))
    stop(on_time, OFFICE, time.now())
    time.advance(timedelta(seconds=1))
    stop(late, OFFICE, time.now())
    assert outcome(on_board(on_time), time) is Outcome.IN_TARGET
    assert outcome(on_board(late), time) is Outcome.LATE


def test_the_target_counts_business_time_only() -> None:
    # Asked at 17:30, answered at 09:20 the next morning: 50 business minutes.
    time = FakeClock(local(17, 17, 30))
    clock = started(time)
    time.set(local(18, 9, 20))
    stop(clock, OFFICE, time.now())
    assert outcome(on_board(clock), time) is Outcome.IN_TARGET


def test_an_answer_the_clock_has_not_heard_of_yet_counts_from_the_case() -> None:
    # The agent replied at 11:30; the SLA follower has not stopped the clock yet.
    time = FakeClock(local(17, 10))
    clock = started(time)
    time.advance(timedelta(minutes=90))
    replied = time.now()
    time.advance(timedelta(seconds=2))
    assert outcome(on_board(clock, first_responded_at=replied), time) is Outcome.LATE
    assert outcome(on_board(clock, first_responded_at=local(17, 10, 30)), time) \
        is Outcome.IN_TARGET


def test_resolving_without_a_reply_answers_it_too() -> None:
    time = FakeClock(local(17, 10))
    clock = started(time)
    time.advance(timedelta(minutes=20))
    board_clock = on_board(clock, status=CaseStatus.RESOLVED, resolved_at=time.now())
    assert outcome(board_clock, time) is Outcome.IN_TARGET


def test_an_answer_given_yesterday_does_not_count_today() -> None:
    time = FakeClock(local(17, 10))
    clock = started(time)
    time.advance(timedelta(minutes=30))
    stop(clock, OFFICE, time.now())
    assert outcome(on_board(clock), time) is Outcome.IN_TARGET
    time.set(local(18, 0, 1))  # just past midnight
    assert outcome(on_board(clock), time) is None


def test_unanswered_past_target_today_is_overdue_and_earlier_days_are_not_todays() -> None:
    time = FakeClock(local(17, 10))
    clock = started(time)  # due at 11:00
    time.set(local(17, 10, 59))
    assert outcome(on_board(clock), time) is None  # not due yet: not counted
    time.set(local(17, 11))
    assert outcome(on_board(clock), time) is Outcome.OVERDUE
    time.set(local(18, 9))
    assert outcome(on_board(clock), time) is None  # overdue since yesterday
    assert alert_state(on_board(clock), time.now()) is AlertState.BREACH  # but shown


def test_a_paused_clock_is_not_overdue() -> None:
    time = FakeClock(local(17, 10))
    clock = started(time)
    time.advance(timedelta(minutes=30))
    pause(clock, OFFICE, time.now())
    time.advance(timedelta(hours=3))
    assert outcome(on_board(clock, status=CaseStatus.PENDING), time) is None
    assert alert_state(on_board(clock, status=CaseStatus.PENDING), time.now()) is None


def test_resolution_clocks_do_not_count_in_the_service_level() -> None:
    time = FakeClock(local(17, 10))
    clock = started(time, SlaKind.RESOLUTION)
    time.advance(timedelta(minutes=5))
    stop(clock, OFFICE, time.now())
    assert outcome(on_board(clock), time) is None


def test_the_service_level_is_in_target_over_answered_and_overdue() -> None:
    level = ServiceLevel()
    assert level.ratio is None  # nothing to count yet: no level, not 0 or 100%
    for result in (Outcome.IN_TARGET, Outcome.IN_TARGET, Outcome.LATE, Outcome.OVERDUE):
        level.add(result)
    assert (level.in_target, level.late, level.overdue) == (2, 1, 1)
    assert level.answered == 3
    assert level.ratio == 0.5


def test_a_day_of_contacts_on_the_test_clock() -> None:
    # Tuesday: three questions at 10:00. One answered at 10:20, one at 11:30 (late), one
    # never; at 12:00 the level is one in target of three counted.
    time = FakeClock(local(17, 10))
    quick, slow, forgotten = (started(time) for _ in range(3))
    time.set(local(17, 10, 20))
    stop(quick, OFFICE, time.now())
    time.set(local(17, 11, 30))
    stop(slow, OFFICE, time.now())
    time.set(local(17, 12))
    level = ServiceLevel()
    for clock in (quick, slow, forgotten):
        result = outcome(on_board(clock), time)
        assert result is not None
        level.add(result)
    assert (level.in_target, level.late, level.overdue) == (1, 1, 1)
    assert level.ratio == pytest.approx(1 / 3)
    # Wednesday starts empty: yesterday's answers and breaches are yesterday's.
    time.set(local(18, 9, 5))
    assert [outcome(on_board(c), time) for c in (quick, slow, forgotten)] == [None] * 3


# --- SLA alerts ------------------------------------------------------------------------------


def test_alerts_follow_the_deadlines_even_before_the_timer_fires() -> None:
    time = FakeClock(local(17, 10))
    clock = started(time)  # warns at 10:48, due at 11:00
    time.set(local(17, 10, 47))
    assert alert_state(on_board(clock), time.now()) is None
    time.set(local(17, 10, 48))
    assert alert_state(on_board(clock), time.now()) is AlertState.WARNING
    assert not clock.warned  # the timer has not run: the times decide
    evaluate(clock, time.now())
    assert clock.warned
    time.set(local(17, 11))
    assert alert_state(on_board(clock), time.now()) is AlertState.BREACH


def test_answered_or_ended_cases_raise_no_alerts() -> None:
    time = FakeClock(local(17, 10))
    first, resolution = started(time), started(time, SlaKind.RESOLUTION)
    time.set(local(17, 17))  # first response due at 11:00; resolution warns at 16:24
    assert alert_state(on_board(first), time.now()) is AlertState.BREACH
    answered = on_board(first, first_responded_at=local(17, 15))
    assert alert_state(answered, time.now()) is None
    # Answering does not meet the resolution target.
    assert alert_state(on_board(resolution, first_responded_at=local(17, 15)),
                       time.now()) is AlertState.WARNING
    for status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
        assert alert_state(on_board(resolution, status=status), time.now()) is None
    stop(resolution, OFFICE, time.now())
    assert alert_state(on_board(resolution), time.now()) is None
