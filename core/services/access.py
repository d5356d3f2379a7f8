"""API tokens and user passwords.

Tokens are 256 bits from ``secrets`` and stored as SHA-256: with that much entropy a slow
hash adds nothing, and every API request must verify one cheaply. Passwords are people's
and get Argon2id (argon2-cffi's defaults), hashed off the event loop because it is
deliberately slow.

Every change here, and every login attempt, is written to the audit log in the same
transaction (core.services.audit); never a password, token or hash.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.domain.audit import SYSTEM, Actor, AuditAction
from core.domain.clock import Clock
from core.domain.errors import Conflict, InvalidInput, NotFound
from core.domain.ids import new_id
from core.domain.workforce import Role
from core.ports import Principal, TokenInfo, UnitOfWork, UnitOfWorkFactory
from core.services import audit

TOKEN_PREFIX = "sb_"  # noqa: S105 - a public marker, not a secret
SESSION_PREFIX = "sbs_"
_hasher = PasswordHasher()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(session_token: str) -> str:
    """The anti-forgery token of a session: derived, so nothing more is stored, and useless
    without the session cookie it belongs to (which pages cannot read: it is HttpOnly)."""
    return hmac.new(session_token.encode(), b"switchboard csrf", hashlib.sha256).hexdigest()


def csrf_matches(session_token: str, offered: str) -> bool:
    return hmac.compare_digest(csrf_token(session_token), offered)


@dataclass(frozen=True, slots=True)
class Login:
    session_token: str
    principal: Principal


@dataclass(frozen=True, slots=True)
class IssuedToken:
    id: str  # names the token for revoking it; the token itself is shown once
    token: str


def actor_of(principal: Principal, *, request_id: str | None = None) -> Actor:
    return Actor(id=principal.id, name=principal.name, role=principal.role.value,
                 request_id=request_id)


async def _hash_new_password(password: str) -> str:
    if len(password) < 12:
        raise InvalidInput({"password": "use at least 12 characters"})
    if len(password) > 200:
        raise InvalidInput({"password": "use at most 200 characters"})
    return await asyncio.to_thread(_hasher.hash, password)


class Access:
    def __init__(self, uow: UnitOfWorkFactory, read_uow: UnitOfWorkFactory,
                 clock: Clock, *, session_ttl: timedelta = timedelta(hours=12)) -> None:
        self._uow = uow
        self._read_uow = read_uow
        self._clock = clock
        self._session_ttl = session_ttl

    async def create_token(self, *, role: Role, name: str, agent_id: str | None = None,
                           actor: Actor = SYSTEM) -> str:
        issued = await self.issue_token(role=role, name=name, agent_id=agent_id, actor=actor)
        return issued.token

    async def issue_token(self, *, role: Role, name: str, agent_id: str | None = None,
                          actor: Actor = SYSTEM) -> IssuedToken:
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token_id = new_id("tok")
        async with self._uow() as uow:
            if agent_id is not None and await uow.workforce.get_agent(agent_id) is None:
                raise InvalidInput({"agent": f"no agent {agent_id!r}"})
            principal = Principal(id=agent_id or new_id("prn"), name=name, role=role,
                                  agent_id=agent_id)
            now = self._clock.now()
            await uow.access.add_token(token_id=token_id, token_hash=token_hash(token),
                                       principal=principal, created_at=now)
            await audit.record(uow, at=now, actor=actor, action=AuditAction.TOKEN_CREATED,
                               subject_kind="token", subject_id=token_id,
                               details={"name": name, "role": role.value, "agent_id": agent_id})
            await uow.commit()
        return IssuedToken(id=token_id, token=token)

    async def tokens(self) -> list[TokenInfo]:
        async with self._read_uow() as uow:
            return await uow.access.tokens()

    async def revoke_token(self, token_id: str, *, actor: Actor) -> None:
        """The token stops working at once (the next request with it gets 401)."""
        async with self._uow() as uow:
            now = self._clock.now()
            if not await uow.access.revoke_token(token_id, at=now):
                raise NotFound("live token", token_id)
            await audit.record(uow, at=now, actor=actor, action=AuditAction.TOKEN_REVOKED,
                               subject_kind="token", subject_id=token_id)
            await uow.commit()

    async def authenticate(self, token: str) -> Principal | None:
        if not token.startswith(TOKEN_PREFIX):
            return None
        async with self._read_uow() as uow:
            return await uow.access.principal_for_token(token_hash(token))

    async def create_user(self, *, username: str, password: str, role: Role,
                          agent_id: str | None = None, actor: Actor = SYSTEM) -> str:
        if role is Role.AUDITOR:
            raise InvalidInput({"role": "an auditor reads the audit log and reports through "
                                        "the API with a token; there is no page to log in to"})
        hashed = await _hash_new_password(password)
        user_id = new_id("usr")
        async with self._uow() as uow:
            if await uow.access.password_hash_for(username) is not None:
                raise Conflict(f"the user name {username!r} is taken")
            if agent_id is not None and await uow.workforce.get_agent(agent_id) is None:
                raise InvalidInput({"agent": f"no agent {agent_id!r}"})
            now = self._clock.now()
            await uow.access.add_user(user_id=user_id, username=username, password_hash=hashed,
                                      role=role, agent_id=agent_id, created_at=now)
            await audit.record(uow, at=now, actor=actor, action=AuditAction.USER_CREATED,
                               subject_kind="user", subject_id=user_id,
                               details={"username": username, "role": role.value,
                                        "agent_id": agent_id})
            await uow.commit()
        return user_id

    async def check_password(self, username: str, password: str) -> Principal | None:
        async with self._read_uow() as uow:
            found = await uow.access.password_hash_for(username)
        if found is None:
            # Spend the same time as a real check so usernames cannot be probed by timing.
            await asyncio.to_thread(_hasher.hash, password)
            return None
        hashed, principal = found
        try:
            await asyncio.to_thread(_hasher.verify, hashed, password)
        except (VerificationError, InvalidHashError):
            return None
        return principal

    async def login(self, username: str, password: str, *, request_id: str | None = None,
                    client: str | None = None) -> Login | None:
        """A new browser session for a correct user name and password; None otherwise
        (without saying which of the two was wrong). Both outcomes are audited, with the
        user name tried and never the password."""
        principal = await self.check_password(username, password)
        token = SESSION_PREFIX + secrets.token_urlsafe(32)
        now = self._clock.now()
        async with self._uow() as uow:
            refusal = "wrong user name or password" if principal is None else None
            if principal is not None and principal.agent_id is not None:
                agent = await uow.workforce.get_agent(principal.agent_id)
                if agent is None or not agent.active:
                    refusal = "suspended"  # told to the caller as if the password were wrong
            if principal is None or refusal is not None:
                await _login_failed(uow, at=now, username=username, refusal=refusal or "",
                                    user_id=principal.id if principal else None,
                                    request_id=request_id, client=client)
                await uow.commit()
                return None
            await uow.access.add_session(token_hash=token_hash(token), user_id=principal.id,
                                         created_at=now, expires_at=now + self._session_ttl)
            await audit.record(uow, at=now, actor=actor_of(principal, request_id=request_id),
                               action=AuditAction.LOGIN_SUCCEEDED, subject_kind="user",
                               subject_id=principal.id,
                               details={"username": username, "client": client})
            await uow.commit()
        return Login(session_token=token, principal=principal)

    async def session_principal(self, session_token: str) -> Principal | None:
        if not session_token.startswith(SESSION_PREFIX):
            return None
        async with self._read_uow() as uow:
            return await uow.access.principal_for_session(token_hash(session_token),
                                                          at=self._clock.now())

    async def logout(self, session_token: str, *, actor: Actor = SYSTEM) -> str | None:
        """End a session at once; the user id whose session it was, if it was live."""
        async with self._uow() as uow:
            now = self._clock.now()
            user_id = await uow.access.revoke_session(token_hash(session_token), at=now)
            if user_id is not None:
                await audit.record(uow, at=now, actor=actor, action=AuditAction.LOGOUT,
                                   subject_kind="user", subject_id=user_id)
            await uow.commit()
        return user_id

    async def set_password(self, username: str, password: str, *,
                           actor: Actor = SYSTEM) -> None:
        """A new password; every session of the user ends (they may have been stolen)."""
        hashed = await _hash_new_password(password)
        async with self._uow() as uow:
            user_id = await uow.access.set_password_hash(username, hashed)
            if user_id is None:
                raise NotFound("user", username)
            now = self._clock.now()
            ended = await uow.access.revoke_sessions_of(user_id, at=now)
            await audit.record(uow, at=now, actor=actor, action=AuditAction.PASSWORD_CHANGED,
                               subject_kind="user", subject_id=user_id,
                               details={"username": username, "sessions_ended": ended})
            await uow.commit()


async def _login_failed(uow: UnitOfWork, *, at: datetime, username: str, refusal: str,
                        user_id: str | None, request_id: str | None,
                        client: str | None) -> None:
    # The actor only claimed a name: no id, no role.
    await audit.record(uow, at=at, actor=Actor(id=None, name=username or "(empty)",
                                               role=None, request_id=request_id),
                       action=AuditAction.LOGIN_FAILED, subject_kind="user",
                       subject_id=user_id,
                       details={"username": username, "reason": refusal, "client": client})
