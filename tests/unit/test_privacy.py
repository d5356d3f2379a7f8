"""The privacy rules on their own: when a withdrawn consent stops outbound contact, when a
retention term is over, how an erasure moves through its steps, and legal hold release."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.domain.errors import Conflict
from core.domain.privacy import (
    ERASURE_STEPS,
    Consent,
    ConsentChannel,
    ErasureMatch,
    ErasureRequest,
    ErasureStep,
    LegalHold,
    OutboundPurpose,
    RetainedKind,
    RetentionTerms,
    UnderLegalHold,
    outbound_refusal,
)

NOW = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)


def withdrawn(channel: ConsentChannel) -> Consent:
    return Consent(customer_id="cus_1", channel=channel, granted=False,
                   changed_at=NOW - timedelta(days=2), changed_by="Anna", via="letter")


@pytest.mark.parametrize(("consents", "purpose", "own_request", "refused"), [
    ([], OutboundPurpose.CALL, False, False),
    ([withdrawn(ConsentChannel.PHONE)], OutboundPurpose.CALL, False, True),
    ([withdrawn(ConsentChannel.PHONE)], OutboundPurpose.CALL, True, False),
    ([withdrawn(ConsentChannel.PHONE)], OutboundPurpose.AUTOMATIC_MAIL, False, False),
    ([withdrawn(ConsentChannel.EMAIL)], OutboundPurpose.AUTOMATIC_MAIL, False, True),
    # An open request of theirs does not make an automatic mail wanted.
    ([withdrawn(ConsentChannel.EMAIL)], OutboundPurpose.AUTOMATIC_MAIL, True, True),
    ([withdrawn(ConsentChannel.EMAIL)], OutboundPurpose.REPLY, False, False),
    ([withdrawn(ConsentChannel.EMAIL)], OutboundPurpose.CALL, False, False),
])
def test_a_withdrawn_consent_stops_what_we_start_never_an_answer(
        consents: list[Consent], purpose: OutboundPurpose, own_request: bool,
        refused: bool) -> None:
    reason = outbound_refusal(consents, purpose, answering_own_request=own_request)
    assert (reason is not None) is refused
    if reason is not None:
        assert "2026-03-01" in reason and "letter" in reason


def test_a_term_is_a_cutoff_in_days_and_none_keeps_for_ever() -> None:
    terms = RetentionTerms(days={RetainedKind.RAW_MAIL: 30, RetainedKind.RECORDINGS: None})
    assert terms.cutoff(RetainedKind.RAW_MAIL, NOW) == NOW - timedelta(days=30)
    assert terms.cutoff(RetainedKind.RECORDINGS, NOW) is None
    assert terms.cutoff(RetainedKind.CLOSED_CASES, NOW) is None
    assert terms.any and not RetentionTerms(days={}).any


def test_an_erasure_walks_its_steps_in_order_and_forgets_the_addresses_at_the_end() -> None:
    request = ErasureRequest(id="era_1", customer_id="cus_1", customer_ids=["cus_1"],
                             requested_by="admin", requested_at=NOW, reason="request",
                             match=ErasureMatch(emails=["piet@example.nl"], phones=["+316"]))
    seen = [request.step]
    while request.step is not ErasureStep.EVENTS:
        request.cursor = "somewhere"
        request.advance()
        assert request.cursor is None  # each step starts from its beginning
        seen.append(request.step)
    assert seen == list(ERASURE_STEPS[:-1])
    request.finish(NOW)
    assert request.done and request.match == ErasureMatch()
    request.count("contacts", 3)
    request.count("contacts", 0)
    assert request.counts == {"contacts": 3}


def test_a_hold_names_itself_in_the_refusal_and_is_released_once() -> None:
    hold = LegalHold(id="hld_1", customer_id="cus_1", case_id="cas_1", reason="court order 7",
                     placed_by="Sanne", placed_at=NOW)
    message = str(UnderLegalHold(hold))
    assert "case cas_1" in message and "hld_1" in message and "court order 7" in message
    hold.release(by="admin", at=NOW, reason="over")
    assert not hold.active
    with pytest.raises(Conflict):
        hold.release(by="admin", at=NOW, reason="again")
