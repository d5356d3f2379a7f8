"""API tokens and user passwords.

Tokens are 256 bits from ``secrets`` and stored as SHA-256: with that much entropy a slow
hash adds nothing, and every API request must verify one cheaply. Passwords are people's
and get Argon2id (argon2-cffi's defaults), hashed off the event loop because it is
deliberately slow.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.domain.clock import Clock
from core.domain.errors import InvalidInput
from core.domain.ids import new_id
from core.domain.workforce import Role
from core.ports import Principal, UnitOfWorkFactory

TOKEN_PREFIX = "sb_"  # noqa: S105 - a public marker, not a secret
_hasher = PasswordHasher()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Access:
    def __init__(self, uow: UnitOfWorkFactory, read_uow: UnitOfWorkFactory,
                 clock: Clock) -> None:
        self._uow = uow
        self._read_uow = read_uow
        self._clock = clock

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
        if len(password) < 12:
            raise InvalidInput({"password": "use at least 12 characters"})
        hashed = await asyncio.to_thread(_hasher.hash, password)
        user_id = new_id("usr")
        async with self._uow() as uow:
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
