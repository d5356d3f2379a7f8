"""Business calendars: opening hours in local wall-clock time, Dutch holidays, closed dates,
daylight-saving changes, and deadlines counted in open seconds only."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.domain.errors import InvalidInput
from core.domain.sla import CalendarSpec, OpeningHours
from routing.calendar import BusinessCalendar, validate_spec

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
HOUR = 3600
OFFICE = BusinessCalendar(CalendarSpec.office_hours_nl())
ALWAYS = BusinessCalendar(CalendarSpec.around_the_clock())


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0,
          second: int = 0) -> datetime:
    """An Amsterdam wall-clock moment, as the UTC the calendar answers in."""
    return datetime(year, month, day, hour, minute, second, tzinfo=AMSTERDAM).astimezone(UTC)


def office(**changes: Any) -> CalendarSpec:
    return replace(CalendarSpec.office_hours_nl(), **changes)


def hours(*stretches: tuple[int, str, str]) -> tuple[OpeningHours, ...]:
    return tuple(OpeningHours(weekday=day, opens=time.fromisoformat(opens),
                              closes=time.fromisoformat(closes))
                 for day, opens, closes in stretches)


# --- deadlines -------------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "seconds", "expected"), [
    # Friday 15:00: three hours left on Friday, the rest from Monday 09:00.
    pytest.param(local(2026, 11, 20, 15), 4 * HOUR, local(2026, 11, 23, 10), id="friday-4h"),
    pytest.param(local(2026, 11, 20, 15), 0.8 * 4 * HOUR, local(2026, 11, 23, 9, 12),
                 id="friday-4h-warning-at-80%"),
    pytest.param(local(2026, 11, 21, 11), 1 * HOUR, local(2026, 11, 23, 10),
                 id="saturday-counts-from-monday-0900"),
    pytest.param(local(2026, 11, 22, 23, 59), 30, local(2026, 11, 23, 9, 0, 30),
                 id="sunday-night"),
    pytest.param(local(2026, 11, 24, 19, 30), 30 * 60, local(2026, 11, 25, 9, 30),
                 id="after-closing-time"),
    pytest.param(local(2026, 11, 24, 7), 30 * 60, local(2026, 11, 24, 9, 30),
                 id="before-opening-time"),
    pytest.param(local(2026, 11, 24, 17), 1 * HOUR, local(2026, 11, 24, 18),
                 id="used-up-exactly-at-closing-time"),
    pytest.param(local(2026, 11, 24, 18), 0, local(2026, 11, 25, 9),
                 id="nothing-from-closed-is-the-next-opening"),
    pytest.param(local(2026, 11, 24, 10), 0, local(2026, 11, 24, 10), id="nothing-while-open"),
    pytest.param(local(2026, 11, 23, 9), 5 * 9 * HOUR + 1, local(2026, 11, 30, 9, 0, 1),
                 id="a-whole-week"),
    pytest.param(local(2026, 4, 24, 17), 2 * HOUR, local(2026, 4, 28, 10),
                 id="kings-day-monday-27-april"),
    pytest.param(local(2026, 12, 24, 17), 2 * HOUR, local(2026, 12, 28, 10),
                 id="christmas-25-and-26-december"),
    pytest.param(local(2026, 4, 4, 12), 1 * HOUR, local(2026, 4, 7, 10),
                 id="easter-monday-6-april"),
    pytest.param(local(2026, 4, 2, 18), 1 * HOUR, local(2026, 4, 7, 10),
                 id="good-friday-to-easter-monday"),
    pytest.param(local(2026, 12, 31, 17), 2 * HOUR, local(2027, 1, 4, 10),
                 id="new-years-day-in-the-next-year"),
])
def test_add_business_seconds_in_office_hours(start: datetime, seconds: float,
                                              expected: datetime) -> None:
    due = OFFICE.add_business_seconds(start, seconds)

    assert due == expected
    assert due.tzinfo is UTC


def test_a_configured_closed_date_is_skipped() -> None:
    calendar = BusinessCalendar(office(closed_dates=(date(2026, 12, 24),)))
    wednesday_afternoon = local(2026, 12, 23, 17)

    assert OFFICE.add_business_seconds(wednesday_afternoon, 2 * HOUR) == local(2026, 12, 24, 10)
    assert calendar.add_business_seconds(wednesday_afternoon, 2 * HOUR) == local(2026, 12, 28, 10)
    assert not calendar.is_open(local(2026, 12, 24, 12))


def test_holidays_follow_the_subdivision() -> None:
    bavaria = BusinessCalendar(office(id="by", timezone="Europe/Berlin", holiday_country="DE",
                                      holiday_subdivision="BY"))
    berlin = BusinessCalendar(office(id="be", timezone="Europe/Berlin", holiday_country="DE",
                                     holiday_subdivision="BE"))
    epiphany = datetime(2026, 1, 6, 12, tzinfo=ZoneInfo("Europe/Berlin"))

    assert not bavaria.is_open(epiphany)
    assert berlin.is_open(epiphany)


def test_without_a_holiday_country_holidays_are_working_days() -> None:
    calendar = BusinessCalendar(office(holiday_country=None))

    assert calendar.is_open(local(2026, 4, 27, 12))
    assert not OFFICE.is_open(local(2026, 4, 27, 12))


@pytest.mark.parametrize(("start", "seconds", "expected"), [
    # Spring forward, Sunday 29 March 2026: that local day has 23 hours.
    pytest.param(local(2026, 3, 28, 12), 24 * HOUR, local(2026, 3, 29, 13), id="spring-24x7"),
    pytest.param(local(2026, 3, 29, 1, 30), 1 * HOUR, local(2026, 3, 29, 3, 30),
                 id="spring-24x7-across-the-jump"),
    # Fall back, Sunday 25 October 2026: that local day has 25 hours.
    pytest.param(local(2026, 10, 24, 12), 24 * HOUR, local(2026, 10, 25, 11), id="autumn-24x7"),
    pytest.param(local(2026, 10, 25, 0), 25 * HOUR, local(2026, 10, 26, 0),
                 id="autumn-24x7-a-whole-local-day"),
])
def test_around_the_clock_counts_real_time_across_daylight_saving(
        start: datetime, seconds: float, expected: datetime) -> None:
    assert ALWAYS.add_business_seconds(start, seconds) == expected
    assert expected - start == timedelta(seconds=seconds)


@pytest.mark.parametrize(("start", "seconds", "expected", "expected_utc"), [
    # 09:00 local stays 09:00 local: 08:00 UTC in winter, 07:00 UTC in summer.
    pytest.param(local(2026, 3, 27, 17), 2 * HOUR, local(2026, 3, 30, 10),
                 datetime(2026, 3, 30, 8, tzinfo=UTC), id="into-summer-time"),
    pytest.param(local(2026, 10, 23, 17), 2 * HOUR, local(2026, 10, 26, 10),
                 datetime(2026, 10, 26, 9, tzinfo=UTC), id="into-winter-time"),
])
def test_office_hours_are_wall_clock_time_across_daylight_saving(
        start: datetime, seconds: float, expected: datetime, expected_utc: datetime) -> None:
    due = OFFICE.add_business_seconds(start, seconds)

    assert due == expected == expected_utc
    assert due.astimezone(AMSTERDAM).hour == 10


def test_opening_hours_on_the_day_the_clocks_change() -> None:
    sundays = BusinessCalendar(office(hours=hours((6, "09:00", "17:00")), holiday_country=None))
    nights = BusinessCalendar(office(hours=hours((6, "02:30", "03:30")), holiday_country=None))

    assert sundays.next_open(local(2026, 3, 29)) == datetime(2026, 3, 29, 7, tzinfo=UTC)
    assert sundays.next_open(local(2026, 10, 25)) == datetime(2026, 10, 25, 8, tzinfo=UTC)
    # 02:00-03:00 does not happen in spring: the stretch opens at the jump, 03:00 CEST.
    assert nights.business_seconds_between(local(2026, 3, 29), local(2026, 3, 30)) == 1800
    assert nights.next_open(local(2026, 3, 29)) == datetime(2026, 3, 29, 1, tzinfo=UTC)
    # It happens twice in autumn, so the stretch lasts two hours.
    assert nights.business_seconds_between(local(2026, 10, 25), local(2026, 10, 26)) == 7200


# --- open or closed --------------------------------------------------------------------------


@pytest.mark.parametrize(("calendar", "at", "expected"), [
    pytest.param(OFFICE, local(2026, 11, 23, 9), True, id="opening-time"),
    pytest.param(OFFICE, local(2026, 11, 23, 8, 59, 59), False, id="a-second-before"),
    pytest.param(OFFICE, local(2026, 11, 23, 17, 59, 59), True, id="a-second-before-closing"),
    pytest.param(OFFICE, local(2026, 11, 23, 18), False, id="closing-time"),
    pytest.param(OFFICE, local(2026, 11, 21, 12), False, id="saturday"),
    pytest.param(OFFICE, local(2026, 4, 27, 12), False, id="kings-day"),
    pytest.param(OFFICE, local(2026, 12, 25, 12), False, id="christmas"),
    pytest.param(ALWAYS, local(2026, 12, 25, 3), True, id="24x7-christmas-night"),
    pytest.param(ALWAYS, local(2026, 3, 29, 2, 30), True, id="24x7-during-the-jump"),
])
def test_is_open(calendar: BusinessCalendar, at: datetime, expected: bool) -> None:
    assert calendar.is_open(at) is expected


def test_is_open_reads_any_timezone() -> None:
    # 08:30 in London is 09:30 in Amsterdam.
    assert OFFICE.is_open(datetime(2026, 11, 23, 8, 30, tzinfo=ZoneInfo("Europe/London")))


@pytest.mark.parametrize(("at", "expected"), [
    pytest.param(local(2026, 11, 23, 10, 15), local(2026, 11, 23, 10, 15), id="open-itself"),
    pytest.param(local(2026, 11, 20, 18), local(2026, 11, 23, 9), id="friday-closing"),
    pytest.param(local(2026, 11, 22, 9), local(2026, 11, 23, 9), id="sunday"),
    pytest.param(local(2026, 12, 24, 20), local(2026, 12, 28, 9), id="christmas"),
])
def test_next_open(at: datetime, expected: datetime) -> None:
    assert OFFICE.next_open(at) == expected


def test_a_calendar_that_never_opens_gives_up_instead_of_walking_forever() -> None:
    mondays = [date(2026, 1, 5) + timedelta(weeks=n) for n in range(200)]
    calendar = BusinessCalendar(office(hours=hours((0, "09:00", "17:00")),
                                       closed_dates=tuple(mondays)))

    with pytest.raises(InvalidInput) as raised:
        calendar.add_business_seconds(local(2026, 1, 1), HOUR)
    assert set(raised.value.reasons) == {"hours"}


@pytest.mark.parametrize("call", [
    pytest.param(lambda: OFFICE.is_open(datetime(2026, 11, 23, 10)), id="is_open"),
    pytest.param(lambda: OFFICE.next_open(datetime(2026, 11, 23, 10)), id="next_open"),
    pytest.param(lambda: OFFICE.add_business_seconds(datetime(2026, 11, 23, 10), 1),
                 id="add_business_seconds"),
    pytest.param(lambda: OFFICE.business_seconds_between(
        datetime(2026, 11, 23, 10), local(2026, 11, 24)), id="business_seconds_between"),
    pytest.param(lambda: OFFICE.add_business_seconds(local(2026, 11, 23, 10), -1),
                 id="negative-seconds"),
])
def test_naive_moments_and_negative_durations_are_refused(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError):
        call()


# --- business seconds between ----------------------------------------------------------------


@pytest.mark.parametrize(("start", "end", "expected"), [
    pytest.param(local(2026, 11, 20, 15), local(2026, 11, 23, 10), 4 * HOUR, id="weekend"),
    pytest.param(local(2026, 11, 23, 10), local(2026, 11, 20, 15), -4 * HOUR, id="reversed"),
    pytest.param(local(2026, 11, 21, 10), local(2026, 11, 22, 20), 0, id="all-closed"),
    pytest.param(local(2026, 11, 23, 12), local(2026, 11, 23, 12), 0, id="empty"),
    pytest.param(local(2026, 11, 23), local(2026, 11, 30), 5 * 9 * HOUR, id="a-week"),
    pytest.param(local(2026, 4, 24, 12), local(2026, 4, 28, 12), 6 * HOUR + 3 * HOUR,
                 id="kings-day"),
])
def test_business_seconds_between(start: datetime, end: datetime, expected: float) -> None:
    assert OFFICE.business_seconds_between(start, end) == expected


SPREAD = timedelta(days=3, hours=5, minutes=17, seconds=13)  # lands on every hour and weekday
STARTS = [local(2026, 3, 20, 6) + n * SPREAD for n in range(48)]  # March to September
DURATIONS = [0, 1, 59.5, HOUR, 4 * HOUR, 9 * HOUR + 1, 30 * HOUR, 100 * HOUR]


@pytest.mark.parametrize("calendar", [OFFICE, ALWAYS], ids=["office", "24x7"])
def test_business_seconds_between_inverts_add_business_seconds(
        calendar: BusinessCalendar) -> None:
    for n, start in enumerate(STARTS):
        seconds = DURATIONS[n % len(DURATIONS)]
        due = calendar.add_business_seconds(start, seconds)
        assert due >= start
        assert calendar.business_seconds_between(start, due) == pytest.approx(
            seconds, abs=1e-5), (start, seconds)


@pytest.mark.parametrize("calendar", [OFFICE, ALWAYS], ids=["office", "24x7"])
def test_add_business_seconds_inverts_business_seconds_between(
        calendar: BusinessCalendar) -> None:
    for n, start in enumerate(STARTS):
        end = start + timedelta(hours=7 * n + 3, minutes=11 * n)
        between = calendar.business_seconds_between(start, end)
        reached = calendar.add_business_seconds(start, between)
        if between == 0:  # nothing to use up: the answer is the next opening
            assert reached == calendar.next_open(start)
            continue
        # Where the end is closed, the time used up ran out at the last closing before it.
        assert reached <= end
        assert calendar.business_seconds_between(reached, end) == 0
        if calendar.is_open(end):
            assert reached == end


# --- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(("spec", "expected"), [
    pytest.param(office(timezone="Europe/Amsterdamm"), {"timezone"}, id="unknown-timezone"),
    pytest.param(office(timezone="../etc/passwd"), {"timezone"}, id="path-as-timezone"),
    pytest.param(office(holiday_country="XX"), {"holiday_country"}, id="unknown-country"),
    pytest.param(office(holiday_subdivision="XX"), {"holiday_subdivision"},
                 id="unknown-subdivision"),
    pytest.param(office(holiday_country=None, holiday_subdivision="Noord"),
                 {"holiday_subdivision"}, id="subdivision-without-country"),
    pytest.param(office(hours=hours((0, "09:00", "17:00"), (1, "17:00", "09:00"))),
                 {"hours[1].closes"}, id="closes-before-opens"),
    pytest.param(office(hours=hours((0, "09:00", "09:00"))), {"hours[0].closes"},
                 id="closes-when-opens"),
    pytest.param(office(hours=hours((0, "09:00", "12:00"), (1, "09:00", "12:00"),
                                    (0, "11:00", "17:00"))),
                 {"hours[2]"}, id="overlapping-stretches"),
    pytest.param(office(hours=hours((7, "09:00", "12:00"))), {"hours[0].weekday"},
                 id="no-such-weekday"),
    pytest.param(office(hours=()), {"hours"}, id="never-open"),
    pytest.param(office(timezone="Mars/Olympus", holiday_country="XX", hours=()),
                 {"timezone", "holiday_country", "hours"}, id="every-problem-at-once"),
])
def test_validate_spec_names_every_problem_by_path(spec: CalendarSpec,
                                                   expected: set[str]) -> None:
    with pytest.raises(InvalidInput) as raised:
        validate_spec(spec)
    assert set(raised.value.reasons) == expected
    with pytest.raises(InvalidInput):
        BusinessCalendar(spec)


@pytest.mark.parametrize("spec", [
    pytest.param(CalendarSpec.office_hours_nl(), id="office"),
    pytest.param(CalendarSpec.around_the_clock(), id="24x7"),
    pytest.param(office(hours=hours((0, "09:00", "12:00"), (0, "12:00", "17:00"))),
                 id="adjacent-stretches"),
    pytest.param(office(holiday_subdivision="Noord"), id="nl-subdivision"),
    pytest.param(office(timezone="America/New_York", holiday_country="US",
                        holiday_subdivision="NY"), id="new-york"),
])
def test_validate_spec_accepts(spec: CalendarSpec) -> None:
    validate_spec(spec)


def test_validate_spec_prefixes_paths() -> None:
    with pytest.raises(InvalidInput) as raised:
        validate_spec(office(hours=hours((0, "18:00", "09:00"))), prefix="calendars[3]")
    assert set(raised.value.reasons) == {"calendars[3].hours[0].closes"}


# --- documents -------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", [
    pytest.param(CalendarSpec.office_hours_nl(), id="office"),
    pytest.param(CalendarSpec.around_the_clock(), id="24x7"),
    pytest.param(office(id="cal_north", name="Noord", holiday_subdivision="Noord",
                        hours=hours((0, "08:30", "12:15:30"), (6, "10:00", "14:00")),
                        closed_dates=(date(2026, 12, 24), date(2026, 12, 31))),
                 id="everything-set"),
])
def test_calendar_spec_round_trips_through_json(spec: CalendarSpec) -> None:
    document = json.loads(json.dumps(spec.to_document()))

    assert CalendarSpec.from_document(document) == spec


def test_calendar_document_is_readable() -> None:
    document = CalendarSpec.office_hours_nl().to_document()

    assert document["hours"][0] == {"weekday": "monday", "opens": "09:00",  # type: ignore[index]
                                    "closes": "18:00"}
    assert document["holiday_country"] == "NL"


@pytest.mark.parametrize("weekday", [0, "monday", "Mon", "MONDAY"])
def test_calendar_document_weekdays(weekday: object) -> None:
    spec = CalendarSpec.from_document({"id": "c", "name": "C", "hours": [
        {"weekday": weekday, "opens": "09:00", "closes": "17:00"}]})

    assert spec.hours == hours((0, "09:00", "17:00"))
    assert spec.timezone == "Europe/Amsterdam"
    assert spec.holiday_country == "NL"


HOURS_OK = {"weekday": 0, "opens": "09:00", "closes": "17:00"}


@pytest.mark.parametrize(("changes", "expected"), [
    pytest.param({"hours": [HOURS_OK, HOURS_OK, {**HOURS_OK, "opens": "9am"}]},
                 {"hours[2].opens": "must be a time of day, \"HH:MM\""}, id="bad-time"),
    pytest.param({"hours": [{**HOURS_OK, "opens": "24:00"}]},
                 {"hours[0].opens": "must be a time of day, \"HH:MM\""}, id="hour-24"),
    pytest.param({"hours": [{**HOURS_OK, "closes": "08:00"}]},
                 {"hours[0].closes": "must be after opens (a stretch ends by midnight)"},
                 id="closes-before-opens"),
    pytest.param({"hours": [{**HOURS_OK, "weekday": 7}]},
                 {"hours[0].weekday": "must be 0 (Monday)..6 (Sunday) or a day name"},
                 id="bad-weekday"),
    pytest.param({"hours": [{**HOURS_OK, "day": 1}]},
                 {"hours[0].day": "unknown key; expected weekday, opens, closes"},
                 id="unknown-hours-key"),
    pytest.param({"hours": ["mon 9-17"]},
                 {"hours[0]": "must be an object with weekday, opens and closes"},
                 id="hours-not-an-object"),
    pytest.param({"hours": "mon-fri"}, {"hours": "must be a list of at most 100 opening hours"},
                 id="hours-not-a-list"),
    pytest.param({"closed_dates": ["2026-12-24", "24-12-2026", "2026-02-30"]},
                 {"closed_dates[1]": "must be a date, \"YYYY-MM-DD\"",
                  "closed_dates[2]": "must be a date, \"YYYY-MM-DD\""}, id="bad-dates"),
    pytest.param({"always_open": "yes"}, {"always_open": "must be true or false"},
                 id="flag-not-bool"),
    pytest.param({"id": "has space"},
                 {"id": "must be letters, digits, '_', '-', '.' or ':', at most 100, "
                        "starting with a letter or digit"}, id="bad-id"),
    pytest.param({"name": "  "}, {"name": "must be a non-blank text of at most 200 characters"},
                 id="blank-name"),
    pytest.param({"holiday_country": 31},
                 {"holiday_country": "must be a non-blank text of at most 100 characters"},
                 id="country-not-text"),
])
def test_calendar_from_document_names_problems_by_path(changes: dict[str, object],
                                                       expected: dict[str, str]) -> None:
    document = {**CalendarSpec.office_hours_nl().to_document(), **changes}

    with pytest.raises(InvalidInput) as raised:
        CalendarSpec.from_document(document)
    assert raised.value.reasons == expected


def test_calendar_from_document_refuses_unknown_keys_and_non_objects() -> None:
    with pytest.raises(InvalidInput) as raised:
        CalendarSpec.from_document({**CalendarSpec.around_the_clock().to_document(),
                                    "tz": "UTC"})
    assert set(raised.value.reasons) == {"tz"}
    with pytest.raises(InvalidInput) as raised:
        CalendarSpec.from_document(["cal_24x7"])
    assert set(raised.value.reasons) == {"calendar"}


def test_a_calendar_spec_keeps_its_own_copies() -> None:
    closed = [date(2026, 12, 24)]
    spec = office(closed_dates=closed)
    closed.append(date(2026, 12, 31))

    assert spec.closed_dates == (date(2026, 12, 24),)
