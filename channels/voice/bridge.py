"""Putting a waiting caller through to the agent routing chose.

The moment routing offers a phone case to an agent, the agent's desktop gets the offer
with the screen-pop (the notifier pushes it first), then Twilio is told to take the
caller out of the queue and ring the agent (``<Dial><Client>``) for as long as the offer
lasts. The agent picking up *is* accepting the offer; no answer, busy or a failure is a
decline, and the caller goes back into the queue for the next agent.

A call the agent transfers leaves them the same way: Twilio is told to take the caller out
of the conversation and back into the (new) queue, with its wait music, where the next
offer finds them (``transferred``, then the ``hold`` webhook).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

from twilio.base.exceptions import TwilioException
from twilio.twiml.voice_response import VoiceResponse

from channels.voice import twiml
from channels.voice.outbound import TwilioAccount, TwilioUnavailable, twilio_client
from core.domain.calls import CallOutcome
from core.domain.channels import Channel
from core.domain.clock import Clock
from core.domain.errors import DomainError
from core.domain.work import OfferStatus
from core.ports import UnitOfWorkFactory
from routing.desk import AgentDesk

MIN_RING_S = 5


class CallBridge:
    def __init__(self, *, account: TwilioAccount | None, uow: UnitOfWorkFactory,
                 read_uow: UnitOfWorkFactory, clock: Clock, desk: AgentDesk) -> None:
        self._account = account
        self._uow = uow
        self._read_uow = read_uow
        self._clock = clock
        self._desk = desk

    async def offered(self, offer_id: str) -> bool:
        """Ring the agent for a phone offer; False when there is no live call to bridge."""
        async with self._read_uow() as uow:
            offer = await uow.work.get_offer(offer_id)
            if offer is None or offer.channel is not Channel.PHONE \
                    or offer.status is not OfferStatus.PENDING:
                return False
            call = await uow.calls.active_for_case(offer.case_id)
        if call is None or self._account is None:
            return False
        await self._redirect(call.sid, twiml.url("bridge", offer=offer_id))
        return True

    async def bridge(self, offer_id: str) -> str:
        response = VoiceResponse()
        async with self._read_uow() as uow:
            offer = await uow.work.get_offer(offer_id)
            agent = await uow.workforce.get_agent(offer.agent_id) if offer else None
        if offer is None or offer.status is not OfferStatus.PENDING:
            response.redirect(twiml.url("requeue", offer=offer_id), method="POST")
            return twiml.xml(response)
        ring_s = max(MIN_RING_S, int((offer.expires_at - self._clock.now()).total_seconds()))
        dial = response.dial(timeout=ring_s, answer_on_bridge=True, method="POST",
                             action=twiml.url("dial-result", offer=offer_id))
        answered = twiml.url("agent-answered", offer=offer_id)
        if agent is not None and agent.phone:
            # A plain phone has no screen: the pop is on the agent's desktop already, and
            # the agent-answered step runs as they pick up, before the caller is connected.
            dial.number(agent.phone, url=answered, method="POST")
        else:
            dial.client(offer.agent_id, url=answered, method="POST")
        return twiml.xml(response)

    async def agent_answered(self, p: Mapping[str, str], offer_id: str) -> str:
        """On the agent's leg, as they pick up: that is their acceptance."""
        async with self._read_uow() as uow:
            offer = await uow.work.get_offer(offer_id)
        response = VoiceResponse()
        if offer is None:
            response.hangup()
            return twiml.xml(response)
        try:
            await self._desk.accept(offer.agent_id, offer_id)
        except DomainError:
            response.hangup()  # the offer went to someone else meanwhile
            return twiml.xml(response)
        async with self._uow() as uow:
            call = await uow.calls.active_for_case(offer.case_id)
            if call is not None:
                call.answered_at = call.answered_at or self._clock.now()
                call.outcome = CallOutcome.ANSWERED
                await uow.calls.save(call)
                await uow.commit()
        return twiml.xml(response)  # empty: connect the two legs

    async def dial_result(self, p: Mapping[str, str], offer_id: str, *, queue: str) -> str:
        """The agent did not pick up (no answer, busy, failed): back in the queue for the
        next agent. (After a conversation the caller goes to VoiceService.after_call.)"""
        response = VoiceResponse()
        async with self._read_uow() as uow:
            offer = await uow.work.get_offer(offer_id)
        if offer is not None and offer.status is OfferStatus.PENDING:
            # Expired meanwhile: the offer timer already moved it on.
            with contextlib.suppress(DomainError):
                await self._desk.decline(offer.agent_id, offer_id)
        response.enqueue(queue, wait_url=twiml.url("wait"), wait_url_method="POST")
        return twiml.xml(response)

    async def transferred(self, case_id: str) -> bool:
        """The agent handed the case on: take the caller out of their conversation and back
        into the queue. False when the case has no live inbound call."""
        async with self._read_uow() as uow:
            call = await uow.calls.active_for_case(case_id)
        if call is None or self._account is None:
            return False
        await self._redirect(call.sid, twiml.url("hold", case=case_id, lang=call.language))
        return True

    async def hold(self, case_id: str, *, language: str = "nl") -> str:
        """A transferred caller's TwiML: ring the agent already offered the case (routing
        may have been quicker than this redirect), else wait in the case's queue."""
        async with self._read_uow() as uow:
            item = await uow.work.item_for_case(case_id)
            offer = await uow.work.get_offer(item.offer_id) \
                if item is not None and item.offer_id else None
        if offer is not None and offer.status is OfferStatus.PENDING:
            return await self.bridge(offer.id)
        response = VoiceResponse()
        response.enqueue(item.queue_id if item is not None else "general",
                         wait_url=twiml.url("wait", lang=language), wait_url_method="POST")
        return twiml.xml(response)

    async def queue_of(self, offer_id: str) -> str:
        async with self._read_uow() as uow:
            offer = await uow.work.get_offer(offer_id)
            item = await uow.work.get_item(offer.work_item_id) if offer else None
        return item.queue_id if item is not None else "general"

    async def _redirect(self, sid: str, path: str) -> None:
        account = self._account
        assert account is not None
        try:
            async with twilio_client(account) as client:
                await client.calls(sid).update_async(
                    url=account.public_url.rstrip("/") + path, method="POST")
        except (TwilioException, OSError, TimeoutError) as err:
            raise TwilioUnavailable(f"could not put the call through: {err}") from None
