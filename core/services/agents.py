"""Managing agents: who they are, what they can do, where they take work from.

Every change is audited in its own transaction: skills, tier, teams, queues and capacity
with their old and new values; the agent's name and phone number by field name only (they
are personal data); suspending and reinstating as actions of their own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from core.domain.audit import Actor, AuditAction
from core.domain.channels import Channel
from core.domain.clock import Clock
from core.domain.errors import Conflict, InvalidInput, NotFound
from core.domain.ids import new_id
from core.domain.workforce import DEFAULT_CAPACITY, Agent, Queue, Team, Tier
from core.identity.normalise import normalise_phone
from core.ports import UnitOfWork, UnitOfWorkFactory
from core.services import audit
from core.services.queue_references import (
    ReferenceFinder,
    documents,
    live_work,
    published_rules,
    references,
)
from core.services.screen_pop import KNOWLEDGE_KEY, SCRIPTS_KEY

# What refers to a queue as far as the core knows; channels add theirs (bootstrap).
CORE_QUEUE_REFERENCES: tuple[ReferenceFinder, ...] = (
    live_work, published_rules,
    documents({SCRIPTS_KEY: "the desk's scripts", KNOWLEDGE_KEY: "the knowledge snippets",
               "desk.dispositions": "the dispositions"}))


class QueueInUse(Conflict):
    """Something live still sends work to the queue, or holds work from it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentChanges:
    name: str | None = None
    tier: Tier | None = None
    team_ids: Sequence[str] | None = None
    queue_ids: Sequence[str] | None = None
    skills: Mapping[str, int] | None = None
    capacity: Mapping[Channel, int] | None = None
    active: bool | None = None
    phone: str | None = None  # "" removes the number


class Keep(Enum):
    """A field a change leaves as it is (``None`` clears it)."""

    KEEP = "keep"


KEEP = Keep.KEEP


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueChanges:
    name: str | None = None  # None: unchanged (a queue always has a name)
    team_id: str | Keep | None = KEEP
    description: str | Keep | None = KEEP


class AgentAdmin:
    def __init__(self, uow: UnitOfWorkFactory, read_uow: UnitOfWorkFactory,
                 clock: Clock, *,
                 queue_references: Sequence[ReferenceFinder] = CORE_QUEUE_REFERENCES) -> None:
        self._uow = uow
        self._read_uow = read_uow
        self._clock = clock
        self._queue_references = tuple(queue_references)

    async def create(self, *, name: str, username: str, changes: AgentChanges,
                     actor: Actor) -> Agent:
        async with self._uow() as uow:
            if any(a.username == username for a in await uow.workforce.list_agents()):
                raise Conflict(f"username {username!r} is taken")
            await _check_references(uow, changes)
            now = self._clock.now()
            agent = Agent(id=new_id("agt"), name=name, username=username, presence_since=now)
            _apply(agent, changes)
            await uow.workforce.add_agent(agent)
            await audit.record(uow, at=now, actor=actor, action=AuditAction.AGENT_CREATED,
                               subject_kind="agent", subject_id=agent.id,
                               details={"username": username, **_facts(agent)})
            await uow.commit()
            return agent

    async def update(self, agent_id: str, changes: AgentChanges, *, actor: Actor) -> Agent:
        async with self._uow() as uow:
            agent = await uow.workforce.get_agent(agent_id)
            if agent is None:
                raise NotFound("agent", agent_id)
            await _check_references(uow, changes)
            before = {**_facts(agent), "name": agent.name, "phone": agent.phone}
            _apply(agent, changes)
            after = {**_facts(agent), "name": agent.name, "phone": agent.phone}
            await uow.workforce.save_agent(agent)
            await _audit_changes(uow, at=self._clock.now(), actor=actor, agent_id=agent.id,
                                 before=before, after=after)
            await uow.commit()
            return agent

    async def get(self, agent_id: str) -> Agent:
        async with self._read_uow() as uow:
            agent = await uow.workforce.get_agent(agent_id)
        if agent is None:
            raise NotFound("agent", agent_id)
        return agent

    async def list(self) -> list[Agent]:
        async with self._read_uow() as uow:
            return await uow.workforce.list_agents()

    async def create_team(self, team: Team, *, actor: Actor) -> Team:
        async with self._uow() as uow:
            if any(t.id == team.id for t in await uow.workforce.list_teams()):
                raise Conflict(f"team {team.id!r} exists")
            await uow.workforce.add_team(team)
            await audit.record(uow, at=self._clock.now(), actor=actor,
                               action=AuditAction.TEAM_CREATED, subject_kind="team",
                               subject_id=team.id, details={"name": team.name})
            await uow.commit()
        return team

    async def rename_team(self, team_id: str, name: str, *, actor: Actor) -> Team:
        async with self._uow() as uow:
            teams = {t.id: t for t in await uow.workforce.list_teams()}
            team = teams.get(team_id)
            if team is None:
                raise NotFound("team", team_id)
            if any(t.name == name and t.id != team_id for t in teams.values()):
                raise Conflict(f"another team is called {name!r}")
            renamed = Team(id=team.id, name=name)
            if renamed.name != team.name:
                await uow.workforce.save_team(renamed)
                await audit.record(uow, at=self._clock.now(), actor=actor,
                                   action=AuditAction.TEAM_RENAMED, subject_kind="team",
                                   subject_id=team.id,
                                   details={"from": team.name, "to": renamed.name})
                await uow.commit()
        return renamed

    async def remove_queue(self, queue_id: str, *,
                           actor: Actor) -> tuple[Queue, Sequence[str]]:
        """Archive the queue unless something live refers to it (``QueueInUse`` names
        what). Its agents stop serving it; its name and id stay taken, so past contacts
        and reports keep naming it. Returns the queue and the agents taken off it."""
        async with self._uow() as uow:
            queue = await uow.workforce.get_queue(queue_id)
            if queue is None:
                raise NotFound("queue", queue_id)
            found = await references(uow, queue_id, self._queue_references)
            if found:
                raise QueueInUse(f"queue {queue_id!r} is still in use: {'; '.join(found)}")
            now = self._clock.now()
            queue.archived_at = now
            await uow.workforce.save_queue(queue)
            serving = [a for a in await uow.workforce.list_agents()
                       if queue_id in a.queue_ids]
            for agent in serving:
                agent.queue_ids = [q for q in agent.queue_ids if q != queue_id]
                await uow.workforce.save_agent(agent)
            detached = [a.id for a in serving]
            await audit.record(uow, at=now, actor=actor, action=AuditAction.QUEUE_REMOVED,
                               subject_kind="queue", subject_id=queue_id,
                               details={**_queue_facts(queue), "agents": detached})
            await uow.commit()
        return queue, detached

    async def create_queue(self, queue: Queue, *, actor: Actor) -> Queue:
        async with self._uow() as uow:
            every = await uow.workforce.list_queues(archived=True)
            if any(q.id == queue.id for q in every):
                raise Conflict(f"queue {queue.id!r} exists")
            _name_free(every, queue)
            if queue.team_id and queue.team_id not in {
                    t.id for t in await uow.workforce.list_teams()}:
                raise InvalidInput({"team": f"no team {queue.team_id!r}"})
            await uow.workforce.add_queue(queue)
            await audit.record(uow, at=self._clock.now(), actor=actor,
                               action=AuditAction.QUEUE_CREATED, subject_kind="queue",
                               subject_id=queue.id, details=_queue_facts(queue))
            await uow.commit()
        return queue

    async def update_queue(self, queue_id: str, changes: QueueChanges, *,
                           actor: Actor) -> Queue:
        async with self._uow() as uow:
            queue = await uow.workforce.get_queue(queue_id)
            if queue is None:
                raise NotFound("queue", queue_id)
            team_id = queue.team_id if isinstance(changes.team_id, Keep) else changes.team_id
            if team_id is not None and team_id not in {
                    t.id for t in await uow.workforce.list_teams()}:
                raise InvalidInput({"team": f"no team {team_id!r}"})
            updated = Queue(
                id=queue.id, name=queue.name if changes.name is None else changes.name,
                team_id=team_id, description=queue.description
                if isinstance(changes.description, Keep) else changes.description)
            _name_free(await uow.workforce.list_queues(archived=True), updated)
            await uow.workforce.save_queue(updated)
            before, after = _queue_facts(queue), _queue_facts(updated)
            if before != after:
                await audit.record(uow, at=self._clock.now(), actor=actor,
                                   action=AuditAction.QUEUE_CHANGED, subject_kind="queue",
                                   subject_id=queue.id, details={"changes": {
                                       name: {"from": before[name], "to": after[name]}
                                       for name in after if before[name] != after[name]}})
            await uow.commit()
        return updated

    async def teams_and_queues(self, *, archived: bool = False
                               ) -> tuple[Sequence[Team], Sequence[Queue]]:
        async with self._read_uow() as uow:
            return await uow.workforce.list_teams(), \
                await uow.workforce.list_queues(archived=archived)


async def _check_references(uow: UnitOfWork, changes: AgentChanges) -> None:
    reasons: dict[str, str] = {}
    if changes.team_ids:
        known = {t.id for t in await uow.workforce.list_teams()}
        for index, team in enumerate(changes.team_ids):
            if team not in known:
                reasons[f"teams[{index}]"] = f"no team {team!r}"
    if changes.queue_ids:
        known = {q.id for q in await uow.workforce.list_queues()}
        for index, queue in enumerate(changes.queue_ids):
            if queue not in known:
                reasons[f"queues[{index}]"] = f"no queue {queue!r}"
    if changes.phone:
        number = normalise_phone(changes.phone, "ZZ")  # international format only
        if number.normalized is None:
            reasons["phone"] = ("give the number in international format, e.g. +31201234567 "
                                f"({number.problem})")
    if reasons:
        raise InvalidInput(reasons)


def _apply(agent: Agent, changes: AgentChanges) -> None:
    if changes.name is not None:
        agent.name = changes.name
    if changes.tier is not None:
        agent.tier = changes.tier
    if changes.team_ids is not None:
        agent.team_ids = list(dict.fromkeys(changes.team_ids))
    if changes.queue_ids is not None:
        agent.queue_ids = list(dict.fromkeys(changes.queue_ids))
    if changes.skills is not None:
        agent.skills = dict(changes.skills)
    if changes.capacity is not None:
        agent.capacity = {**DEFAULT_CAPACITY, **changes.capacity}
    if changes.active is not None:
        agent.active = changes.active
    if changes.phone is not None:
        agent.phone = normalise_phone(changes.phone, "ZZ").normalized if changes.phone else None


# Personal data of the agent: the log says that it changed, not what it is.
_PERSONAL = ("name", "phone")


def _facts(agent: Agent) -> dict[str, object]:
    """What an agent may do and where, as the audit log records it."""
    return {"tier": int(agent.tier), "team_ids": list(agent.team_ids),
            "queue_ids": list(agent.queue_ids), "skills": dict(agent.skills),
            "capacity": {channel.value: n for channel, n in agent.capacity.items()},
            "active": agent.active}


def _name_free(queues: Sequence[Queue], queue: Queue) -> None:
    taken = next((q for q in queues if q.name == queue.name and q.id != queue.id), None)
    if taken is not None:
        raise Conflict(f"queue {taken.id!r} is called {queue.name!r} already"
                       + (" (removed, but its name stays with its history)"
                          if taken.archived_at else ""))


def _queue_facts(queue: Queue) -> dict[str, object]:
    return {"name": queue.name, "team_id": queue.team_id, "description": queue.description}


async def _audit_changes(uow: UnitOfWork, *, at: datetime, actor: Actor, agent_id: str,
                         before: dict[str, object], after: dict[str, object]) -> None:
    changed = [name for name in after if before[name] != after[name]]
    if "active" in changed:
        changed.remove("active")
        await audit.record(uow, at=at, actor=actor, subject_kind="agent", subject_id=agent_id,
                           action=AuditAction.AGENT_REINSTATED if after["active"]
                           else AuditAction.AGENT_SUSPENDED)
    if changed:
        await audit.record(uow, at=at, actor=actor, action=AuditAction.AGENT_CHANGED,
                           subject_kind="agent", subject_id=agent_id, details={
                               "fields": changed,
                               "changes": {name: {"from": before[name], "to": after[name]}
                                           for name in changed if name not in _PERSONAL}})
