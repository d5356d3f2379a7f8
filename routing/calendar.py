"""Business time: when a calendar is open, and deadlines counted in open seconds only.

Opening hours are local wall-clock time in the calendar's timezone, so the desk that opens
at 09:00 opens at 09:00 on both sides of a daylight-saving change; an always-open day is
local midnight to local midnight, 23 or 25 hours long on the days the clocks change.
Every answer is an aware UTC datetime.

The arithmetic walks open intervals, one per stretch of opening hours, never seconds or
minutes, so a deadline a week out costs a few dozen steps.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from core.domain.errors import InvalidInput
from core.domain.sla import CalendarSpec

# How far ahead to look for the next open moment before calling the calendar never open.
HORIZON = timedelta(days=3 * 366)
_DAY = timedelta(days=1)
_WHOLE_DAY = ((time(0), None),)  # None: until the next local midnight

Interval = tuple[datetime, datetime]  # [start, end) in UTC


class BusinessCalendar:
    """Business-time arithmetic over one ``CalendarSpec``; raises ``InvalidInput`` when the
    spec is not one it can count in (see ``validate_spec``)."""

    __slots__ = ("_closed", "_hours", "_zone", "spec")

    def __init__(self, spec: CalendarSpec) -> None:
        validate_spec(spec)
        self.spec = spec
        self._zone = ZoneInfo(spec.timezone)
        self._hours = _merged_hours(spec)
        self._closed = frozenset(spec.closed_dates)

    @property
    def id(self) -> str:
        return self.spec.id

    def is_open(self, at: datetime) -> bool:
        at = _utc(at, "at")
        return any(start <= at < end for start, end in self._intervals_on(self._day(at)))

    def next_open(self, at: datetime) -> datetime:
        """*at* itself when open, else the moment the calendar next opens."""
        at = _utc(at, "at")
        for start, _end in self._open_from(at):
            return start
        raise AssertionError("unreachable: _open_from raises when nothing is open")

    def add_business_seconds(self, start: datetime, seconds: float) -> datetime:
        """The moment *seconds* of open time after *start* have passed.

        A deadline that uses up an open stretch exactly falls at its closing time, not at
        the next opening; zero seconds from a closed moment is the next opening."""
        start = _utc(start, "start")
        if seconds < 0:
            raise ValueError(f"seconds must not be negative, not {seconds}")
        remaining = float(seconds)
        for begin, end in self._open_from(start):
            available = (end - begin).total_seconds()
            if remaining <= available:
                return begin + timedelta(seconds=remaining)
            remaining -= available
        raise AssertionError("unreachable: _open_from raises when nothing is open")

    def business_seconds_between(self, start: datetime, end: datetime) -> float:
        """Open seconds from *start* to *end*; negative when *end* comes first."""
        start, end = _utc(start, "start"), _utc(end, "end")
        if end < start:
            return -self.business_seconds_between(end, start)
        total = 0.0
        day = self._day(start)
        last = self._day(end)
        while day <= last:
            for begin, finish in self._intervals_on(day):
                overlap = min(finish, end) - max(begin, start)
                if overlap > timedelta(0):
                    total += overlap.total_seconds()
            day += _DAY
        return total

    # --- intervals ---------------------------------------------------------------------------

    def _day(self, at: datetime) -> date:
        return at.astimezone(self._zone).date()

    def _open_from(self, at: datetime) -> Iterator[Interval]:
        """Open intervals from *at* on, the first clipped to start at *at*; raises when the
        calendar stays shut for longer than HORIZON, so no walk runs forever."""
        day = self._day(at)
        last_open = at
        while True:
            for begin, end in self._intervals_on(day):
                if end <= at:
                    continue
                yield max(begin, at), end
                at = last_open = end
            day += _DAY
            if self._local_midnight(day) - last_open > HORIZON:
                raise InvalidInput({"hours": f"calendar {self.spec.id!r} is not open at all "
                                             f"in the {HORIZON.days} days after "
                                             f"{last_open.isoformat()}"})

    def _intervals_on(self, day: date) -> list[Interval]:
        spec = self.spec
        if day in self._closed or (spec.holiday_country is not None and day in _holidays(
                spec.holiday_country, spec.holiday_subdivision, day.year)):
            return []
        stretches = _WHOLE_DAY if spec.always_open else self._hours[day.weekday()]
        intervals: list[Interval] = []
        for opens, closes in stretches:
            begin = self._utc_at(day, opens)
            end = self._local_midnight(day + _DAY) if closes is None \
                else self._utc_at(day, closes)
            # Stretches never overlap (validate_spec), but a daylight-saving change may
            # still bring one's start before the previous one's end.
            if intervals and begin < intervals[-1][1]:
                begin = intervals[-1][1]
            if end > begin:
                intervals.append((begin, end))
        return intervals

    def _utc_at(self, day: date, wall: time) -> datetime:
        local = datetime.combine(day, wall, tzinfo=self._zone)
        # fold=0: a wall time that happens twice (the clocks go back) is its first one.
        instant = local.astimezone(UTC)
        if instant.astimezone(self._zone).replace(tzinfo=None) == local.replace(tzinfo=None):
            return instant
        # A wall time the clocks skip: the stretch starts or ends at the jump itself, the
        # first instant the wall clock reads later. Transitions fall on whole seconds.
        low = int(local.replace(fold=1).astimezone(UTC).timestamp())
        high = int(instant.timestamp())
        after = instant.astimezone(self._zone).utcoffset()
        while high - low > 1:
            middle = (low + high) // 2
            if datetime.fromtimestamp(middle, self._zone).utcoffset() == after:
                high = middle
            else:
                low = middle
        return datetime.fromtimestamp(high, UTC)

    def _local_midnight(self, day: date) -> datetime:
        return self._utc_at(day, time(0))



@lru_cache(maxsize=512)
def _holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    # Calendars are rebuilt with every configuration load; the holidays are not.
    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year))


def validate_spec(spec: CalendarSpec, *, prefix: str = "") -> None:
    """Raise ``InvalidInput`` with one reason per problem, keyed by the path of the field
    in the calendar document, each key prefixed with *prefix* and a dot when given
    (``calendars[0]`` gives ``calendars[0].hours[2].closes``)."""
    reasons: dict[str, str] = {}
    try:
        ZoneInfo(spec.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        reasons["timezone"] = f"unknown timezone {spec.timezone!r}; an IANA name such as " \
                              "'Europe/Amsterdam'"
    _check_holidays(spec, reasons)
    _check_hours(spec, reasons)
    if reasons:
        raise InvalidInput({f"{prefix}.{key}" if prefix else key: why
                            for key, why in reasons.items()})


def _check_holidays(spec: CalendarSpec, reasons: dict[str, str]) -> None:
    country, subdivision = spec.holiday_country, spec.holiday_subdivision
    if country is None:
        if subdivision is not None:
            reasons["holiday_subdivision"] = "needs a holiday_country"
        return
    supported = holidays.list_supported_countries()
    if country not in supported:
        reasons["holiday_country"] = f"unknown holiday country {country!r}; an ISO 3166 " \
                                     "code such as 'NL'"
    elif subdivision is not None and subdivision not in supported[country]:
        known = ", ".join(supported[country]) or "none"
        reasons["holiday_subdivision"] = f"unknown subdivision {subdivision!r} of " \
                                         f"{country} (known: {known})"


def _check_hours(spec: CalendarSpec, reasons: dict[str, str]) -> None:
    if not spec.hours and not spec.always_open:
        reasons["hours"] = "set opening hours, or always_open"
    seen: dict[int, list[tuple[int, time, time]]] = {}
    for index, hours in enumerate(spec.hours):
        path = f"hours[{index}]"
        if not 0 <= hours.weekday < 7:
            reasons[f"{path}.weekday"] = "must be 0 (Monday)..6 (Sunday)"
            continue
        if hours.opens >= hours.closes:
            reasons[f"{path}.closes"] = "must be after opens (a stretch ends by midnight)"
            continue
        for other, opens, closes in seen.get(hours.weekday, []):
            if hours.opens < closes and opens < hours.closes:
                reasons[path] = f"overlaps hours[{other}]"
                break
        seen.setdefault(hours.weekday, []).append((index, hours.opens, hours.closes))


def _merged_hours(spec: CalendarSpec) -> dict[int, tuple[tuple[time, time | None], ...]]:
    by_day: dict[int, tuple[tuple[time, time | None], ...]] = {}
    for weekday in range(7):
        stretches = sorted((h.opens, h.closes) for h in spec.hours if h.weekday == weekday)
        by_day[weekday] = tuple(stretches)
    return by_day


def _utc(at: datetime, name: str) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, not {at!r}")
    return at.astimezone(UTC)
