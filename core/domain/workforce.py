"""Agents, teams and queues: the people and places routing sends work to."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum

from core.domain.channels import Channel


class Presence(StrEnum):
    AVAILABLE = "available"
    AWAY = "away"
    BUSY = "busy"
    AFTER_CONTACT_WORK = "after_contact_work"
    OFFLINE = "offline"


class Tier(IntEnum):
    FIRST_LINE = 1
    SECOND_LINE = 2


class Role(StrEnum):
    """Access roles, ordered: each role may do everything the ones before it may.

    The auditor stands below the agent: read-only, it may call only what an endpoint grants
    it by name (the audit log and reports), so a check that forgets it refuses it.
    """

    AUDITOR = "auditor"
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


_ROLE_RANK = {Role.AUDITOR: 0, Role.AGENT: 1, Role.SUPERVISOR: 2, Role.ADMIN: 3}

DEFAULT_CAPACITY: dict[Channel, int] = {
    Channel.PHONE: 1,
    Channel.CHAT: 3,
    Channel.EMAIL: 5,
    Channel.WEBFORM: 5,
}


@dataclass(slots=True, kw_only=True)
class Team:
    id: str
    name: str


@dataclass(slots=True, kw_only=True)
class Queue:
    id: str
    name: str
    team_id: str | None = None
    description: str | None = None
    # A removed queue is archived, not deleted: past contacts and reports still name it,
    # but nothing new can be sent to it (docs/console.md, "Queues and teams").
    archived_at: datetime | None = None


@dataclass(slots=True, kw_only=True)
class Agent:
    id: str
    name: str
    username: str
    tier: Tier = Tier.FIRST_LINE
    team_ids: list[str] = field(default_factory=list)
    skills: dict[str, int] = field(default_factory=dict)  # skill -> level 1..5
    capacity: dict[Channel, int] = field(default_factory=lambda: dict(DEFAULT_CAPACITY))
    presence: Presence = Presence.OFFLINE
    presence_since: datetime
    active: bool = True
    queue_ids: list[str] = field(default_factory=list)  # the queues this agent takes work from
    # E.164 number calls are put through to (a desk phone, a mobile); without one, the
    # agent's Twilio Client identity (their id) rings in the browser.
    phone: str | None = None
