"""Choosing the customer a contact belongs to: scores, tie-breaks, claims and look-alikes.

Each scenario lists what the contact carries, who holds which key (as storage would say),
and the decision expected. Customer ids are time-ordered: ``cus_1`` is older than ``cus_2``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pytest

from core.domain.customer import IdentifierKind
from core.identity.normalise import normalise
from core.identity.resolver import (
    Key,
    Observed,
    Resolution,
    lookup_keys,
    matchable_keys,
    resolve,
    skeletons,
    weight,
)

EMAIL, PHONE = IdentifierKind.EMAIL, IdentifierKind.PHONE
VISITOR, CRM = IdentifierKind.CHAT_VISITOR, IdentifierKind.CRM
CYRILLIC_A = "\u0430"
ZWSP = "\u200b"

JAN = (EMAIL, "jan@example.com")
JAN_PHONE = (PHONE, "+31612345678")
VISIT = (VISITOR, "vis_7")
CRM_42 = (CRM, "CRM-42")


def seen(kind: IdentifierKind, raw: str, *, claimed: bool = False,
         verified: bool = False) -> Observed:
    return Observed(identifier=normalise(kind, raw, default_region="NL"),
                    claimed=claimed, verified=verified)


def email(raw: str, **flags: bool) -> Observed:
    return seen(EMAIL, raw, **flags)


def phone(raw: str, **flags: bool) -> Observed:
    return seen(PHONE, raw, **flags)


def visitor(raw: str, **flags: bool) -> Observed:
    return seen(VISITOR, raw, **flags)


def crm(raw: str, **flags: bool) -> Observed:
    return seen(CRM, raw, **flags)


@dataclass(frozen=True, kw_only=True)
class Scenario:
    id: str
    observed: Sequence[Observed]
    holders: Mapping[Key, Sequence[str]] = field(default_factory=dict)
    skeleton_holders: Mapping[str, Sequence[str]] = field(default_factory=dict)
    customer_id: str | None
    matched_on: tuple[str, ...] = ()
    attach: tuple[tuple[IdentifierKind, str, bool], ...] = ()  # (kind, value, claimed)
    duplicates: Mapping[str, Sequence[str]] = field(default_factory=dict)  # id → fragments
    absent: tuple[str, ...] = ()  # fragments no reason may contain


SCENARIOS = [
    Scenario(
        id="new-customer",
        observed=[email("Jan@Example.com"), phone("06-12345678")],
        customer_id=None,
        attach=((EMAIL, "Jan@Example.com", False), (PHONE, "06-12345678", False)),
    ),
    Scenario(
        id="single-match",
        observed=[email("JAN@example.com")],
        holders={JAN: ["cus_1"]},
        customer_id="cus_1",
        matched_on=("email:jan@example.com",),
    ),
    Scenario(
        id="email-match-attaches-new-phone",
        observed=[email("jan@example.com"), phone("+31 6 1234 5678")],
        holders={JAN: ["cus_1"]},
        customer_id="cus_1",
        matched_on=("email:jan@example.com",),
        attach=((PHONE, "+31 6 1234 5678", False),),
    ),
    Scenario(
        id="two-customers-best-match-and-duplicate",
        observed=[phone("06-12345678"), email("jan@example.com")],
        holders={JAN: ["cus_2"], JAN_PHONE: ["cus_1"]},
        customer_id="cus_2",
        matched_on=("email:jan@example.com",),
        duplicates={"cus_1": [
            "contact carried email jan@example.com of this customer"
            " and phone +31612345678 of cus_1"]},
    ),
    Scenario(
        id="two-keys-beat-one-stronger-key",
        observed=[email("jan@example.com"), phone("0612345678"), visitor("vis_7")],
        holders={JAN: ["cus_1"], JAN_PHONE: ["cus_2"], VISIT: ["cus_2"]},
        customer_id="cus_2",
        matched_on=("phone:+31612345678", "chat_visitor:vis_7"),
        duplicates={"cus_1": ["phone +31612345678, chat_visitor vis_7 of this customer",
                              "email jan@example.com of cus_1"]},
    ),
    Scenario(
        id="crm-beats-email",
        observed=[email("jan@example.com"), crm("CRM-42")],
        holders={JAN: ["cus_1"], CRM_42: ["cus_2"]},
        customer_id="cus_2",
        matched_on=("crm:CRM-42",),
        duplicates={"cus_1": ["email jan@example.com of cus_1"]},
    ),
    Scenario(
        id="verified-phone-beats-email",
        observed=[email("jan@example.com"), phone("0612345678", verified=True)],
        holders={JAN: ["cus_1"], JAN_PHONE: ["cus_2"]},
        customer_id="cus_2",
        matched_on=("phone:+31612345678",),
        duplicates={"cus_1": ["email jan@example.com of cus_1"]},
    ),
    Scenario(
        id="tie-goes-to-oldest-customer",
        observed=[email("jan@example.com")],
        holders={JAN: ["cus_9", "cus_1", "cus_5"]},
        customer_id="cus_1",
        matched_on=("email:jan@example.com",),
        duplicates={"cus_5": ["email jan@example.com of cus_5"],
                    "cus_9": ["email jan@example.com of cus_9"]},
    ),
    Scenario(
        id="tie-on-score-goes-to-strongest-key",
        # cus_9: verified CRM id, 120; cus_1: e-mail 70 + visitor 50, 120.
        observed=[email("jan@example.com"), visitor("vis_7"), crm("CRM-42", verified=True)],
        holders={JAN: ["cus_1"], VISIT: ["cus_1"], CRM_42: ["cus_9"]},
        customer_id="cus_9",
        matched_on=("crm:CRM-42",),
        duplicates={"cus_1": ["email jan@example.com, chat_visitor vis_7 of cus_1"]},
    ),
    Scenario(
        id="shared-key-not-copied-new-key-attached",
        observed=[email("jan@example.com"), phone("0612345678")],
        holders={JAN: ["cus_1", "cus_2"]},
        customer_id="cus_1",
        matched_on=("email:jan@example.com",),
        attach=((PHONE, "0612345678", False),),
        duplicates={"cus_2": ["email jan@example.com of cus_2"]},
    ),
    Scenario(
        id="key-held-by-another-not-copied",
        observed=[crm("CRM-42"), phone("06-12345678")],
        holders={CRM_42: ["cus_1"], JAN_PHONE: ["cus_2"]},
        customer_id="cus_1",
        matched_on=("crm:CRM-42",),
        duplicates={"cus_2": ["phone +31612345678 of cus_2"]},
    ),
    Scenario(
        id="claim-never-matches-and-flags",
        observed=[email("jan@example.com", claimed=True)],
        holders={JAN: ["cus_1"]},
        customer_id=None,
        attach=((EMAIL, "jan@example.com", True),),
        duplicates={"cus_1": ["unverified claim of email jan@example.com held by cus_1"]},
    ),
    Scenario(
        id="claim-only-plus-new-visitor-creates-and-flags",
        observed=[visitor("vis_new"), email("jan@example.com", claimed=True)],
        holders={JAN: ["cus_1"]},
        customer_id=None,
        attach=((VISITOR, "vis_new", False), (EMAIL, "jan@example.com", True)),
        duplicates={"cus_1": ["unverified claim of email jan@example.com held by cus_1"]},
    ),
    Scenario(
        id="claim-of-another-customer-attached-as-claim",
        observed=[visitor("vis_7"), email("jan@example.com", claimed=True)],
        holders={VISIT: ["cus_2"], JAN: ["cus_1"]},
        customer_id="cus_2",
        matched_on=("chat_visitor:vis_7",),
        attach=((EMAIL, "jan@example.com", True),),
        duplicates={"cus_1": ["unverified claim of email jan@example.com held by cus_1"]},
    ),
    Scenario(
        id="claim-consistent-with-chosen-customer",
        observed=[visitor("vis_7"), email("jan@example.com", claimed=True)],
        holders={VISIT: ["cus_1"], JAN: ["cus_1"]},
        customer_id="cus_1",
        matched_on=("chat_visitor:vis_7",),
    ),
    Scenario(
        id="verified-claim-still-never-matches",
        observed=[crm("CRM-42", claimed=True, verified=True)],
        holders={CRM_42: ["cus_1"]},
        customer_id=None,
        attach=((CRM, "CRM-42", True),),
        duplicates={"cus_1": ["unverified claim of crm CRM-42"]},
    ),
    Scenario(
        id="claimed-and-header-sighting-matches",
        observed=[email("jan@example.com", claimed=True), email("Jan@example.com")],
        holders={JAN: ["cus_1"]},
        customer_id="cus_1",
        matched_on=("email:jan@example.com",),
    ),
    Scenario(
        id="look-alike-flags-on-create",
        observed=[email(f"j{CYRILLIC_A}n@example.com")],
        skeleton_holders={"jan@example.com": ["cus_1"]},
        customer_id=None,
        attach=((EMAIL, f"j{CYRILLIC_A}n@example.com", False),),
        duplicates={"cus_1": [
            f"look-alike of email j{CYRILLIC_A}n@example.com (confusable or invisible"
            " characters: U+0430 CYRILLIC SMALL LETTER A)"]},
    ),
    Scenario(
        id="zero-width-look-alike-kept-flagged-chosen-not-flagged",
        observed=[email(f"jan{ZWSP}@example.com"), phone("0612345678")],
        holders={JAN_PHONE: ["cus_1"]},
        skeleton_holders={"jan@example.com": ["cus_2", "cus_1"]},
        customer_id="cus_1",
        matched_on=("phone:+31612345678",),
        attach=((EMAIL, f"jan{ZWSP}@example.com", False),),
        duplicates={"cus_2": ["look-alike of email jan<U+200B>@example.com",
                              "U+200B ZERO WIDTH SPACE"]},
    ),
    Scenario(
        id="exact-holder-of-look-alike-is-no-look-alike",
        observed=[email(f"j{CYRILLIC_A}n@example.com")],
        holders={(EMAIL, f"j{CYRILLIC_A}n@example.com"): ["cus_3"]},
        skeleton_holders={"jan@example.com": ["cus_1", "cus_3"]},
        customer_id="cus_3",
        matched_on=(f"email:j{CYRILLIC_A}n@example.com",),
        duplicates={"cus_1": ["look-alike of email"]},
    ),
    Scenario(
        id="exact-holder-not-chosen-is-a-shared-key-not-a-look-alike",
        observed=[crm("CRM-42"), email(f"j{CYRILLIC_A}n@example.com")],
        holders={CRM_42: ["cus_1"], (EMAIL, f"j{CYRILLIC_A}n@example.com"): ["cus_3"]},
        skeleton_holders={"jan@example.com": ["cus_3"]},
        customer_id="cus_1",
        matched_on=("crm:CRM-42",),
        duplicates={"cus_3": [f"email j{CYRILLIC_A}n@example.com of cus_3"]},
        absent=("look-alike",),
    ),
    Scenario(
        id="reasons-merged-one-suspicion-per-customer",
        observed=[crm("CRM-42"), phone("0612345678"), email(f"j{CYRILLIC_A}n@example.com")],
        holders={CRM_42: ["cus_1"], JAN_PHONE: ["cus_2"]},
        skeleton_holders={"jan@example.com": ["cus_2"]},
        customer_id="cus_1",
        matched_on=("crm:CRM-42",),
        attach=((EMAIL, f"j{CYRILLIC_A}n@example.com", False),),
        duplicates={"cus_2": ["phone +31612345678 of cus_2; look-alike of email"]},
    ),
    Scenario(
        id="invalid-kept-not-matched",
        observed=[phone("+31 12"), email("jan@example.com")],
        holders={JAN: ["cus_1"]},
        customer_id="cus_1",
        matched_on=("email:jan@example.com",),
        attach=((PHONE, "+31 12", False),),
    ),
    Scenario(
        id="invalid-only-creates",
        observed=[phone("+31 12"), email("jan@localhost")],
        customer_id=None,
        attach=((PHONE, "+31 12", False), (EMAIL, "jan@localhost", False)),
    ),
    Scenario(
        id="holders-for-unobserved-keys-ignored",
        observed=[phone("0612345678")],
        holders={JAN: ["cus_1"], JAN_PHONE: []},
        customer_id=None,
        attach=((PHONE, "0612345678", False),),
    ),
]


def attached(resolution: Resolution) -> tuple[tuple[IdentifierKind, str, bool], ...]:
    return tuple((o.identifier.kind, o.identifier.value, o.claimed)
                 for o in resolution.to_attach)


@pytest.mark.parametrize("case", SCENARIOS, ids=lambda s: s.id)
def test_resolve(case: Scenario) -> None:
    result = resolve(case.observed, holders=case.holders,
                     skeleton_holders=case.skeleton_holders)
    assert result.customer_id == case.customer_id
    assert result.matched_on == case.matched_on
    assert result.seen_again == tuple(
        (IdentifierKind(label.split(":", 1)[0]), label.split(":", 1)[1])
        for label in case.matched_on)
    assert attached(result) == case.attach
    assert [d.other_customer_id for d in result.duplicates] == sorted(case.duplicates)
    for suspicion in result.duplicates:
        for fragment in case.duplicates[suspicion.other_customer_id]:
            assert fragment in suspicion.reason
        for fragment in case.absent:
            assert fragment not in suspicion.reason
    assert result.customer_id not in [d.other_customer_id for d in result.duplicates]


DETERMINISM_CASES = [s for s in SCENARIOS if s.id in {
    "two-customers-best-match-and-duplicate", "tie-goes-to-oldest-customer",
    "tie-on-score-goes-to-strongest-key", "reasons-merged-one-suspicion-per-customer",
}]


@pytest.mark.parametrize("case", DETERMINISM_CASES, ids=lambda s: s.id)
def test_resolve_is_independent_of_input_order(case: Scenario) -> None:
    expected = resolve(case.observed, holders=case.holders,
                       skeleton_holders=case.skeleton_holders)
    for observed in itertools.permutations(case.observed):
        for flip in (False, True):
            holders = {k: list(reversed(v)) if flip else list(v)
                       for k, v in reversed(list(case.holders.items()))}
            result = resolve(observed, holders=holders, skeleton_holders=case.skeleton_holders)
            assert result.customer_id == expected.customer_id
            assert {d.other_customer_id for d in result.duplicates} == {
                d.other_customer_id for d in expected.duplicates}
            assert set(result.seen_again) == set(expected.seen_again)


def test_exact_reason_for_a_shared_key() -> None:
    result = resolve([phone("0612345678"), email("jan@example.com")],
                     holders={JAN_PHONE: ["cus_1"], JAN: ["cus_x"]}, skeleton_holders={})
    assert result.customer_id == "cus_x"
    assert [d.reason for d in result.duplicates] == [
        "contact carried email jan@example.com of this customer"
        " and phone +31612345678 of cus_1"]


def test_duplicate_holder_ids_counted_once() -> None:
    result = resolve([email("jan@example.com"), phone("0612345678")],
                     holders={JAN: ["cus_2", "cus_2"], JAN_PHONE: ["cus_1"]},
                     skeleton_holders={"x": ["cus_3"]})
    assert result.customer_id == "cus_2"
    assert [d.other_customer_id for d in result.duplicates] == ["cus_1"]


@pytest.mark.parametrize(("observation", "expected"), [
    (crm("CRM-42"), 100),
    (crm("CRM-42", verified=True), 120),
    (email("jan@example.com"), 70),
    (email("jan@example.com", verified=True), 90),
    (phone("0612345678"), 60),
    (visitor("vis_7"), 50),
    (email("jan@example.com", claimed=True), 0),
    (crm("CRM-42", claimed=True, verified=True), 0),
    (phone("+31 12"), 0),
], ids=["crm", "crm-verified", "email", "email-verified", "phone", "visitor", "claim",
        "verified-claim", "invalid"])
def test_weight(observation: Observed, expected: int) -> None:
    assert weight(observation) == expected


CONTACT = [
    email("Jan@Example.com"),
    email("jan@example.com"),
    email("piet@example.com", claimed=True),
    phone("+31 12"),
    phone("0612345678"),
    email(f"jan{ZWSP}@example.com"),
    email(f"j{CYRILLIC_A}n@example.com"),
    email(f"J{CYRILLIC_A}N@example.com"),
]


def test_matchable_keys_skip_claims_and_invalid_in_order() -> None:
    assert matchable_keys(CONTACT) == [
        JAN, JAN_PHONE, (EMAIL, f"j{CYRILLIC_A}n@example.com")]


def test_lookup_keys_include_claims() -> None:
    assert lookup_keys(CONTACT) == [
        JAN, (EMAIL, "piet@example.com"), JAN_PHONE, (EMAIL, f"j{CYRILLIC_A}n@example.com")]


def test_skeletons_are_the_look_alike_keys_once() -> None:
    # Plain addresses are their own look-alike key, so stored look-alikes of them are found.
    assert skeletons(CONTACT) == ["jan@example.com", "piet@example.com"]


def test_a_plain_address_flags_a_stored_look_alike() -> None:
    result = resolve([email("jan@example.com")], holders={},
                     skeleton_holders={"jan@example.com": ["cus_9"]})
    assert result.customer_id is None
    assert [d.other_customer_id for d in result.duplicates] == ["cus_9"]
    assert "has a look-alike" in result.duplicates[0].reason


def test_matchable_keys_count_a_claimed_key_also_seen_unclaimed() -> None:
    observed = [email("jan@example.com", claimed=True), email("jan@example.com")]
    assert matchable_keys(observed) == [JAN]


def test_create_attaches_one_identifier_per_key() -> None:
    observed = [email("Jan@example.com", claimed=True), email("jan@example.com", verified=True)]
    result = resolve(observed, holders={}, skeleton_holders={})
    assert [(o.identifier.value, o.claimed, o.verified) for o in result.to_attach] == [
        ("Jan@example.com", False, True)]
