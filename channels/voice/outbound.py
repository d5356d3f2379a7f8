"""Click-to-call: Twilio rings the agent first (their Twilio Client identity); when the
agent answers, the ``connect`` webhook dials the customer. The call is logged as an
outbound contact on the customer's timeline at once, and completed by status callbacks.

Twilio's REST API is reached with the `twilio` library's asyncio HTTP client (aiohttp),
never a blocking one; its base URL is configurable so tests talk to a local fake.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from channels.voice import twiml
from core.domain.calls import Call, CallStatus
from core.domain.channels import Channel, Direction
from core.domain.clock import Clock
from core.domain.commands import IngestContact, Party
from core.domain.customer import IdentifierKind
from core.domain.errors import Conflict, InvalidInput, NotFound
from core.domain.privacy import OutboundPurpose
from core.identity.normalise import normalise_phone
from core.ports import UnitOfWork, UnitOfWorkFactory
from core.services.consent import ConsentWithdrawn
from core.services.consent import refusal as consent_refusal
from core.services.ingest import ContactIngestion


class TwilioUnavailable(Conflict):
    """Twilio refused or could not be reached; the reason is safe to show."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TwilioAccount:
    account_sid: str
    auth_token: str
    public_url: str
    caller_id: str | None  # the number customers see (click-to-call needs it)
    api_url: str = "https://api.twilio.com"


@dataclass(frozen=True, slots=True, kw_only=True)
class Placed:
    call_sid: str
    contact_id: str
    to: str


class ClickToCall:
    def __init__(self, *, account: TwilioAccount | None, uow: UnitOfWorkFactory,
                 ingestion: ContactIngestion, clock: Clock, default_region: str) -> None:
        self._account = account
        self._uow = uow
        self._ingestion = ingestion
        self._clock = clock
        self._region = default_region

    async def place(self, *, agent_id: str, number: str | None,
                    customer_id: str | None) -> Placed:
        account = self._account
        if account is None or account.caller_id is None:
            raise Conflict("calling is not configured: set SWITCHBOARD_TWILIO_ACCOUNT_SID, "
                           "SWITCHBOARD_TWILIO_AUTH_TOKEN, SWITCHBOARD_PUBLIC_URL and "
                           "SWITCHBOARD_TWILIO_CALLER_ID")
        caller_id = account.caller_id
        to = await self._number(number, customer_id)
        async with self._uow() as uow:
            agent = await uow.workforce.get_agent(agent_id)
            await _may_call(uow, to, customer_id)
        if agent is None:
            raise NotFound("agent", agent_id)
        # The agent's own phone when they have one, else their browser (Twilio Client).
        sid = await self._create(account, caller_id, agent.phone or f"client:{agent_id}")
        now = self._clock.now()
        async with self._uow() as uow:
            await uow.calls.add(Call(sid=sid, direction="outbound", from_number=caller_id,
                                     to_number=to, status=CallStatus.QUEUED,
                                     customer_id=customer_id, started_at=now))
            await uow.commit()
        result = await self._ingestion.ingest(IngestContact(
            channel=Channel.PHONE, direction=Direction.OUTBOUND, external_id=sid,
            party=Party(phone=to), occurred_at=now, summary="Uitgaand gesprek",
            from_address=caller_id,
            metadata=(("call_sid", sid), ("agent_id", agent_id), ("click_to_call", "true")),
            open_case=False))
        async with self._uow() as uow:
            stored = await uow.calls.get(sid)
            if stored is not None:
                stored.contact_id, stored.customer_id = result.contact_id, result.customer_id
                await uow.calls.save(stored)
                await uow.commit()
        return Placed(call_sid=sid, contact_id=result.contact_id, to=to)

    async def _number(self, number: str | None, customer_id: str | None) -> str:
        if number:
            normalised = normalise_phone(number, self._region)
            if not normalised.valid or normalised.normalized is None:
                raise InvalidInput({"number": normalised.problem or "not a phone number"})
            return normalised.normalized
        if customer_id is None:
            raise InvalidInput({"number": "give a number or a customer"})
        async with self._uow() as uow:
            customer = await uow.customers.get(customer_id)
        if customer is None:
            raise NotFound("customer", customer_id)
        phones = [i.normalized for i in customer.identifiers
                  if i.kind is IdentifierKind.PHONE and i.normalized and not i.claimed]
        if not phones:
            raise InvalidInput({"customer_id": "the customer has no phone number"})
        return phones[0]

    async def _create(self, account: TwilioAccount, caller_id: str, agent_leg: str) -> str:
        base = account.public_url.rstrip("/")
        try:
            async with twilio_client(account) as client:
                created = await client.calls.create_async(
                    to=agent_leg, from_=caller_id,
                    url=base + twiml.url("connect"), method="POST",
                    status_callback=base + twiml.url("status"), status_callback_method="POST",
                    status_callback_event=["initiated", "ringing", "answered", "completed"])
        except TwilioRestException as err:
            raise TwilioUnavailable(f"Twilio refused the call: {err.status} "
                                    f"{(err.msg or '')[:200]}") from None
        except (TwilioException, OSError, TimeoutError) as err:
            raise TwilioUnavailable(f"Twilio could not be reached: {type(err).__name__}") \
                from None
        return str(created.sid)


async def _may_call(uow: UnitOfWork, number: str, customer_id: str | None) -> None:
    """Refuse a call to a customer who withdrew consent to be called, unless it is about an
    open case of theirs. A number typed in counts for whoever holds it, so consent cannot
    be sidestepped by dialling instead of clicking the customer."""
    holders = [customer_id] if customer_id else (await uow.customers.holders(
        [(IdentifierKind.PHONE, number)])).get((IdentifierKind.PHONE, number), [])
    for holder in holders:
        refused = await consent_refusal(uow, holder, OutboundPurpose.CALL)
        if refused is not None:
            raise ConsentWithdrawn(refused)


@asynccontextmanager
async def twilio_client(account: TwilioAccount) -> AsyncIterator[Client]:
    """A REST client on the `twilio` library's asyncio HTTP client, closed after use."""
    http = AsyncTwilioHttpClient(timeout=10)
    client = Client(account.account_sid, account.auth_token, http_client=http)
    client.api.base_url = account.api_url
    try:
        yield client
    finally:
        await http.close()
