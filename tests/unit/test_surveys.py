"""The pure rules of satisfaction surveys: the per-customer frequency cap, checking
answers, tokens and the summary figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.domain.channels import Channel
from core.domain.errors import InvalidInput
from core.domain.surveys import (
    SurveyKind,
    SurveyResponse,
    cap_allows,
    cap_threshold,
    check_answer,
    language_of,
    new_token,
    next_allowed_at,
    plausible_token,
    summarise,
    token_hash,
)

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


# --- the frequency cap -------------------------------------------------------------------

def test_a_customer_never_asked_may_be_asked() -> None:
    assert cap_allows(None, NOW, 30)
    assert next_allowed_at(None, 30) is None


@pytest.mark.parametrize(("days_ago", "allowed"), [
    (0, False), (1, False), (29, False), (29.999, False), (30, True), (31, True), (365, True),
])
def test_the_cap_holds_for_exactly_min_days(days_ago: float, allowed: bool) -> None:
    last = NOW - timedelta(days=days_ago)
    assert cap_allows(last, NOW, 30) is allowed
    assert next_allowed_at(last, 30) == last + timedelta(days=30)


def test_a_cap_of_zero_days_asks_after_every_resolution() -> None:
    assert cap_allows(NOW, NOW, 0)
    assert cap_threshold(NOW, 0) == NOW


def test_an_invitation_in_the_future_holds_back() -> None:
    # A clock that stepped back must not open the cap early.
    assert not cap_allows(NOW + timedelta(hours=1), NOW, 30)


def test_the_threshold_is_what_the_database_compares_with() -> None:
    threshold = cap_threshold(NOW, 30)
    assert cap_allows(threshold, NOW, 30)
    assert not cap_allows(threshold + timedelta(microseconds=1), NOW, 30)


# --- answers -------------------------------------------------------------------------

def test_a_csat_answer_is_one_to_five_with_an_optional_comment() -> None:
    answer = check_answer(SurveyKind.CSAT, score=5, nps=None, comment="  Top!\x00\u202e ")
    assert (answer.score, answer.nps, answer.comment) == (5, None, "Top!")
    assert check_answer(SurveyKind.CSAT, score=1, nps=None, comment="   ").comment is None


@pytest.mark.parametrize(("kind", "score", "nps", "field"), [
    (SurveyKind.CSAT, 0, None, "score"),
    (SurveyKind.CSAT, 6, None, "score"),
    (SurveyKind.CSAT, None, None, "score"),
    (SurveyKind.CSAT, 3, 7, "nps"),  # not asked
    (SurveyKind.NPS, None, 11, "nps"),
    (SurveyKind.NPS, None, -1, "nps"),
    (SurveyKind.NPS, 4, None, "score"),  # not asked
    (SurveyKind.NPS, None, None, "nps"),
    (SurveyKind.BOTH, None, None, "score"),
])
def test_answers_outside_the_survey_are_refused(kind: SurveyKind, score: int | None,
                                                nps: int | None, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_answer(kind, score=score, nps=nps, comment=None)
    assert field in refused.value.reasons


def test_both_questions_may_be_answered_or_just_one() -> None:
    assert check_answer(SurveyKind.BOTH, score=4, nps=9, comment=None).nps == 9
    assert check_answer(SurveyKind.BOTH, score=None, nps=0, comment=None).score is None


def test_a_long_comment_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        check_answer(SurveyKind.CSAT, score=3, nps=None, comment="x" * 2001)
    assert "comment" in refused.value.reasons


# --- tokens and languages ------------------------------------------------------------

def test_tokens_are_long_random_and_only_their_hash_is_kept() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100
    token = tokens.pop()
    assert plausible_token(token) and len(token) == 43
    assert token_hash(token) != token and len(token_hash(token)) == 64
    assert not plausible_token("short") and not plausible_token(token + "x")
    assert not plausible_token("<script>alert(1)</script>" + "a" * 18)


def test_the_language_is_the_first_we_have_texts_for() -> None:
    assert language_of(None, "en-GB", "nl") == "en"
    assert language_of("de", None) == "nl"


# --- summaries -----------------------------------------------------------------------

def _response(score: int | None, nps: int | None) -> SurveyResponse:
    return SurveyResponse(id="svr", invitation_id="svy", customer_id="cus", case_id=None,
                          contact_id=None, channel=Channel.EMAIL, kind=SurveyKind.BOTH,
                          score=score, nps=nps, comment=None, language="nl",
                          answered_at=NOW)


def test_the_summary_counts_satisfied_customers_and_the_net_promoter_score() -> None:
    summary = summarise([_response(5, 10), _response(4, 9), _response(2, 3),
                         _response(None, 7)])
    assert summary.responses == 4
    assert (summary.csat_count, summary.csat_average) == (3, 3.67)
    assert summary.csat_satisfied_pct == 66.7
    assert summary.nps_count == 4
    assert summary.nps == 25.0  # 2 promoters, 1 detractor, 1 passive of 4


def test_an_empty_summary_has_no_figures() -> None:
    summary = summarise([])
    assert (summary.responses, summary.csat_average, summary.nps) == (0, None, None)
