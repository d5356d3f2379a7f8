"""Phone self-service: a caller whose number we do not know links it to their customer
number, proven by a code e-mailed to the address on their record (a real SMTP sink)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.integration.test_voice import MONDAY, PUBLIC, TOKEN, call, post, says
from tests.support.centre import Centre, running_centre
from tests.support.mail import MAIL_FROM
from tests.support.smtp_sink import SmtpSink, smtp_sink

WAIT_S = 10.0
NEW_PHONE = "+31687654321"
LINK = "/webhooks/twilio/voice/menu?node=_link_number&lang=nl"
CODE = "/webhooks/twilio/voice/menu?node=_link_code&lang=nl"


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    async with smtp_sink() as running:
        yield running


@pytest.fixture
async def centre(database_url: str, sink: SmtpSink) -> AsyncIterator[Centre]:
    async with running_centre(database_url, MONDAY, workers=("relay", "mail-delivery"),
                              extra_settings={"twilio_auth_token": TOKEN, "public_url": PUBLIC,
                                              "smtp_url": sink.url, "mail_from": MAIL_FROM}
                              ) as running:
        yield running


async def customer_with_number(centre: Centre, crm_id: str = "100234") -> dict[str, Any]:
    """A customer known by e-mail and customer number, not by the phone they call from."""
    return await centre.contact(channel="email", external_id="<marieke@example.nl>",
                                **{"from": {"email": "marieke@example.nl", "crm_id": crm_id,
                                            "name": "Marieke Jansen"}},
                                subject="Vraag", body="Hallo")


def from_new_phone(sid: str, **extra: str) -> dict[str, str]:
    return call(sid, From=NEW_PHONE, CallStatus="in-progress", **extra)


async def code_from_mail(sink: SmtpSink) -> str:
    [delivered] = await sink.wait_for(1, WAIT_S)
    assert delivered.rcpt_tos == ["marieke@example.nl"]
    assert delivered.message["Auto-Submitted"] == "auto-replied"
    match = re.search(r"^\s+(\d{6})\s*$", delivered.message.get_content(), re.M)
    assert match, delivered.message.get_content()
    return match.group(1)


async def phone_holder(centre: Centre, phone: str) -> list[str]:
    async with centre.services.read_uow() as uow:
        return [c.id for c in await uow.customers.search(email=None, phone=phone, text=None,
                                                         limit=5)]


async def test_a_caller_links_their_number_with_a_code_from_their_email(
        centre: Centre, sink: SmtpSink) -> None:
    marieke = await customer_with_number(centre)
    _, greeting = await post(centre, "/webhooks/twilio/voice", from_new_phone("CA1"))
    assert greeting is not None and "Marieke" not in says(greeting)  # not recognised yet

    _, asked = await post(centre, "/webhooks/twilio/voice/menu?node=root&lang=nl&attempt=0",
                          from_new_phone("CA1", Digits="5"))
    assert asked is not None
    gather = asked.find("Gather")
    assert gather is not None and gather.get("finishOnKey") == "#"
    assert gather.get("action", "").startswith(LINK)
    assert "klantnummer" in says(asked)

    _, sent = await post(centre, LINK, from_new_phone("CA1", Digits="100234#"))
    assert sent is not None
    assert "m ... @example.nl" in says(sent)  # masked: the caller recognises, nobody learns
    code = await code_from_mail(sink)

    # The timeline says a code was sent, never the code.
    timeline = await centre.client.get(f"/api/customers/{marieke['customer_id']}/timeline",
                                       headers=centre.supervisor)
    bodies = [c.get("body") or "" for c in (await timeline.json())["items"]]
    assert any("Verificatiecode" in b for b in bodies)
    assert not any(code in b for b in bodies)

    _, linked = await post(centre, CODE, from_new_phone("CA1", Digits=code))
    assert linked is not None and "gekoppeld" in says(linked)
    assert await phone_holder(centre, NEW_PHONE) == [marieke["customer_id"]]

    # Recorded on the customer like any profile edit: who, how, what.
    async with centre.services.read_uow() as uow:
        customer = await uow.customers.get(marieke["customer_id"])
    assert customer is not None
    phone = next(i for i in customer.identifiers
                                        if i.normalized == NEW_PHONE)
    assert phone.verified

    # The next call from that number is greeted by name.
    _, next_call = await post(centre, "/webhooks/twilio/voice", from_new_phone("CA2"))
    assert next_call is not None and "Marieke Jansen" in says(next_call)


async def test_three_wrong_codes_end_the_attempt_and_link_nothing(
        centre: Centre, sink: SmtpSink) -> None:
    await customer_with_number(centre)
    await post(centre, "/webhooks/twilio/voice", from_new_phone("CA3"))
    await post(centre, LINK, from_new_phone("CA3", Digits="100234#"))
    code = await code_from_mail(sink)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    for _ in range(2):
        _, again = await post(centre, CODE, from_new_phone("CA3", Digits=wrong))
        assert again is not None and "klopt niet" in says(again)
        assert again.find("Gather") is not None
    _, ended = await post(centre, CODE, from_new_phone("CA3", Digits=wrong))
    assert ended is not None and "te vaak" in says(ended)
    _, late = await post(centre, CODE, from_new_phone("CA3", Digits=code))  # right, too late
    assert late is not None and "gekoppeld" not in says(late)
    assert await phone_holder(centre, NEW_PHONE) == []


async def test_an_unknown_customer_number_sends_nothing(centre: Centre,
                                                        sink: SmtpSink) -> None:
    await customer_with_number(centre)
    _, answer = await post(centre, LINK, from_new_phone("CA4", Digits="999999#"))
    assert answer is not None and "kennen we niet" in says(answer)
    await post(centre, "/webhooks/twilio/voice", from_new_phone("CA4"))
    _, answer = await post(centre, LINK, from_new_phone("CA4", Digits="999999#"))
    assert answer is not None and "kennen we niet" in says(answer)
    assert answer.find("Gather") is not None  # back to the menu
    assert sink.messages == []


async def test_a_number_that_is_someone_elses_is_not_moved(centre: Centre,
                                                           sink: SmtpSink) -> None:
    await customer_with_number(centre)
    other = await centre.contact(channel="phone", external_id="CAx",
                                 **{"from": {"phone": NEW_PHONE, "name": "Piet"}})
    await post(centre, "/webhooks/twilio/voice", from_new_phone("CA5"))
    _, answer = await post(centre, LINK, from_new_phone("CA5", Digits="100234#"))
    assert answer is not None and "ander klantnummer" in says(answer)
    assert await phone_holder(centre, NEW_PHONE) == [other["customer_id"]]
    assert sink.messages == []


async def test_codes_per_customer_are_capped(centre: Centre, sink: SmtpSink) -> None:
    await customer_with_number(centre)
    for n in range(3):
        await post(centre, "/webhooks/twilio/voice", from_new_phone(f"CB{n}"))
        _, sent = await post(centre, LINK, from_new_phone(f"CB{n}", Digits="100234#"))
        assert sent is not None and "code van zes cijfers" in says(sent)
    await post(centre, "/webhooks/twilio/voice", from_new_phone("CB9"))
    _, capped = await post(centre, LINK, from_new_phone("CB9", Digits="100234#"))
    assert capped is not None and "te veel codes" in says(capped)
    assert len(await sink.wait_for(3, WAIT_S)) == 3
