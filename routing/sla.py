"""SLA clocks over a case's life, as pure functions of a clock, a calendar and a moment.

A clock counts business time only. ``start_clock`` makes one; ``pause`` (the case waits on
the customer), ``resume``, ``stop`` (the target was met, or the case ended) and ``retarget``
(the case was reclassified) change it in place; ``evaluate`` says which of its warning and
breach are now due, each once. Deadlines are derived: ``due_at`` and ``warn_at`` are
recomputed whenever the clock starts running again and cleared while it is paused.

Every function takes aware datetimes and stores UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum

from core.domain.sla import SlaClock, SlaKind, SlaPolicy
from routing.calendar import BusinessCalendar


class SlaSignal(StrEnum):
    WARNING = "warning"
    BREACH = "breach"


def select_policy(policies: Sequence[SlaPolicy], *, case_type: str | None,
                  priority: int | None, segment: str | None,
                  channel: str | None) -> SlaPolicy | None:
    """The matching policy with the most criteria set; the earlier one on a tie.

    A policy matches when each criterion it sets equals the case's; enums and their plain
    values (``CaseType.COMPLAINT`` and ``"complaint"``) are the same criterion."""
    facts = (case_type, priority, segment, channel)
    best: SlaPolicy | None = None
    best_score = -1
    for policy in policies:
        wanted = (policy.case_type, policy.priority, policy.segment, policy.channel)
        if any(want is not None and want != fact for want, fact in zip(wanted, facts,
                                                                          strict=True)):
            continue
        score = sum(want is not None for want in wanted)
        if score > best_score:
            best, best_score = policy, score
    return best


def start_clock(*, clock_id: str, case_id: str, kind: SlaKind, policy: SlaPolicy,
                calendar: BusinessCalendar, at: datetime) -> SlaClock | None:
    """A running clock for *kind*, or None when the policy sets no target for it.

    The clock records the calendar it is counted in, which is the policy's unless the
    caller had to fall back to another."""
    target = policy.target_for(kind)
    if target is None:
        return None
    at = _utc(at)
    clock = SlaClock(id=clock_id, case_id=case_id, kind=kind, policy_id=policy.id,
                     calendar_id=calendar.id, target_s=target,
                     warn_at_fraction=policy.warn_at_fraction, started_at=at,
                     consumed_s=0.0, running_since=at)
    _schedule(clock, calendar)
    return clock


def pause(clock: SlaClock, calendar: BusinessCalendar, at: datetime) -> None:
    """Stop counting while the case waits on the customer; a clock that is not running is
    left as it is."""
    if not clock.running:
        return
    at = _utc(at)
    _fold(clock, calendar, at)
    clock.running_since = None
    clock.paused_at = at
    clock.due_at = clock.warn_at = None


def resume(clock: SlaClock, calendar: BusinessCalendar, at: datetime) -> None:
    """Count again from *at*, with the deadlines moved by the time spent paused; a clock
    that is not paused is left as it is."""
    if not clock.paused:
        return
    at = _utc(at)
    clock.paused_at = None
    clock.running_since = at
    _schedule(clock, calendar)


def stop(clock: SlaClock, calendar: BusinessCalendar, at: datetime) -> None:
    """Stop for good: the target was met or the case ended. ``consumed_s`` keeps the
    business time used; ``due_at`` stays as it was, to compare ``stopped_at`` with."""
    if clock.stopped:
        return
    at = _utc(at)
    if clock.running:
        _fold(clock, calendar, at)
    clock.running_since = None
    clock.paused_at = None
    clock.stopped_at = at


def retarget(clock: SlaClock, policy: SlaPolicy, calendar: BusinessCalendar,
             at: datetime) -> None:
    """Apply a reclassified case's policy: its target, counted from the business time
    already consumed, in *calendar*.

    A warning or breach already fired fires again only when the new target puts it back in
    the future; one the new target puts in the past fires at the next ``evaluate``. A
    clock the new policy sets no target for, or that has stopped, is left as it is."""
    target = policy.target_for(clock.kind)
    if target is None or clock.stopped:
        return
    at = _utc(at)
    if clock.running:
        _fold(clock, calendar, at)
        clock.running_since = at
    clock.policy_id = policy.id
    clock.calendar_id = calendar.id
    clock.target_s = target
    clock.warn_at_fraction = policy.warn_at_fraction
    if clock.consumed_s < target * policy.warn_at_fraction:
        clock.warned = False
    if clock.consumed_s < target:
        clock.breached = False
    if clock.running:
        _schedule(clock, calendar)


def evaluate(clock: SlaClock, now: datetime) -> list[SlaSignal]:
    """The signals due at *now* that have not fired yet, warning before breach; marks them
    fired. A paused or stopped clock signals nothing."""
    if not clock.running:
        return []
    now = _utc(now)
    signals: list[SlaSignal] = []
    if not clock.warned and clock.warn_at is not None and clock.warn_at <= now:
        clock.warned = True
        signals.append(SlaSignal.WARNING)
    if not clock.breached and clock.due_at is not None and clock.due_at <= now:
        # A breach without its warning would leave the warning to fire after it.
        if not clock.warned:
            clock.warned = True
            signals.append(SlaSignal.WARNING)
        clock.breached = True
        signals.append(SlaSignal.BREACH)
    return signals


def consumed_s(clock: SlaClock, calendar: BusinessCalendar, now: datetime) -> float:
    """Business seconds the clock has used by *now*."""
    if clock.running and clock.running_since is not None:
        return clock.consumed_s + max(
            0.0, calendar.business_seconds_between(clock.running_since, _utc(now)))
    return clock.consumed_s


def remaining_s(clock: SlaClock, calendar: BusinessCalendar, now: datetime) -> float:
    """Business seconds left before the target; negative when overdue."""
    return clock.target_s - consumed_s(clock, calendar, now)


def _fold(clock: SlaClock, calendar: BusinessCalendar, at: datetime) -> None:
    """Move the business time since ``running_since`` into ``consumed_s``."""
    clock.consumed_s = consumed_s(clock, calendar, at)


def _schedule(clock: SlaClock, calendar: BusinessCalendar) -> None:
    """Derive the deadlines of a running clock from what it has left.

    A threshold already passed (a smaller target after reclassification) is due at once:
    the moment it was really passed lies in a running stretch the clock no longer knows."""
    since = clock.running_since
    assert since is not None, "only a running clock has deadlines"
    warn_left = clock.target_s * clock.warn_at_fraction - clock.consumed_s
    due_left = clock.target_s - clock.consumed_s
    clock.warn_at = calendar.add_business_seconds(since, warn_left) if warn_left > 0 else since
    clock.due_at = calendar.add_business_seconds(since, due_left) if due_left > 0 else since


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"a moment must be timezone-aware, not {at!r}")
    return at.astimezone(UTC)
