"""The case status lifecycle: new → open → pending → resolved → closed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.domain.contact import Case, CaseStatus, CaseType
from core.domain.errors import InvalidTransition

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def new_case() -> Case:
    return Case(id="cas_1", number=1001, customer_id="cus_1", type=CaseType.QUESTION,
                created_at=T0, updated_at=T0)


@pytest.mark.parametrize("path", [
    ["open", "pending", "open", "resolved", "closed"],
    ["resolved", "open", "resolved"],
    ["pending", "resolved", "closed"],
    ["closed"],
], ids=lambda p: "→".join(p))
def test_allowed_paths(path: list[str]):
    case = new_case()
    for n, status in enumerate(path, start=1):
        case.move_to(CaseStatus(status), T0 + timedelta(minutes=n))
    assert case.status is CaseStatus(path[-1])
    assert case.updated_at == T0 + timedelta(minutes=len(path))


@pytest.mark.parametrize(("path", "forbidden"), [
    (["closed"], "open"),
    (["resolved"], "pending"),
    (["open"], "new"),
    (["resolved", "closed"], "resolved"),
])
def test_forbidden_moves_raise_and_change_nothing(path: list[str], forbidden: str):
    case = new_case()
    for status in path:
        case.move_to(CaseStatus(status), T0)
    before = case.status
    with pytest.raises(InvalidTransition, match=forbidden):
        case.move_to(CaseStatus(forbidden), T0 + timedelta(hours=1))
    assert case.status is before


def test_resolution_times_are_kept_and_cleared_on_reopen():
    case = new_case()
    case.move_to(CaseStatus.RESOLVED, T0 + timedelta(hours=1))
    assert case.resolved_at == T0 + timedelta(hours=1)
    case.move_to(CaseStatus.OPEN, T0 + timedelta(hours=2))
    assert case.resolved_at is None
    case.move_to(CaseStatus.CLOSED, T0 + timedelta(hours=3))
    assert case.closed_at == T0 + timedelta(hours=3)
    assert case.reference == "SW-1001"
