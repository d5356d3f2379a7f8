"""Service levels: the calendars business time is counted in, the policies that set the
targets, and the clocks that count a case's business time against them.

Pure data. The arithmetic over calendars lives in ``routing.calendar``; what happens to a
clock over a case's life lives in ``routing.sla``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any, TypeVar

from core.domain.channels import Channel
from core.domain.contact import CaseType, Priority
from core.domain.errors import InvalidInput

MAX_ID = 100  # the sla_clocks columns hold policy and calendar ids of at most 100 characters
MAX_NAME = 200
MAX_HOURS = 100
MAX_CLOSED_DATES = 1_000
# A target beyond a year of business time is a typo, and would make every deadline a walk
# through several years of calendar.
MAX_TARGET_S = 366 * 24 * 3600

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")
_TIME = re.compile(r"([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?")
_CALENDAR_KEYS = frozenset(("id", "name", "timezone", "hours", "always_open",
                            "holiday_country", "holiday_subdivision", "closed_dates"))
_HOURS_KEYS = frozenset(("weekday", "opens", "closes"))
_POLICY_KEYS = frozenset(("id", "name", "calendar_id", "case_type", "priority", "segment",
                          "channel", "first_response_s", "resolution_s", "warn_at_fraction"))

_E = TypeVar("_E")


@dataclass(frozen=True, slots=True, kw_only=True)
class OpeningHours:
    """One open stretch of one weekday, in the calendar's local wall-clock time."""

    weekday: int  # 0=Monday .. 6=Sunday, as date.weekday()
    opens: time
    closes: time  # after opens; a stretch does not run past midnight

    def to_document(self) -> dict[str, object]:
        return {"weekday": WEEKDAYS[self.weekday] if 0 <= self.weekday < 7 else self.weekday,
                "opens": _time_text(self.opens), "closes": _time_text(self.closes)}


@dataclass(frozen=True, slots=True, kw_only=True)
class CalendarSpec:
    """When business time runs. ``always_open`` means whole days; holidays and
    ``closed_dates`` still close it, which is how a 24x7 desk observes Christmas."""

    id: str
    name: str
    timezone: str = "Europe/Amsterdam"
    hours: tuple[OpeningHours, ...] = ()
    always_open: bool = False
    holiday_country: str | None = "NL"  # ISO 3166 code the holidays package knows
    holiday_subdivision: str | None = None
    closed_dates: tuple[date, ...] = ()

    def __post_init__(self) -> None:
        # Frozen means frozen: a caller's list must not change the calendar later.
        object.__setattr__(self, "hours", tuple(self.hours))
        object.__setattr__(self, "closed_dates", tuple(self.closed_dates))

    @classmethod
    def office_hours_nl(cls, id: str = "cal_office_nl") -> CalendarSpec:
        # 09:00-18:00: a four-hour target set on Friday at 15:00 falls due on Monday at
        # 10:00, which is what the desk promises its customers.
        return cls(id=id, name="Office hours (NL)", timezone="Europe/Amsterdam",
                   hours=tuple(OpeningHours(weekday=day, opens=time(9), closes=time(18))
                               for day in range(5)),
                   holiday_country="NL")

    @classmethod
    def around_the_clock(cls, id: str = "cal_24x7") -> CalendarSpec:
        return cls(id=id, name="24x7", timezone="Europe/Amsterdam", always_open=True,
                   holiday_country=None)

    def to_document(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "timezone": self.timezone,
                "hours": [h.to_document() for h in self.hours],
                "always_open": self.always_open, "holiday_country": self.holiday_country,
                "holiday_subdivision": self.holiday_subdivision,
                "closed_dates": [d.isoformat() for d in self.closed_dates]}

    @classmethod
    def from_document(cls, doc: object) -> CalendarSpec:
        """Read a calendar; raise ``InvalidInput`` with one reason per problem, keyed by its
        path (``hours[2].opens``). Whether the timezone and holiday country exist is
        ``routing.calendar.validate_spec``'s to say."""
        if not isinstance(doc, Mapping):
            raise InvalidInput({"calendar": "must be an object"})
        read = _Reader(doc, _CALENDAR_KEYS)
        values: dict[str, Any] = {
            "id": read.identifier("id"),
            "name": read.text("name"),
            "timezone": read.text("timezone", default="Europe/Amsterdam", limit=MAX_ID),
            "hours": read.hours(),
            "always_open": read.flag("always_open"),
            "holiday_country": read.optional_text("holiday_country", default="NL"),
            "holiday_subdivision": read.optional_text("holiday_subdivision"),
            "closed_dates": read.dates("closed_dates"),
        }
        read.done()
        return cls(**values)


class SlaKind(StrEnum):
    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"


@dataclass(frozen=True, slots=True, kw_only=True)
class SlaPolicy:
    """Targets in business seconds for the cases its criteria match; unset criteria match
    anything, and the policy with the most criteria set wins (``routing.sla``).

    The criteria take plain values too (``case_type="complaint"``, ``priority=3``) and are
    kept as the domain's enums, which compare equal to those values."""

    id: str
    name: str
    calendar_id: str
    case_type: str | None = None  # a CaseType
    priority: int | None = None  # a Priority
    segment: str | None = None
    channel: str | None = None  # a Channel
    first_response_s: int | None = None
    resolution_s: int | None = None
    warn_at_fraction: float = 0.8

    def __post_init__(self) -> None:
        reasons: dict[str, str] = {}
        for name, convert in (("case_type", _case_type), ("priority", _priority),
                              ("channel", _channel)):
            value = getattr(self, name)
            if value is None:
                continue
            converted, why = convert(value)
            if why is not None:
                reasons[name] = why
            object.__setattr__(self, name, converted)
        for name in ("first_response_s", "resolution_s"):
            why = _target_problem(getattr(self, name))
            if why is not None:
                reasons[name] = why
        why = _fraction_problem(self.warn_at_fraction)
        if why is not None:
            reasons["warn_at_fraction"] = why
        if reasons:
            raise InvalidInput(reasons)

    def target_for(self, kind: SlaKind) -> int | None:
        return self.first_response_s if kind is SlaKind.FIRST_RESPONSE else self.resolution_s

    def to_document(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "calendar_id": self.calendar_id,
                "case_type": None if self.case_type is None else str(self.case_type),
                "priority": None if self.priority is None else int(self.priority),
                "segment": self.segment,
                "channel": None if self.channel is None else str(self.channel),
                "first_response_s": self.first_response_s, "resolution_s": self.resolution_s,
                "warn_at_fraction": self.warn_at_fraction}

    @classmethod
    def from_document(cls, doc: object) -> SlaPolicy:
        """Read a policy; raise ``InvalidInput`` with one reason per problem, keyed by its
        path. ``priority`` is 1..4 or its name (``"high"``)."""
        if not isinstance(doc, Mapping):
            raise InvalidInput({"policy": "must be an object"})
        read = _Reader(doc, _POLICY_KEYS)
        values: dict[str, Any] = {
            "id": read.identifier("id"),
            "name": read.text("name"),
            "calendar_id": read.identifier("calendar_id"),
            "case_type": read.converted("case_type", _case_type),
            "priority": read.converted("priority", _priority),
            "segment": read.optional_text("segment"),
            "channel": read.converted("channel", _channel),
            "first_response_s": read.checked("first_response_s", _target_problem),
            "resolution_s": read.checked("resolution_s", _target_problem),
            "warn_at_fraction": read.checked("warn_at_fraction", _fraction_problem,
                                             default=0.8),
        }
        if values["first_response_s"] is None and values["resolution_s"] is None \
                and "first_response_s" not in read.reasons \
                and "resolution_s" not in read.reasons:
            read.reasons["first_response_s"] = "set first_response_s, resolution_s or both"
        read.done()
        return cls(**values)


@dataclass(slots=True, kw_only=True)
class SlaClock:
    """One target on one case, counted in business time.

    While it runs, the business time consumed is ``consumed_s`` plus the calendar's business
    seconds since ``running_since``; pausing folds that into ``consumed_s``, so the clock
    needs no history of its pauses. ``due_at`` and ``warn_at`` are derived and cleared while
    the clock cannot run out."""

    id: str
    case_id: str
    kind: SlaKind
    policy_id: str
    calendar_id: str
    target_s: int
    warn_at_fraction: float
    started_at: datetime
    consumed_s: float = 0.0  # business seconds consumed before running_since
    running_since: datetime | None = None
    paused_at: datetime | None = None
    stopped_at: datetime | None = None
    due_at: datetime | None = None
    warn_at: datetime | None = None
    warned: bool = False
    breached: bool = False

    @property
    def stopped(self) -> bool:
        return self.stopped_at is not None

    @property
    def paused(self) -> bool:
        return self.paused_at is not None and self.stopped_at is None

    @property
    def running(self) -> bool:
        return self.paused_at is None and self.stopped_at is None

    @property
    def next_deadline(self) -> datetime | None:
        """The next moment the clock needs attention: its warning, then its breach."""
        if not self.running:
            return None
        if not self.warned and self.warn_at is not None:
            return self.warn_at
        if not self.breached:
            return self.due_at
        return None


# --- checks shared by the constructors and the document readers ------------------------------


def _time_text(value: time) -> str:
    return value.strftime("%H:%M:%S" if value.second else "%H:%M")


def _target_problem(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_TARGET_S:
        return f"must be a whole number of business seconds, 1..{MAX_TARGET_S}"
    return None


def _fraction_problem(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
        return "must be a number between 0 and 1 (exclusive), e.g. 0.8"
    return None


def _case_type(value: object) -> tuple[CaseType | None, str | None]:
    if isinstance(value, str) and value in CaseType.__members__.values():
        return CaseType(value), None
    return None, f"must be one of {', '.join(t.value for t in CaseType)}"


def _priority(value: object) -> tuple[Priority | None, str | None]:
    if isinstance(value, str) and value.upper() in Priority.__members__:
        return Priority[value.upper()], None
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return Priority(value), None
        except ValueError:
            pass
    names = ", ".join(p.name.lower() for p in Priority)
    return None, f"must be 1..4 or one of {names}"


def _channel(value: object) -> tuple[Channel | None, str | None]:
    if isinstance(value, str) and value in Channel.__members__.values():
        return Channel(value), None
    return None, f"must be one of {', '.join(c.value for c in Channel)}"


def _weekday(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 7:
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        for index, name in enumerate(WEEKDAYS):
            if word in (name, name[:3]):
                return index
    return None


def _parse_time(value: object) -> time | None:
    if not isinstance(value, str):
        return None
    match = _TIME.fullmatch(value)
    if match is None:
        return None
    return time(int(match[1]), int(match[2]), int(match[3] or 0))


def _parse_date(value: object) -> date | None:
    # Only the plain form: fromisoformat also takes "20261225", which a person did not mean.
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:  # a day that does not exist, such as 2026-02-30
        return None


class _Reader:
    """Reads one document, collecting every problem under its path."""

    def __init__(self, doc: Mapping[Any, object], allowed: frozenset[str]) -> None:
        self._doc = doc
        self.reasons: dict[str, str] = {}
        for key in doc:
            if key not in allowed:
                self.reasons[str(key)] = f"unknown key; expected {', '.join(sorted(allowed))}"

    def done(self) -> None:
        if self.reasons:
            raise InvalidInput(self.reasons)

    def identifier(self, key: str) -> str | None:
        value = self._doc.get(key)
        if isinstance(value, str) and len(value) <= MAX_ID and _ID.fullmatch(value):
            return value
        self.reasons[key] = f"must be letters, digits, '_', '-', '.' or ':', at most " \
                            f"{MAX_ID}, starting with a letter or digit"
        return None

    def text(self, key: str, *, default: str | None = None, limit: int = MAX_NAME
             ) -> str | None:
        value = self._doc.get(key, default)
        if isinstance(value, str) and value.strip() and len(value) <= limit:
            return value
        self.reasons[key] = f"must be a non-blank text of at most {limit} characters"
        return None

    def optional_text(self, key: str, *, default: str | None = None) -> str | None:
        if self._doc.get(key, default) is None:
            return None
        return self.text(key, default=default, limit=MAX_ID)

    def flag(self, key: str) -> bool:
        value = self._doc.get(key, False)
        if isinstance(value, bool):
            return value
        self.reasons[key] = "must be true or false"
        return False

    def converted(self, key: str,
                  convert: Callable[[object], tuple[_E | None, str | None]]) -> _E | None:
        value = self._doc.get(key)
        if value is None:
            return None
        converted, why = convert(value)
        if why is not None:
            self.reasons[key] = why
        return converted

    def checked(self, key: str, problem: Callable[[object], str | None], *,
                default: object = None) -> Any:
        value = self._doc.get(key, default)
        why = problem(value)
        if why is not None:
            self.reasons[key] = why
            return default
        return value

    def hours(self) -> tuple[OpeningHours, ...]:
        raw = self._doc.get("hours", [])
        if not isinstance(raw, list) or len(raw) > MAX_HOURS:
            self.reasons["hours"] = f"must be a list of at most {MAX_HOURS} opening hours"
            return ()
        found: list[OpeningHours] = []
        for index, item in enumerate(raw):
            hours = self._opening_hours(item, f"hours[{index}]")
            if hours is not None:
                found.append(hours)
        return tuple(found)

    def _opening_hours(self, item: object, path: str) -> OpeningHours | None:
        if not isinstance(item, Mapping):
            self.reasons[path] = "must be an object with weekday, opens and closes"
            return None
        for key in item:
            if key not in _HOURS_KEYS:
                self.reasons[f"{path}.{key}"] = "unknown key; expected weekday, opens, closes"
        weekday = _weekday(item.get("weekday"))
        if weekday is None:
            self.reasons[f"{path}.weekday"] = "must be 0 (Monday)..6 (Sunday) or a day name"
        opens, closes = _parse_time(item.get("opens")), _parse_time(item.get("closes"))
        for key, value in (("opens", opens), ("closes", closes)):
            if value is None:
                self.reasons[f"{path}.{key}"] = "must be a time of day, \"HH:MM\""
        if opens is not None and closes is not None and closes <= opens:
            self.reasons[f"{path}.closes"] = "must be after opens (a stretch ends by midnight)"
            return None
        if weekday is None or opens is None or closes is None:
            return None
        return OpeningHours(weekday=weekday, opens=opens, closes=closes)

    def dates(self, key: str) -> tuple[date, ...]:
        raw = self._doc.get(key, [])
        if not isinstance(raw, list) or len(raw) > MAX_CLOSED_DATES:
            self.reasons[key] = f"must be a list of at most {MAX_CLOSED_DATES} dates"
            return ()
        found: list[date] = []
        for index, item in enumerate(raw):
            day = _parse_date(item)
            if day is None:
                self.reasons[f"{key}[{index}]"] = "must be a date, \"YYYY-MM-DD\""
            else:
                found.append(day)
        return tuple(found)
