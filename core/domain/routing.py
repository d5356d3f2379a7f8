"""Records of routing configuration and decisions: versions, activations, traces.

The policy that produces them lives in ``routing/``; these are the facts it leaves behind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

JsonObject = dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleSetVersion:
    """One saved rule set. Versions are never edited: every change is a new number."""

    number: int
    document: JsonObject
    author: str
    comment: str
    created_at: datetime


class ActivationKind(StrEnum):
    PUBLISH = "publish"
    ROLLBACK = "rollback"


@dataclass(frozen=True, slots=True, kw_only=True)
class Activation:
    id: str
    version: int
    action: ActivationKind
    by: str
    comment: str
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigDocument:
    key: str
    document: Any
    revision: int
    updated_by: str
    updated_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class RoutingDecision:
    """Where one contact went and why: the facts the rules saw, the classification and the
    rules' trace. Replaying a draft against ``facts`` shows where it would go now."""

    id: str
    case_id: str
    contact_id: str
    work_item_id: str | None
    rule_set_version: int | None
    facts: JsonObject
    classification: JsonObject
    outcome: JsonObject
    decided_at: datetime
    offers: list[JsonObject] = field(default_factory=list)


class ConfigKey(StrEnum):
    """The supervisor-editable configuration documents."""

    KEYWORDS = "classification.keywords"
    POLICY = "routing.policy"
    CALENDARS = "sla.calendars"
    SLA_POLICIES = "sla.policies"
    DISPOSITIONS = "desk.dispositions"
