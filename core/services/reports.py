"""Reports for supervisors: what happened in a period of whole days in the business time
zone — volumes, service level, handle time (talk and after-contact work), abandonment,
wrap-up outcomes and first-contact resolution, broken down by channel, queue and agent —
and every contact of the period as lines for an export.

The database does the counting (``ReportQueries``); this module picks the period, folds the
tallies into the document the console draws its charts from, and names each figure. Every
figure is defined in docs/reports.md; percentages are of the decided cases only (a call
still waiting or a first response not yet due counts in neither part).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import AsyncGenerator, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from core.domain.clock import Clock
from core.domain.errors import InvalidInput
from core.ports import (
    CallTally,
    ContactLine,
    UnitOfWorkFactory,
    VolumeCount,
    WorkTally,
    WrapUpTally,
)

MAX_DAYS = 366
DEFAULT_DAYS = 7
DEFAULT_ANSWER_WITHIN_S = 20
# Channels whose first response is a written answer with an SLA target in hours.
WRITTEN = ("email", "webform")


@dataclass(frozen=True, slots=True, kw_only=True)
class Period:
    """Whole days, ``first_day`` to ``last_day`` inclusive, in ``timezone``."""

    first_day: date
    last_day: date
    timezone: tzinfo

    @property
    def start(self) -> datetime:
        return _midnight(self.first_day, self.timezone)

    @property
    def end(self) -> datetime:
        return _midnight(self.last_day + timedelta(days=1), self.timezone)

    @property
    def days(self) -> list[date]:
        count = (self.last_day - self.first_day).days + 1
        return [self.first_day + timedelta(days=n) for n in range(count)]

    def to_document(self) -> dict[str, str]:
        return {"from": self.first_day.isoformat(), "to": self.last_day.isoformat(),
                "timezone": str(self.timezone), "start": self.start.isoformat(),
                "end": self.end.isoformat()}


class Reports:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, *,
                 timezone: tzinfo = UTC) -> None:
        self._uow = uow  # read-only: reports never write
        self._clock = clock
        self._timezone = timezone

    def period(self, first_day: date | None, last_day: date | None) -> Period:
        """The days asked for; by default the last seven, today included. Only ``first_day``:
        seven days from it; only ``last_day``: the seven days up to it."""
        today = self._clock.now().astimezone(self._timezone).date()
        week = timedelta(days=DEFAULT_DAYS - 1)
        last = last_day or (first_day + week if first_day is not None else today)
        first = first_day or last - week
        if first > last:
            raise InvalidInput({"from": "must not be after to"})
        if (last - first).days + 1 > MAX_DAYS:
            raise InvalidInput({"to": f"a report covers at most {MAX_DAYS} days"})
        return Period(first_day=first, last_day=last, timezone=self._timezone)

    async def summary(self, period: Period, *,
                      answer_within_s: int = DEFAULT_ANSWER_WITHIN_S) -> dict[str, Any]:
        now = self._clock.now()
        start, end = period.start, period.end
        async with self._uow() as uow:
            volumes = await uow.reports.volumes(start, end)
            calls = await uow.reports.calls(start, end, answer_within_s=answer_within_s)
            work = await uow.reports.work(start, end, now=now)
            wrap_ups = await uow.reports.wrap_ups(start, end)
            satisfaction = await uow.surveys.summary_between(since=start, until=end)
            # Removed queues too: past contacts in them are reported under their name.
            queue_names = {q.id: q.name
                           for q in await uow.workforce.list_queues(archived=True)}
            agent_names = {a.id: a.name for a in await uow.workforce.list_agents()}
        return {
            "period": period.to_document(),
            "generated_at": now.isoformat(),
            "volumes": _volumes(volumes, period),
            "service_level": {"calls": _calls(calls, answer_within_s),
                              "first_response": _first_response(work)},
            "speed_of_answer": _by_channel(work, _speed_of_answer),
            "handle_time": _by_channel(work, _handle_time),
            "first_response_time": _by_channel(work, _first_response_time),
            "abandonment": {"calls": _call_abandonment(calls), "chats": _chats(work)},
            "outcomes": _outcomes(wrap_ups),
            "first_contact_resolution": _fcr(wrap_ups),
            "queues": _queues(queue_names, calls, work, wrap_ups),
            "agents": _agents(agent_names, work, wrap_ups),
            # Answers given in the period (docs/surveys.md), whatever the contact's date.
            "satisfaction": {
                "responses": satisfaction.responses,
                "csat": {"count": satisfaction.csat_count,
                         "average": satisfaction.csat_average,
                         "satisfied_pct": satisfaction.csat_satisfied_pct},
                "nps": {"count": satisfaction.nps_count, "score": satisfaction.nps}},
        }

    async def contact_lines(self, period: Period) -> AsyncGenerator[ContactLine, None]:
        """Every contact of the period, oldest first, read as it is sent (the read stays
        open while the caller iterates: close the iterator when done)."""
        now = self._clock.now()
        async with self._uow() as uow:
            async for line in uow.reports.contact_lines(period.start, period.end, now=now):
                yield line


def _midnight(day: date, timezone: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=timezone).astimezone(UTC)


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _average(total_s: float, count: int) -> float | None:
    return round(total_s / count, 1) if count else None


# --- volumes -------------------------------------------------------------------------------


def _volumes(counts: list[VolumeCount], period: Period) -> dict[str, Any]:
    by_channel: dict[str, Counter[str]] = defaultdict(Counter)
    by_type: Counter[str] = Counter()
    per_day: dict[date, tuple[Counter[str], Counter[str]]] = {
        day: (Counter(), Counter()) for day in period.days}
    for c in counts:
        case_type = c.case_type or "none"
        by_channel[c.channel][c.direction] += c.contacts
        by_type[case_type] += c.contacts
        day = per_day.get(c.hour.astimezone(period.timezone).date())
        if day is not None:
            day[0][c.channel] += c.contacts
            day[1][case_type] += c.contacts
    return {
        "total": sum(by_type.values()),
        "by_channel": {channel: {"inbound": d["inbound"], "outbound": d["outbound"],
                                 "total": d.total()}
                       for channel, d in sorted(by_channel.items())},
        "by_case_type": dict(sorted(by_type.items())),
        "by_day": [{"date": day.isoformat(), "total": channels.total(),
                    "by_channel": dict(sorted(channels.items())),
                    "by_case_type": dict(sorted(types.items()))}
                   for day, (channels, types) in per_day.items()],
    }


# --- calls ---------------------------------------------------------------------------------


def _call_totals(tallies: Iterable[CallTally]) -> dict[str, int]:
    totals: Counter[str] = Counter()
    for t in tallies:
        totals.update({"entered": t.entered, "waiting": t.waiting, "answered": t.answered,
                       "within": t.answered_within_target, "abandoned": t.abandoned,
                       "callbacks": t.callbacks})
    return dict(totals)


def _calls(tallies: list[CallTally], answer_within_s: int) -> dict[str, Any]:
    t = Counter(_call_totals(tallies))
    offered = t["entered"] - t["waiting"]
    return {"target_s": answer_within_s, "entered_queue": t["entered"],
            "waiting": t["waiting"], "offered": offered, "answered": t["answered"],
            "answered_within_target": t["within"], "abandoned": t["abandoned"],
            "callbacks": t["callbacks"], "percent": _percent(t["within"], offered)}


def _call_abandonment(tallies: list[CallTally]) -> dict[str, Any]:
    t = Counter(_call_totals(tallies))
    offered = t["entered"] - t["waiting"]
    return {"offered": offered, "abandoned": t["abandoned"],
            "percent": _percent(t["abandoned"], offered)}


# --- routed work ---------------------------------------------------------------------------


def _sum(tallies: Iterable[WorkTally]) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    for t in tallies:
        for name in ("routed", "accepted", "answer_wait_s", "handled", "handle_s", "talk_s",
                     "after_contact_work_s", "responded", "first_response_s", "sla_met",
                     "sla_missed", "sla_pending", "chats", "chats_answered",
                     "chats_abandoned"):
            totals[name] += getattr(t, name)
    return totals


def _sla(t: dict[str, float]) -> dict[str, Any]:
    met, missed = int(t["sla_met"]), int(t["sla_missed"])
    return {"met": met, "missed": missed, "pending": int(t["sla_pending"]),
            "percent": _percent(met, met + missed)}


def _first_response(work: list[WorkTally]) -> dict[str, Any]:
    by_channel = {channel: _sla(_sum(t for t in work if t.channel == channel))
                  for channel in sorted({t.channel for t in work})}
    return {"email_and_webform": _sla(_sum(t for t in work if t.channel in WRITTEN)),
            "by_channel": by_channel}


def _by_channel(work: list[WorkTally],
                figure: Callable[[dict[str, float]], dict[str, Any]]) -> dict[str, Any]:
    return {"total": figure(_sum(work)),
            "by_channel": {channel: figure(_sum(t for t in work if t.channel == channel))
                           for channel in sorted({t.channel for t in work})}}


def _speed_of_answer(t: dict[str, float]) -> dict[str, Any]:
    return {"accepted": int(t["accepted"]),
            "average_s": _average(t["answer_wait_s"], int(t["accepted"]))}


def _handle_time(t: dict[str, float]) -> dict[str, Any]:
    handled = int(t["handled"])
    return {"accepted": int(t["accepted"]), "measured": handled,
            "average_s": _average(t["handle_s"], handled),
            "talk_average_s": _average(t["talk_s"], handled),
            "after_contact_work_average_s": _average(t["after_contact_work_s"], handled)}


def _first_response_time(t: dict[str, float]) -> dict[str, Any]:
    return {"responded": int(t["responded"]),
            "average_s": _average(t["first_response_s"], int(t["responded"]))}


def _chats(work: list[WorkTally]) -> dict[str, Any]:
    t = _sum(work)
    answered, abandoned = int(t["chats_answered"]), int(t["chats_abandoned"])
    return {"chats": int(t["chats"]), "answered": answered, "abandoned": abandoned,
            "waiting": int(t["chats"]) - answered - abandoned,
            "percent": _percent(abandoned, answered + abandoned)}


# --- wrap-up and resolution ----------------------------------------------------------------


def _outcome_figures(tallies: Iterable[WrapUpTally]) -> dict[str, Any]:
    outcomes: Counter[str] = Counter()
    dispositions: Counter[str] = Counter()
    automatic = 0
    for t in tallies:
        outcomes[t.outcome] += t.wrapped_up
        dispositions[t.disposition or "none"] += t.wrapped_up
        automatic += t.automatic
    return {"wrapped_up": outcomes.total(), "automatic": automatic,
            "by_outcome": dict(sorted(outcomes.items())),
            "by_disposition": dict(sorted(dispositions.items()))}


def _outcomes(tallies: list[WrapUpTally]) -> dict[str, Any]:
    return {"total": _outcome_figures(tallies),
            "by_channel": {channel: _outcome_figures(t for t in tallies if t.channel == channel)
                           for channel in sorted({t.channel for t in tallies})}}


def _fcr_figures(tallies: Iterable[WrapUpTally]) -> dict[str, Any]:
    wrapped = first = 0
    for t in tallies:
        wrapped += t.wrapped_up
        first += t.first_contact
    return {"wrapped_up": wrapped, "first_contact": first, "percent": _percent(first, wrapped)}


def _fcr(tallies: list[WrapUpTally]) -> dict[str, Any]:
    return {**_fcr_figures(tallies),
            "by_channel": {channel: _fcr_figures(t for t in tallies if t.channel == channel)
                           for channel in sorted({t.channel for t in tallies})}}


# --- breakdowns ----------------------------------------------------------------------------


def _queues(names: dict[str, str], calls: list[CallTally], work: list[WorkTally],
            wrap_ups: list[WrapUpTally]) -> list[dict[str, Any]]:
    seen = {t.queue_id for t in calls} | {t.queue_id for t in work} \
        | {t.queue_id for t in wrap_ups}
    found: list[dict[str, Any]] = []
    for queue_id in sorted(seen, key=lambda q: (q is None, names.get(q or "", q or ""))):
        t = _sum(w for w in work if w.queue_id == queue_id)
        c = Counter(_call_totals(k for k in calls if k.queue_id == queue_id))
        offered = c["entered"] - c["waiting"]
        mine = [w for w in wrap_ups if w.queue_id == queue_id]
        found.append({
            "id": queue_id, "name": names.get(queue_id) if queue_id else None,
            "routed": int(t["routed"]), "accepted": int(t["accepted"]),
            "average_answer_s": _average(t["answer_wait_s"], int(t["accepted"])),
            "average_handle_s": _average(t["handle_s"], int(t["handled"])),
            "average_after_contact_work_s": _average(t["after_contact_work_s"],
                                                     int(t["handled"])),
            "first_response": _sla(t),
            "calls": {"offered": offered, "answered_within_target": c["within"],
                      "abandoned": c["abandoned"], "service_level_percent":
                          _percent(c["within"], offered)},
            "outcomes": _outcome_figures(mine)["by_outcome"],
            "first_contact_resolution": _fcr_figures(mine),
        })
    return found


def _agents(names: dict[str, str], work: list[WorkTally],
            wrap_ups: list[WrapUpTally]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for agent_id in sorted({t.agent_id for t in work if t.agent_id is not None},
                           key=lambda a: (names.get(a, a), a)):
        mine = [t for t in work if t.agent_id == agent_id]
        t = _sum(mine)
        found.append({
            "id": agent_id, "name": names.get(agent_id),
            "accepted": int(t["accepted"]),
            "average_answer_s": _average(t["answer_wait_s"], int(t["accepted"])),
            "handled": int(t["handled"]),
            "average_handle_s": _average(t["handle_s"], int(t["handled"])),
            "average_talk_s": _average(t["talk_s"], int(t["handled"])),
            "average_after_contact_work_s": _average(t["after_contact_work_s"],
                                                     int(t["handled"])),
            "outcomes": _outcome_figures(w for w in wrap_ups
                                         if w.agent_id == agent_id)["by_outcome"],
            "by_channel": {channel: _handle_time(_sum(m for m in mine if m.channel == channel))
                           for channel in sorted({m.channel for m in mine})},
        })
    return found
