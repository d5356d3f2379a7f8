"""Classification: what a contact is about, from the channel's choice or from keywords, with
real Dutch and English texts; language detection; and keyword lists that say what is wrong
and where."""

from __future__ import annotations

import json
from typing import Any

import pytest

from core.domain.contact import CaseType
from core.domain.errors import InvalidInput
from routing.classification import (
    MAX_KEYWORD,
    MAX_KEYWORDS,
    MAX_TEXT,
    Classification,
    Classifier,
    KeywordLists,
    detect_language,
)

COMPLAINT, QUESTION, REQUEST = CaseType.COMPLAINT, CaseType.QUESTION, CaseType.REQUEST
CLASSIFIER = Classifier(KeywordLists.default())


def classify(text: str | None, subject: str | None = None, **options: Any) -> Classification:
    return CLASSIFIER.classify(subject=subject, text=text, **options)


# --- keywords ---------------------------------------------------------------------------

# (subject, body, expected class, expected language)
CLASSES = [
    pytest.param(None, "Ik ben zeer ontevreden over jullie service", COMPLAINT, "nl",
                 id="nl-dissatisfied"),
    pytest.param(None, "Dit is schandalig!", COMPLAINT, "nl", id="nl-outrageous"),
    # A how-to about changing something is handled as a change: "hoe" (question) and
    # "adres wijzigen" (request) tie, and ties go to request before question.
    pytest.param(None, "Hoe kan ik mijn adres wijzigen?", REQUEST, "nl",
                 id="nl-how-to-change-is-a-request"),
    pytest.param(None, "Wanneer wordt mijn pakket bezorgd?", QUESTION, "nl", id="nl-when"),
    pytest.param(None, "Dit is geen klacht, maar ik heb een vraag", QUESTION, "nl",
                 id="nl-negated-complaint"),
    pytest.param(None, "Ik ben niet tevreden over de monteur.", COMPLAINT, "nl",
                 id="nl-phrase-with-negation-word"),
    pytest.param(None, "Ik ben niet boos, maar wanneer komt de monteur?", QUESTION, "nl",
                 id="nl-negated-sentiment"),
    pytest.param("Klacht over de levering",
                 "Ik ben zeer ontevreden over jullie service. Dit is schandalig!", COMPLAINT,
                 "nl", id="nl-complaint-mail"),
    pytest.param("Adreswijziging", "Mijn nieuwe adres is Dorpsstraat 1.", REQUEST, "nl",
                 id="nl-subject-only"),
    pytest.param(None, "Graag wil ik mijn abonnement opzeggen per 1 januari.", REQUEST, "nl",
                 id="nl-cancel"),
    pytest.param(None, "I am very disappointed, this is unacceptable", COMPLAINT, "en",
                 id="en-complaint"),
    pytest.param(None, "When will my order arrive?", QUESTION, "en", id="en-when"),
    pytest.param(None, "Could you please cancel my subscription?", REQUEST, "en",
                 id="en-cancel"),
    pytest.param(None, "I'm not angry, I just want to know when the engineer comes.",
                 QUESTION, "en", id="en-negated-sentiment"),
]


@pytest.mark.parametrize(("subject", "text", "expected", "language"), CLASSES)
def test_keywords_decide_the_class_and_the_language(subject: str | None, text: str,
                                                    expected: CaseType, language: str) -> None:
    found = classify(text, subject)

    assert (found.case_type, found.language, found.source) == (expected, language, "keywords")
    assert 0 < found.confidence <= 1


@pytest.mark.parametrize(("text", "matched", "negative"), [
    ("Ik ben zeer ontevreden over jullie service", ("ontevreden",), True),
    ("Ik ben ontevréden", ("ontevreden",), True),
    ("IK BEN ONTEVREDEN!!", ("ontevreden",), True),
    ("Dit is geen klacht, maar ik heb een vraag", ("ik heb een vraag",), False),
    ("Ik ben niet tevreden over de monteur.", ("niet tevreden",), True),
    ("I am very disappointed, this is unacceptable", ("disappointed", "unacceptable"), True),
    ("Ik ben niet boos, maar wanneer komt de monteur?", ("wanneer",), False),
    # A negation in an earlier sentence does not reach into the next one.
    ("Ik heb geen tijd. Klacht: de monteur kwam niet.", ("klacht",), False),
])
def test_matched_keywords_and_negative_sentiment(text: str, matched: tuple[str, ...],
                                                 negative: bool) -> None:
    found = classify(text)

    assert found.matched == matched
    assert found.negative_sentiment is negative


@pytest.mark.parametrize("text", [
    pytest.param("Ik ben tevreden over de service.", id="tevreden-is-not-ontevreden"),
    pytest.param("Dit vraagteken klopt.", id="whole-words-only"),
    pytest.param("Geen klacht hoor, alles in orde.", id="only-negated"),
    pytest.param("Zonder enige klacht betaald.", id="negated-two-words-back"),
    pytest.param("", id="empty"),
    pytest.param("   \n\t ", id="blank"),
])
def test_texts_without_a_counting_keyword_fall_back_to_the_default(text: str) -> None:
    found = classify(text)

    assert found == Classification(case_type=QUESTION, confidence=0.0, language="nl",
                                   negative_sentiment=False, matched=(), source="default")


def test_no_subject_and_no_text_is_the_default_in_the_hinted_language() -> None:
    found = classify(None, None, language_hint="en-GB")

    assert (found.case_type, found.confidence, found.source, found.language) == (
        QUESTION, 0.0, "default", "en")


def test_subject_matches_weigh_double() -> None:
    found = classify("Wanneer wordt mijn pakket bezorgd?", subject="Klacht")

    assert found.case_type is COMPLAINT
    assert found.confidence == pytest.approx(0.667)  # complaint 2 of 3
    assert found.matched == ("klacht", "wanneer")


def test_a_keyword_counts_once_however_often_it_is_repeated() -> None:
    found = classify("Wanneer? Wanneer? Wanneer? Wanneer? Ik ben ontevreden.")

    assert found.case_type is COMPLAINT  # 1 : 1, complaint wins the tie
    assert found.confidence == 0.5


@pytest.mark.parametrize("text", [
    pytest.param("Wanneer komt de monteur?\n\n> Wij hebben uw klacht ontvangen.\n"
                 "> Dit is schandalig, schreef u.", id="quoted-lines"),
    pytest.param("Wanneer komt de monteur?\r\n\r\nOp di 17 nov. 2026 om 09:30 schreef "
                 "Klantenservice <service@example.nl>:\r\nWij hebben uw klacht ontvangen.",
                 id="nl-reply-header"),
    pytest.param("Wanneer komt de monteur?\n\nOp 17 nov. 2026, om 09:30 heeft Klantenservice "
                 "het volgende geschreven:\n\nUw klacht is ontvangen.", id="nl-apple-mail"),
    pytest.param("Wanneer komt de monteur?\n\nOn Tue, Nov 17, 2026 at 9:30 AM Support <\n"
                 "support@example.com> wrote:\nWe received your complaint.",
                 id="en-wrapped-reply-header"),
    pytest.param("Wanneer komt de monteur?\n-----Original Message-----\nFrom: service\n"
                 "Complaint received.", id="original-message"),
    pytest.param("Wanneer komt de monteur?\n---- Oorspronkelijk bericht ----\n"
                 "Uw klacht is in behandeling.", id="oorspronkelijk-bericht"),
    pytest.param("Wanneer komt de monteur?\n\nVan: Klantenservice\nVerzonden: dinsdag\n"
                 "Onderwerp: uw klacht", id="outlook-nl"),
])
def test_what_the_customer_quotes_does_not_count(text: str) -> None:
    found = classify(text)

    assert (found.case_type, found.matched, found.negative_sentiment) == (
        QUESTION, ("wanneer",), False)


def test_a_colon_mid_line_is_not_a_reply_header() -> None:
    found = classify("Op maandag schreef ik u: dit is schandalig.")

    assert found.case_type is COMPLAINT


def test_only_the_first_part_of_a_huge_text_is_read() -> None:
    text = "Wanneer komt de monteur? " + "x" * MAX_TEXT + " klacht schandalig"

    found = classify(text)

    assert (found.case_type, found.matched) == (QUESTION, ("wanneer",))


def test_phrases_match_across_a_wrapped_line() -> None:
    assert classify("Dit was echt slechte\nservice.").matched == ("slechte service",)


# --- the channel's choice -----------------------------------------------------------------

@pytest.mark.parametrize(("choice", "expected"), [
    ("Klacht", COMPLAINT), ("KLACHTEN", COMPLAINT), ("complaint", COMPLAINT),
    ("vraag", QUESTION), ("Question", QUESTION), ("verzoek", REQUEST),
    ("request", REQUEST), (" Aanvraag ", REQUEST),
])
def test_a_choice_naming_a_class_wins_with_full_confidence(choice: str,
                                                           expected: CaseType) -> None:
    found = classify("Wanneer komt mijn pakket? Ik ben ontevreden.", choice=choice)

    assert (found.case_type, found.confidence, found.source) == (expected, 1.0, "choice")
    # The text still tells the rules how the customer feels.
    assert found.negative_sentiment is True
    assert found.matched == ("wanneer", "ontevreden")


@pytest.mark.parametrize("choice", ["billing", "1", ""])
def test_a_choice_that_names_no_class_leaves_it_to_the_keywords(choice: str) -> None:
    found = classify("Dit is schandalig!", choice=choice)

    assert (found.case_type, found.source) == (COMPLAINT, "keywords")


def test_a_choice_on_an_empty_text_is_still_a_choice() -> None:
    found = classify(None, choice="Klacht")

    assert (found.case_type, found.confidence, found.source, found.matched) == (
        COMPLAINT, 1.0, "choice", ())


# --- language ---------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "hint", "expected"), [
    ("Ik heb een vraag over mijn factuur", None, "nl"),
    ("I have a question about my invoice", None, "en"),
    ("Kunt u mij terugbellen? Dank u wel.", None, "nl"),
    ("Can you please call me back? Thanks.", None, "en"),
    ("", None, "nl"),
    ("OK", None, "nl"),  # a tie: most of our customers write Dutch
    ("is in", None, "nl"),  # words both languages use do not count
    ("I have a question about my invoice", "nl-NL", "nl"),
    ("Ik heb een vraag over mijn factuur", "EN", "en"),
    ("Ik heb een vraag over mijn factuur", "en_GB", "en"),
    ("Ik heb een vraag", "de-DE", "nl"),  # a hint we do not serve is ignored
    ("I have a question about my bill", "fr", "en"),
    ("I have a question about my bill", " ", "en"),
])
def test_detect_language(text: str, hint: str | None, expected: str) -> None:
    assert detect_language(text, hint) == expected


def test_the_classification_reports_the_detected_language() -> None:
    assert classify("Wanneer wordt mijn pakket bezorgd?").language == "nl"
    assert classify("When will my parcel be delivered?").language == "en"
    assert classify("When will my parcel be delivered?", language_hint="nl").language == "nl"


# --- keyword lists ------------------------------------------------------------------------

def test_the_default_lists_are_valid_and_round_trip() -> None:
    default = KeywordLists.default()
    document = default.to_document()

    again = KeywordLists.from_document(json.loads(json.dumps(document)))

    assert again == default
    assert again.to_document() == document
    assert set(document["classes"]) == {t.value for t in CaseType}
    assert set(document["negative"]) == {"nl", "en"}


def test_custom_lists_round_trip_and_drive_the_classifier() -> None:
    document = {"classes": {"request": {"nl": ["Beëindigen", "nieuw  contract"]},
                            "complaint": {"en": []}},
                "negative": {"nl": ["Woest"]}}

    lists = KeywordLists.from_document(document)
    classifier = Classifier(lists)

    assert lists.to_document() == {
        "classes": {"request": {"nl": ["Beëindigen", "nieuw contract"]},
                    "complaint": {"en": []}},
        "negative": {"nl": ["Woest"]}}
    assert KeywordLists.from_document(lists.to_document()) == lists
    found = classifier.classify(subject=None, text="Ik wil het BEEINDIGEN. Ik ben woest!")
    assert (found.case_type, found.matched, found.negative_sentiment) == (
        COMPLAINT, ("Beëindigen", "Woest"), True)  # 1 : 1, complaint wins the tie
    assert classifier.classify(subject=None, text="Een nieuw\ncontract graag").matched == (
        "nieuw contract",)


def test_lists_do_not_change_with_the_dict_they_were_made_from() -> None:
    words = {"nl": ("klacht",)}
    lists = KeywordLists(classes={"complaint": words}, negative={})

    words["en"] = ("complaint",)

    assert dict(lists.classes["complaint"]) == {"nl": ("klacht",)}


VALID: dict[str, Any] = {"classes": {"complaint": {"nl": ["klacht"]}}, "negative": {}}


def with_(**changes: Any) -> dict[str, Any]:
    return {**VALID, **changes}


@pytest.mark.parametrize(("document", "paths"), [
    pytest.param([], {"keywords"}, id="not-an-object"),
    pytest.param({"negative": {}}, {"classes"}, id="classes-missing"),
    pytest.param({"classes": {}}, {"negative"}, id="negative-missing"),
    pytest.param(with_(extra=1), {"extra"}, id="unknown-key"),
    pytest.param(with_(classes={"praise": {"nl": ["top"]}}), {"classes.praise"},
                 id="unknown-class"),
    pytest.param(with_(classes={"complaint": ["klacht"]}), {"classes.complaint"},
                 id="class-not-an-object"),
    pytest.param(with_(classes={"complaint": {"de": ["Beschwerde"]}}),
                 {"classes.complaint.de"}, id="unknown-language"),
    pytest.param(with_(classes={"complaint": {"nl": "klacht"}}), {"classes.complaint.nl"},
                 id="list-is-text"),
    pytest.param(with_(classes={"complaint": {"nl": ["klacht", "boos", "slecht", 3]}}),
                 {"classes.complaint.nl[3]"}, id="not-text"),
    pytest.param(with_(classes={"question": {"en": ["  ", "how"]}}),
                 {"classes.question.en[0]"}, id="blank"),
    pytest.param(with_(classes={"request": {"nl": ["ok", "x" * (MAX_KEYWORD + 1)]}}),
                 {"classes.request.nl[1]"}, id="too-long"),
    pytest.param(with_(classes={"request": {"nl": [f"w{i}" for i in range(MAX_KEYWORDS + 1)]}}),
                 {"classes.request.nl"}, id="too-many"),
    pytest.param(with_(classes={"complaint": {"nl": ["klacht", "Klácht"]}}),
                 {"classes.complaint.nl[1]"}, id="duplicate"),
    pytest.param(with_(classes={"complaint": {"nl": ["klacht?"]}}),
                 {"classes.complaint.nl[0]"}, id="edge-not-a-word-character"),
    pytest.param(with_(negative={"fr": ["nul"]}), {"negative.fr"}, id="negative-language"),
    pytest.param(with_(negative={"nl": [None]}), {"negative.nl[0]"}, id="negative-item"),
    pytest.param({"classes": {"complaint": {"nl": [1], "xx": []}, "foo": {}},
                  "negative": {"en": ""}},
                 {"classes.complaint.nl[0]", "classes.complaint.xx", "classes.foo",
                  "negative.en"}, id="every-problem-at-once"),
])
def test_invalid_keyword_lists_say_what_is_wrong_where(document: object,
                                                       paths: set[str]) -> None:
    with pytest.raises(InvalidInput) as caught:
        KeywordLists.from_document(document)

    assert set(caught.value.reasons) == paths


def test_keyword_reasons_are_readable() -> None:
    with pytest.raises(InvalidInput) as caught:
        KeywordLists.from_document(with_(classes={
            "complaint": {"nl": ["klacht", "Klacht", "", "x" * 101], "de": []},
            "praise": {}}))

    assert caught.value.reasons == {
        "classes.complaint.nl[1]": "duplicate of classes.complaint.nl[0] "
                                   "(case and accents do not count)",
        "classes.complaint.nl[2]": "must not be blank",
        "classes.complaint.nl[3]": "at most 100 characters, not 101",
        "classes.complaint.de": "unknown language; one of nl, en",
        "classes.praise": "unknown class; one of question, complaint, request",
    }


def test_exactly_the_limits_are_accepted() -> None:
    lists = KeywordLists.from_document(with_(classes={"request": {
        "nl": ["x" * MAX_KEYWORD] + [f"w{i}" for i in range(MAX_KEYWORDS - 1)]}}))

    assert len(lists.classes["request"]["nl"]) == MAX_KEYWORDS


# --- the verdict as a document ------------------------------------------------------------

def test_a_classification_round_trips_through_json() -> None:
    found = classify("Ik ben zeer ontevreden over jullie service", subject="Klacht")

    document = json.loads(json.dumps(found.to_document()))

    assert document == {"case_type": "complaint", "confidence": 1.0, "language": "nl",
                        "negative_sentiment": True, "matched": ["klacht", "ontevreden"],
                        "source": "keywords"}
    assert Classification.from_document(document) == found


@pytest.mark.parametrize(("document", "paths"), [
    pytest.param("complaint", {"classification"}, id="not-an-object"),
    pytest.param({}, {"case_type", "confidence", "language", "negative_sentiment", "matched",
                      "source"}, id="empty"),
    pytest.param({"case_type": "praise", "confidence": 1.5, "language": "de",
                  "negative_sentiment": "yes", "matched": [1], "source": "guess"},
                 {"case_type", "confidence", "language", "negative_sentiment", "matched",
                  "source"}, id="all-wrong"),
    pytest.param({"case_type": "question", "confidence": True, "language": "nl",
                  "negative_sentiment": False, "matched": [], "source": "default"},
                 {"confidence"}, id="bool-is-no-number"),
])
def test_an_invalid_classification_document_is_refused(document: object,
                                                       paths: set[str]) -> None:
    with pytest.raises(InvalidInput) as caught:
        Classification.from_document(document)

    assert set(caught.value.reasons) == paths
