"""The screen-pop's pure parts (core/services/screen_pop.py): what makes an identifier
uncertain, the state of an SLA clock at a moment, the warnings, and the values scripts may
show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.domain.channels import Channel, ChannelRef, Direction
from core.domain.contact import Case, CaseStatus, CaseType, Contact
from core.domain.customer import (
    Customer,
    CustomerKind,
    Identifier,
    IdentifierKind,
    PossibleDuplicate,
)
from core.domain.sla import SlaClock, SlaKind
from core.domain.surveys import SurveySubject
from core.domain.workforce import Agent
from core.identity.normalise import normalise
from core.identity.resolver import Observed, resolve
from core.services.screen_pop import (
    ClockState,
    Consent,
    Uncertainty,
    WarningCode,
    check_identifier,
    clock_view,
    consent,
    context,
    open_case,
    placeholder_values,
    warnings,
)

NOW = datetime(2026, 11, 17, 10, 0, tzinfo=UTC)
CYRILLIC_A = "\u0430"


def identifier(kind: IdentifierKind, raw: str, *, claimed: bool = False,
               verified: bool = False) -> Identifier:
    n = normalise(kind, raw, default_region="NL")
    return Identifier(id=f"idn_{raw}", kind=kind, value=raw, normalized=n.normalized,
                      skeleton=n.skeleton, claimed=claimed, verified=verified,
                      first_seen_at=NOW, last_seen_at=NOW)


def flagged(reason: str, *, dismissed: bool = False) -> PossibleDuplicate:
    return PossibleDuplicate(id="dup_1", customer_id="cus_1", other_customer_id="cus_2",
                             reason=reason, contact_id=None, created_at=NOW,
                             dismissed=dismissed)


def suspicion_reason(observed: list[Observed], holders: dict[object, list[str]],
                     skeleton_holders: dict[str, list[str]] | None = None) -> str:
    """What the real resolver writes, so these tests break if its wording drifts."""
    decided = resolve(observed, holders=holders,  # type: ignore[arg-type]
                      skeleton_holders=skeleton_holders or {})
    [suspicion] = decided.duplicates
    return suspicion.reason


def seen(kind: IdentifierKind, raw: str, *, claimed: bool = False) -> Observed:
    return Observed(identifier=normalise(kind, raw, default_region="NL"), claimed=claimed)


def test_a_plain_verified_or_unverified_identifier_is_certain() -> None:
    for i in (identifier(IdentifierKind.EMAIL, "jan@example.nl"),
              identifier(IdentifierKind.PHONE, "06 12345678", verified=True)):
        check = check_identifier(i, [])
        assert not check.uncertain and check.uncertainty == ()


def test_claimed_invalid_and_look_alike_identifiers_are_uncertain() -> None:
    claimed = identifier(IdentifierKind.EMAIL, "jan@example.nl", claimed=True)
    invalid = identifier(IdentifierKind.PHONE, "12")
    look_alike = identifier(IdentifierKind.EMAIL, f"j{CYRILLIC_A}n@example.nl")
    assert check_identifier(claimed, []).uncertainty == (Uncertainty.CLAIMED,)
    assert check_identifier(invalid, []).uncertainty == (Uncertainty.INVALID,)
    assert Uncertainty.LOOK_ALIKE in check_identifier(look_alike, []).uncertainty


def test_an_identifier_named_in_an_open_duplicate_flag_is_uncertain() -> None:
    phone = identifier(IdentifierKind.PHONE, "+31612345678")
    other = identifier(IdentifierKind.PHONE, "+31612345679")
    reason = suspicion_reason(
        [seen(IdentifierKind.EMAIL, "jan@example.nl"), seen(IdentifierKind.PHONE,
                                                            "+31612345678")],
        {(IdentifierKind.EMAIL, "jan@example.nl"): ["cus_1"],
         (IdentifierKind.PHONE, "+31612345678"): ["cus_2"]})
    assert check_identifier(phone, [flagged(reason)]).uncertainty == \
        (Uncertainty.POSSIBLE_DUPLICATE,)
    # A prefix of another number is not that number; a dismissed flag says nothing.
    assert check_identifier(other, [flagged(reason)]).uncertainty == ()
    assert check_identifier(phone, [flagged(reason, dismissed=True)]).uncertainty == ()


def test_a_claim_of_someone_elses_address_is_named_by_the_flag() -> None:
    claim = identifier(IdentifierKind.EMAIL, "jan@example.nl", claimed=True)
    reason = suspicion_reason([seen(IdentifierKind.EMAIL, "jan@example.nl", claimed=True)],
                              {(IdentifierKind.EMAIL, "jan@example.nl"): ["cus_2"]})
    assert check_identifier(claim, [flagged(reason)]).uncertainty == \
        (Uncertainty.CLAIMED, Uncertainty.POSSIBLE_DUPLICATE)


def clock(**fields: object) -> SlaClock:
    values: dict[str, object] = {
        "id": "sla_1", "case_id": "cas_1", "kind": SlaKind.FIRST_RESPONSE,
        "policy_id": "sla_complaint", "calendar_id": "cal_office_nl", "target_s": 4 * 3600,
        "warn_at_fraction": 0.8, "started_at": NOW - timedelta(hours=2),
        "running_since": NOW - timedelta(hours=2), "due_at": NOW + timedelta(hours=2),
        "warn_at": NOW + timedelta(hours=1), **fields}
    return SlaClock(**values)  # type: ignore[arg-type]


def test_a_clocks_state_is_read_at_the_moment_of_the_pop() -> None:
    assert clock_view(clock(), now=NOW).state is ClockState.RUNNING
    assert clock_view(clock(), now=NOW + timedelta(minutes=61)).state is ClockState.WARNING
    late = clock_view(clock(), now=NOW + timedelta(hours=3))
    # Past due though the SLA timer has not marked it yet.
    assert (late.state, late.breached) == (ClockState.BREACHED, True)
    paused = clock_view(clock(paused_at=NOW, running_since=None, due_at=None, warn_at=None,
                              consumed_s=3000.0), now=NOW)
    assert (paused.state, paused.remaining_s) == (ClockState.PAUSED, 4 * 3600 - 3000.0)
    marked = clock_view(clock(breached=True, paused_at=NOW, due_at=None), now=NOW)
    assert marked.state is ClockState.BREACHED
    met = clock_view(clock(stopped_at=NOW), now=NOW + timedelta(hours=5))
    assert (met.state, met.breached) == (ClockState.STOPPED, False)


def case(number: int, case_type: CaseType, **fields: object) -> Case:
    return Case(id=f"cas_{number}", number=number, customer_id="cus_1", type=case_type,
                status=CaseStatus.OPEN, subject=f"subject {number}", created_at=NOW,
                updated_at=NOW, **fields)  # type: ignore[arg-type]


def test_warnings_name_identity_duplicates_other_complaints_and_breaches() -> None:
    claimed = check_identifier(identifier(IdentifierKind.EMAIL, "a@example.nl", claimed=True),
                               [])
    certain = check_identifier(identifier(IdentifierKind.PHONE, "+31612345678"), [])
    duplicate = flagged("contact carried email a@example.nl of this customer and …")
    this = open_case(case(7, CaseType.COMPLAINT),
                     [clock(case_id="cas_7", due_at=NOW - timedelta(minutes=1))], now=NOW,
                     current=True)
    other = open_case(case(3, CaseType.COMPLAINT), [clock(case_id="cas_3", stopped_at=NOW,
                                                          breached=True)],
                      now=NOW, current=False)
    question = open_case(case(4, CaseType.QUESTION), [], now=NOW, current=False)
    found = warnings([claimed, certain], [duplicate, flagged("x", dismissed=True)],
                     [this, other, question])
    assert [(w.code, w.identifier_id or w.customer_id or w.case_id) for w in found] == [
        (WarningCode.UNCERTAIN_IDENTITY, "idn_a@example.nl"),
        (WarningCode.POSSIBLE_DUPLICATE, "cus_2"),
        # This contact's own breach counts; its own complaint is no news; a clock that
        # stopped late is history.
        (WarningCode.SLA_BREACHED, "cas_7"),
        (WarningCode.OPEN_COMPLAINT, "cas_3"),
    ]
    assert found[0].message == "email a@example.nl was typed into a form and is not verified"
    assert found[3].message == "open complaint SW-3: subject 3"
    assert (this.highlight, other.highlight, question.highlight) == (True, True, False)


def test_placeholder_values_are_plain_strings_about_this_contact() -> None:
    person = Customer(id="cus_1", display_name="Marieke  Jansen", segment="gold",
                      created_at=NOW, updated_at=NOW)
    agent = Agent(id="agent_chris", name="Chris Bakker", username="chris", presence_since=NOW)
    values = placeholder_values(person, case(12, CaseType.COMPLAINT), agent)
    assert values == {"customer.name": "Marieke  Jansen", "customer.first_name": "Marieke",
                      "customer.segment": "gold", "case.reference": "SW-12",
                      "case.subject": "subject 12", "agent.name": "Chris Bakker",
                      "agent.first_name": "Chris"}
    company = Customer(id="cus_2", display_name="Bakkerij De Korrel",
                       kind=CustomerKind.ORGANISATION, created_at=NOW, updated_at=NOW)
    values = placeholder_values(company, None, None)
    assert values["customer.first_name"] == "" and values["case.reference"] == ""
    assert all(isinstance(v, str) for v in values.values())


def test_the_context_takes_the_classifiers_language_and_keywords() -> None:
    person = Customer(id="cus_1", language="en", created_at=NOW, updated_at=NOW)
    complaint = case(5, CaseType.COMPLAINT, queue_id="q_complaints", tags=["klacht"],
                     classification={"case_type": "complaint", "language": "nl",
                                     "matched": ["ontevreden"]})
    contact = Contact(id="con_1", ref=ChannelRef(channel=Channel.EMAIL, external_id="<1@x>"),
                      direction=Direction.INBOUND, customer_id="cus_1", case_id="cas_5",
                      occurred_at=NOW, received_at=NOW, subject="Levering",
                      body="Waar blijft mijn pakket?")
    found = context(person, complaint, contact, None)
    assert (found.queue_id, found.case_type, found.language) == \
        ("q_complaints", CaseType.COMPLAINT, "nl")
    assert (found.keywords, found.tags) == (("ontevreden",), ("klacht",))
    assert found.text == "Levering\nWaar blijft mijn pakket?"
    # Without a case (a CTI pop), the customer's own language.
    assert context(person, None, None, None).language == "en"


def test_consent_is_what_the_record_holds_surveys_until_an_opt_out() -> None:
    assert consent(None) == Consent(surveys=True)
    asked = SurveySubject(customer_id="cus_1", last_invited_at=NOW)
    assert consent(asked) == Consent(surveys=True)
    out = SurveySubject(customer_id="cus_1", opted_out_at=NOW, opted_out_via="survey page")
    assert consent(out) == Consent(surveys=False, surveys_opted_out_at=NOW,
                                   surveys_opted_out_via="survey page")
