"""API tokens and user passwords.

Tokens are 256 bits from ``secrets`` and stored as SHA-256: with that much entropy a slow
hash adds nothing, and every API request must verify one cheaply. Passwords are people's
and get Argon2id (argon2-cffi's defaults), hashed off the event loop because it is
deliberately slow.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.domain.clock import Clock
from core.domain.errors import Conflict, InvalidInput, NotFound
from core.domain.ids import new_id
from core.domain.workforce import Role
from core.ports import Principal, UnitOfWorkFactory

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

    async def create_token(self, *, role: Role, name: str, agent_id: str | None = None) -> str:
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        async with self._uow() as uow:
            if agent_id is not None and await uow.workforce.get_agent(agent_id) is None:
                raise InvalidInput({"agent": f"no agent {agent_id!r}"})
            principal = Principal(id=agent_id or new_id("prn"), name=name, role=role,
                                  agent_id=agent_id)
            await uow.access.add_token(token_id=new_id("tok"), token_hash=token_hash(token),
                                       principal=principal, created_at=self._clock.now())
            await uow.commit()
        return token

    async def authenticate(self, token: str) -> Principal | None:
        if not token.startswith(TOKEN_PREFIX):
            return None
        async with self._read_uow() as uow:
            return await uow.access.principal_for_token(token_hash(token))

    async def create_user(self, *, username: str, password: str, role: Role,
                          agent_id: str | None = None) -> str:
        hashed = await _hash_new_password(password)
        user_id = new_id("usr")
        async with self._uow() as uow:
            if await uow.access.password_hash_for(username) is not None:
                raise Conflict(f"the user name {username!r} is taken")
            if agent_id is not None and await uow.workforce.get_agent(agent_id) is None:
                raise InvalidInput({"agent": f"no agent {agent_id!r}"})
            await uow.access.add_user(user_id=user_id, username=username, password_hash=hashed,
                                      role=role, agent_id=agent_id, created_at=self._clock.now())
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

    async def login(self, username: str, password: str) -> Login | None:
        """A new browser session for a correct user name and password; None otherwise
        (without saying which of the two was wrong)."""
        principal = await self.check_password(username, password)
        if principal is None:
            return None
        token = SESSION_PREFIX + secrets.token_urlsafe(32)
        now = self._clock.now()
        async with self._uow() as uow:
            if principal.agent_id is not None:
                agent = await uow.workforce.get_agent(principal.agent_id)
                if agent is None or not agent.active:
                    return None  # suspended: as if the password were wrong
            await uow.access.add_session(token_hash=token_hash(token), user_id=principal.id,
                                         created_at=now, expires_at=now + self._session_ttl)
            await uow.commit()
        return Login(session_token=token, principal=principal)

    async def session_principal(self, session_token: str) -> Principal | None:
        if not session_token.startswith(SESSION_PREFIX):
            return None
        async with self._read_uow() as uow:
            return await uow.access.principal_for_session(token_hash(session_token),
                                                          at=self._clock.now())

    async def logout(self, session_token: str) -> str | None:
        """End a session at once; the user id whose session it was, if it was live."""
        async with self._uow() as uow:
            user_id = await uow.access.revoke_session(token_hash(session_token),
                                                      at=self._clock.now())
            await uow.commit()
        return user_id

    async def set_password(self, username: str, password: str) -> None:
        """A new password; every session of the user ends (they may have been stolen)."""
        hashed = await _hash_new_password(password)
        async with self._uow() as uow:
            user_id = await uow.access.set_password_hash(username, hashed)
            if user_id is None:
                raise NotFound("user", username)
            await uow.access.revoke_sessions_of(user_id, at=self._clock.now())
            await uow.commit()
