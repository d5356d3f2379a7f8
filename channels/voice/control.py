"""Ending a live call from the agent desktop, through Twilio's REST API.

Only the agent who holds the call — the one whose accepted work is the call's case, or who
placed it (click-to-call) — or a supervisor may end it. The call is ended with
``calls(sid).update(status="completed")``, which Twilio applies whatever the call's state
(``canceled`` would leave a call in progress alone). Twilio's status callback then records
the end as for any other hang-up, so the call is logged on the customer's timeline once.

Ending it this way ends the call for the caller too: there is no post-call survey question
(that one is asked when the agent hangs up their own phone and the caller stays on the line).
"""

from __future__ import annotations

from twilio.base.exceptions import TwilioException, TwilioRestException

from channels.voice.outbound import TwilioAccount, TwilioUnavailable, twilio_client
from core.domain.calls import Call
from core.domain.errors import Conflict, DomainError, NotFound
from core.domain.work import WorkStatus
from core.ports import UnitOfWork, UnitOfWorkFactory

# Twilio: "Call is not in-progress. Cannot redirect" — the call ended before we asked.
INVALID_CALL_STATE = 21220


class CallEnded(Conflict):
    """The call is over already; nothing to end."""


class NotYourCall(DomainError):
    """Another agent holds the call (the web layer says 403)."""


class CallControl:
    def __init__(self, *, account: TwilioAccount | None, read_uow: UnitOfWorkFactory) -> None:
        self._account = account
        self._read_uow = read_uow

    async def hang_up(self, sid: str, *, agent_id: str | None, any_call: bool = False) -> Call:
        """End the call ``sid``; ``any_call`` (a supervisor) skips the holder check."""
        async with self._read_uow() as uow:
            call = await uow.calls.get(sid)
            if call is None:
                raise NotFound("call", sid)
            if call.status.final or call.ended_at is not None:
                raise CallEnded(f"the call ended already ({call.status.value})")
            if not any_call and (agent_id is None or not await _holds(uow, call, agent_id)):
                raise NotYourCall("another agent holds this call")
        account = self._account
        if account is None:
            raise Conflict("calling is not configured: set SWITCHBOARD_TWILIO_ACCOUNT_SID, "
                           "SWITCHBOARD_TWILIO_AUTH_TOKEN and SWITCHBOARD_PUBLIC_URL")
        try:
            async with twilio_client(account) as client:
                await client.calls(sid).update_async(status="completed")
        except TwilioRestException as err:
            if err.code == INVALID_CALL_STATE or err.status == 404:
                raise CallEnded("the call ended already") from None
            raise TwilioUnavailable(f"Twilio refused to end the call: {err.status} "
                                    f"{(err.msg or '')[:200]}") from None
        except (TwilioException, OSError, TimeoutError) as err:
            raise TwilioUnavailable(f"Twilio could not be reached: {type(err).__name__}") \
                from None
        return call


async def _holds(uow: UnitOfWork, call: Call, agent_id: str) -> bool:
    if call.case_id is not None:
        item = await uow.work.item_for_case(call.case_id)
        if item is not None and item.status is WorkStatus.ASSIGNED \
                and item.assigned_agent_id == agent_id:
            return True
    if call.direction == "outbound" and call.contact_id is not None:
        contact = await uow.contacts.get(call.contact_id)  # click-to-call names its agent
        return contact is not None and contact.metadata.get("agent_id") == agent_id
    return False
