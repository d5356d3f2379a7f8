"""Agents, teams, queues, users and API tokens in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from core.domain.channels import Channel
from core.domain.errors import Conflict
from core.domain.workforce import Agent, Presence, Queue, Role, Team, Tier
from core.ports import Principal, TokenInfo
from core.storage.tables import (
    agent_queues,
    agents,
    api_tokens,
    queues,
    teams,
    users,
    web_sessions,
)


class SqlWorkforce:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add_team(self, team: Team) -> None:
        await self._conn.execute(teams.insert().values(id=team.id, name=team.name))

    async def add_queue(self, queue: Queue) -> None:
        await self._conn.execute(queues.insert().values(
            id=queue.id, name=queue.name, team_id=queue.team_id, description=queue.description,
            archived_at=queue.archived_at))

    async def save_queue(self, queue: Queue) -> None:
        await self._conn.execute(queues.update().where(queues.c.id == queue.id).values(
            name=queue.name, team_id=queue.team_id, description=queue.description,
            archived_at=queue.archived_at))

    async def save_team(self, team: Team) -> None:
        await self._conn.execute(teams.update().where(teams.c.id == team.id).values(
            name=team.name))

    async def add_agent(self, agent: Agent) -> None:
        try:
            await self._conn.execute(agents.insert().values(
                id=agent.id, name=agent.name, username=agent.username, tier=int(agent.tier),
                team_ids=list(agent.team_ids), skills=dict(agent.skills),
                capacity={c.value: n for c, n in agent.capacity.items()},
                presence=agent.presence.value, presence_since=agent.presence_since,
                active=agent.active, queue_ids=list(agent.queue_ids), phone=agent.phone))
        except sa.exc.IntegrityError as err:
            # Two admins creating the same username at once: the database decides.
            raise Conflict(f"username {agent.username!r} is taken") from err
        await self._set_queues(agent)

    async def save_agent(self, agent: Agent) -> None:
        await self._conn.execute(agents.update().where(agents.c.id == agent.id).values(
            name=agent.name, username=agent.username, tier=int(agent.tier),
            team_ids=list(agent.team_ids), skills=dict(agent.skills),
            capacity={c.value: n for c, n in agent.capacity.items()},
            presence=agent.presence.value, presence_since=agent.presence_since,
            active=agent.active, queue_ids=list(agent.queue_ids), phone=agent.phone))
        await self._set_queues(agent)

    async def _set_queues(self, agent: Agent) -> None:
        await self._conn.execute(agent_queues.delete().where(agent_queues.c.agent_id == agent.id))
        if agent.queue_ids:
            await self._conn.execute(agent_queues.insert(), [
                {"agent_id": agent.id, "queue_id": q} for q in dict.fromkeys(agent.queue_ids)])

    async def set_presence(self, agent_id: str, presence: Presence, at: datetime) -> None:
        await self._conn.execute(agents.update().where(agents.c.id == agent_id).values(
            presence=presence.value, presence_since=at))

    async def agents_for_queues(self, queue_ids: Sequence[str]) -> list[Agent]:
        serving = sa.select(agent_queues.c.agent_id).where(
            agent_queues.c.queue_id.in_(list(queue_ids)))
        rows = (await self._conn.execute(sa.select(agents).where(
            agents.c.id.in_(serving), agents.c.active.is_(True)))).mappings()
        return [_agent(r) for r in rows]

    async def get_agent(self, agent_id: str) -> Agent | None:
        r = (await self._conn.execute(
            sa.select(agents).where(agents.c.id == agent_id))).mappings().first()
        return _agent(r) if r else None

    async def get_queue(self, queue_id: str, *, archived: bool = False) -> Queue | None:
        query = sa.select(queues).where(queues.c.id == queue_id)
        if not archived:
            query = query.where(queues.c.archived_at.is_(None))
        r = (await self._conn.execute(query)).mappings().first()
        return _queue(r) if r else None

    async def list_agents(self) -> list[Agent]:
        rows = (await self._conn.execute(sa.select(agents).order_by(agents.c.name))).mappings()
        return [_agent(r) for r in rows]

    async def list_queues(self, *, archived: bool = False) -> list[Queue]:
        query = sa.select(queues).order_by(queues.c.name)
        if not archived:
            query = query.where(queues.c.archived_at.is_(None))
        return [_queue(r) for r in (await self._conn.execute(query)).mappings()]

    async def list_teams(self) -> list[Team]:
        rows = (await self._conn.execute(sa.select(teams).order_by(teams.c.name))).mappings()
        return [Team(id=r["id"], name=r["name"]) for r in rows]


def _queue(r: sa.RowMapping) -> Queue:
    return Queue(id=r["id"], name=r["name"], team_id=r["team_id"],
                 description=r["description"], archived_at=r["archived_at"])


def _agent(r: sa.RowMapping) -> Agent:
    return Agent(
        id=r["id"], name=r["name"], username=r["username"], tier=Tier(r["tier"]),
        team_ids=list(r["team_ids"]), skills={k: int(v) for k, v in r["skills"].items()},
        capacity={Channel(k): int(v) for k, v in r["capacity"].items()},
        presence=Presence(r["presence"]), presence_since=r["presence_since"],
        active=r["active"], queue_ids=list(r["queue_ids"]), phone=r["phone"])


class SqlAccess:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add_token(self, *, token_id: str, token_hash: str, principal: Principal,
                        created_at: datetime) -> None:
        await self._conn.execute(api_tokens.insert().values(
            id=token_id, token_hash=token_hash, principal_id=principal.id, name=principal.name,
            role=principal.role.value, agent_id=principal.agent_id, created_at=created_at))

    async def tokens(self) -> list[TokenInfo]:
        rows = (await self._conn.execute(sa.select(api_tokens).order_by(
            api_tokens.c.created_at.desc(), api_tokens.c.id.desc()))).mappings()
        return [TokenInfo(id=r["id"], name=r["name"], role=Role(r["role"]),
                          agent_id=r["agent_id"], created_at=r["created_at"],
                          revoked_at=r["revoked_at"]) for r in rows]

    async def revoke_token(self, token_id: str, *, at: datetime) -> bool:
        result = await self._conn.execute(
            api_tokens.update().where(api_tokens.c.id == token_id,
                                      api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=at))
        return bool(result.rowcount)

    async def principal_for_token(self, token_hash: str) -> Principal | None:
        r = (await self._conn.execute(sa.select(api_tokens).where(
            api_tokens.c.token_hash == token_hash, api_tokens.c.revoked_at.is_(None),
            _not_suspended(api_tokens.c.agent_id),
        ))).mappings().first()
        if r is None:
            return None
        return Principal(id=r["principal_id"], name=r["name"], role=Role(r["role"]),
                         agent_id=r["agent_id"])

    async def add_user(self, *, user_id: str, username: str, password_hash: str, role: Role,
                       agent_id: str | None, created_at: datetime) -> None:
        await self._conn.execute(users.insert().values(
            id=user_id, username=username, password_hash=password_hash, role=role.value,
            agent_id=agent_id, created_at=created_at))

    async def password_hash_for(self, username: str) -> tuple[str, Principal] | None:
        r = (await self._conn.execute(
            sa.select(users).where(users.c.username == username))).mappings().first()
        if r is None:
            return None
        return r["password_hash"], _user_principal(r)

    async def add_session(self, *, token_hash: str, user_id: str, created_at: datetime,
                          expires_at: datetime) -> None:
        await self._conn.execute(web_sessions.insert().values(
            token_hash=token_hash, user_id=user_id, created_at=created_at,
            expires_at=expires_at))

    async def principal_for_session(self, token_hash: str, *, at: datetime
                                    ) -> Principal | None:
        r = (await self._conn.execute(
            sa.select(users).join(web_sessions, web_sessions.c.user_id == users.c.id).where(
                web_sessions.c.token_hash == token_hash, web_sessions.c.revoked_at.is_(None),
                web_sessions.c.expires_at > at, _not_suspended(users.c.agent_id),
            ))).mappings().first()
        return None if r is None else _user_principal(r)

    async def revoke_session(self, token_hash: str, *, at: datetime) -> str | None:
        user_id = (await self._conn.execute(
            web_sessions.update().where(web_sessions.c.token_hash == token_hash,
                                        web_sessions.c.revoked_at.is_(None))
            .values(revoked_at=at).returning(web_sessions.c.user_id))).scalar()
        return None if user_id is None else str(user_id)

    async def set_password_hash(self, username: str, password_hash: str) -> str | None:
        user_id = (await self._conn.execute(
            users.update().where(users.c.username == username)
            .values(password_hash=password_hash).returning(users.c.id))).scalar()
        return None if user_id is None else str(user_id)

    async def revoke_sessions_of(self, user_id: str, *, at: datetime) -> int:
        result = await self._conn.execute(
            web_sessions.update().where(web_sessions.c.user_id == user_id,
                                        web_sessions.c.revoked_at.is_(None))
            .values(revoked_at=at))
        return int(result.rowcount)


def _not_suspended(agent_id: sa.ColumnElement[str | None]) -> sa.ColumnElement[bool]:
    """A token or login of an agent counts only while the agent is active: suspending
    someone shuts every door at once, without hunting down their tokens."""
    return sa.or_(agent_id.is_(None), sa.exists().where(agents.c.id == agent_id,
                                                        agents.c.active.is_(True)))


def _user_principal(r: sa.RowMapping) -> Principal:
    return Principal(id=r["id"], name=r["username"], role=Role(r["role"]),
                     agent_id=r["agent_id"])
