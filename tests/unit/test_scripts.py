"""Choosing the screen-pop's script and knowledge snippets, filling in placeholders, and
checking what supervisors save (routing/scripts.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import combinations
from typing import Any

import pytest

from core.domain.contact import CaseType
from core.domain.errors import InvalidInput
from core.domain.routing import ConfigDocument
from core.services.screen_pop import KNOWLEDGE_KEY, SCRIPTS_KEY, PopContext
from routing.scripts import (
    DEMO_KNOWLEDGE,
    DEMO_SCRIPTS,
    ScriptDef,
    ScriptSuggester,
    SnippetDef,
    check_knowledge,
    check_scripts,
    choose_script,
    parse_knowledge,
    parse_scripts,
    rank_snippets,
    render,
)

NOW = datetime(2026, 11, 17, 9, 30, tzinfo=UTC)
CRITERIA = ("queue", "case_type", "language")
CONTACT = {"queue": "q_complaints", "case_type": "complaint", "language": "nl"}


def script(id: str, **criteria: Any) -> ScriptDef:
    return ScriptDef(id=id, title=id, text=f"script {id}", **criteria)


def every_combination() -> list[ScriptDef]:
    """One script per subset of the criteria, each set to the contact's value."""
    found = []
    for size in range(4):
        for subset in combinations(CRITERIA, size):
            name = ".".join(subset) or "any"
            found.append(script(name, **{c: CONTACT[c] for c in subset}))
    return found


FALLBACK_ORDER = ["queue.case_type.language", "queue.case_type", "queue.language", "queue",
                  "case_type.language", "case_type", "language", "any"]


def choose(scripts: list[ScriptDef], **contact: Any) -> str | None:
    wanted = {"queue_id": CONTACT["queue"], "case_type": CaseType.COMPLAINT,
              "language": "nl", **contact}
    chosen = choose_script(scripts, **wanted)
    return chosen.id if chosen else None


@pytest.mark.parametrize("dropped", range(len(FALLBACK_ORDER)))
def test_the_most_specific_script_wins_and_falls_back_in_order(dropped: int) -> None:
    # Remove the best `dropped` scripts: the next in the documented order is chosen,
    # whatever the order of the document.
    remaining = [s for s in reversed(every_combination())
                 if s.id not in FALLBACK_ORDER[:dropped]]
    assert choose(remaining) == FALLBACK_ORDER[dropped]


def test_a_script_for_another_queue_type_or_language_is_never_chosen() -> None:
    scripts = [script("billing", queue="q_billing"), script("question", case_type="question"),
               script("english", language="en"), script("any")]
    assert choose(scripts) == "any"
    # Only the language differs: better the other language than nothing.
    assert choose(scripts[:3]) == "english"
    assert choose(scripts[:2]) is None


def test_nothing_in_the_contacts_language_falls_back_to_the_other_language() -> None:
    scripts = [script("en-any", language="en"),
               script("en-complaint", case_type="complaint", language="en"),
               script("en-billing", queue="q_billing", language="en")]
    assert choose(scripts) == "en-complaint"
    # …but a script in the contact's language, however general, goes first.
    assert choose([*scripts, script("nl-any", language="nl")]) == "nl-any"


def test_no_script_matches_at_all() -> None:
    assert choose([script("billing", queue="q_billing")]) is None
    assert choose([]) is None


def test_ties_go_to_the_first_in_the_document_and_no_contact_facts_take_the_general_one(
        ) -> None:
    assert choose([script("first"), script("second")]) == "first"
    scripts = every_combination()
    assert choose(scripts, queue_id=None, case_type=None, language=None) == "any"


def snippet(id: str, **fields: Any) -> SnippetDef:
    return SnippetDef(id=id, title=id, text=f"snippet {id}", **fields)


def rank(snippets: list[SnippetDef], **contact: Any) -> list[tuple[str, tuple[str, ...]]]:
    wanted: dict[str, Any] = {"queue_id": "q_complaints", "case_type": CaseType.COMPLAINT,
                              "language": "nl", "keywords": ["ontevreden", "klacht"],
                              "tags": ["klacht", "gold"],
                              "text": "Klacht over de Levéring\nMijn pakket is niet bezorgd.",
                              "limit": 10, **contact}
    return [(s.id, why) for s, why in rank_snippets(snippets, **wanted)]


def test_snippets_are_ranked_by_what_points_to_them_and_say_why() -> None:
    snippets = [
        snippet("queue-only", queues=["q_complaints"]),
        snippet("type", case_types=["complaint"]),
        snippet("tag", tags=["Klacht"]),
        snippet("text", keywords=["levering"]),
        snippet("fired", keywords=["ontevreden"]),
        snippet("both", keywords=["klacht", "pakket"], case_types=["complaint"]),
        snippet("nothing", keywords=["wachtwoord"], case_types=["question"],
                queues=["q_billing"], tags=["vip"]),
    ]
    assert rank(snippets) == [
        ("both", ("keyword:klacht", "text:pakket", "type:complaint")),
        ("fired", ("keyword:ontevreden",)),
        ("tag", ("tag:Klacht",)),
        ("text", ("text:levering",)),
        ("queue-only", ("queue:q_complaints",)),
        ("type", ("type:complaint",)),
    ]
    assert [s for s, _ in rank(snippets, limit=2)] == ["both", "fired"]


def test_snippet_keywords_match_whole_words_and_phrases_without_case_or_accents() -> None:
    snippets = [snippet("phrase", keywords=["niet bezorgd"]),
                snippet("part-of-a-word", keywords=["lever"]),
                snippet("accents", keywords=["LEVERING"])]
    assert [s for s, _ in rank(snippets)] == ["phrase", "accents"]


def test_a_snippet_in_the_other_language_is_never_suggested() -> None:
    snippets = [snippet("en", keywords=["klacht"], language="en"),
                snippet("nl", keywords=["klacht"], language="nl"),
                snippet("both", keywords=["klacht"])]
    assert [s for s, _ in rank(snippets)] == ["nl", "both"]
    assert [s for s, _ in rank(snippets, language=None)] == ["en", "nl", "both"]


def test_a_contact_without_facts_gets_no_snippets() -> None:
    snippets = [snippet("k", keywords=["klacht"], case_types=["complaint"],
                        queues=["q_complaints"], tags=["klacht"])]
    assert rank(snippets, queue_id=None, case_type=None, keywords=[], tags=[], text="") == []


VALUES = {"customer.first_name": "Marieke", "customer.name": "Marieke Jansen",
          "agent.first_name": "Chris", "case.reference": "SW-12", "customer.segment": ""}


def test_placeholders_are_filled_from_plain_values_only() -> None:
    assert render("Dag {customer.first_name}, u spreekt met {agent.first_name} ({case.reference}).",
                  VALUES) == "Dag Marieke, u spreekt met Chris (SW-12)."
    # Unknown names and anything that is not a plain name stay as written.
    assert render("{customer.__class__} {customer.first_name.upper} {0} {customer}",
                  VALUES) == "{customer.__class__} {customer.first_name.upper} {0} {customer}"
    # A value is never read as a template itself.
    assert render("{customer.name}", {"customer.name": "{agent.first_name}"}) \
        == "{agent.first_name}"


def test_a_placeholder_without_a_value_leaves_no_stray_space() -> None:
    values = {"customer.first_name": "", "agent.first_name": "Chris"}
    assert render("Dag {customer.first_name}, ik ben {agent.first_name}.", values) \
        == "Dag, ik ben Chris."
    assert render("Dag {customer.first_name}\nHoe gaat het?", values) == "Dag\nHoe gaat het?"
    assert render("Dag {customer.first_name} en welkom", values) == "Dag  en welkom"


def reasons(err: pytest.ExceptionInfo[InvalidInput]) -> dict[str, str]:
    return dict(err.value.reasons)


def test_scripts_are_checked_item_by_item() -> None:
    with pytest.raises(InvalidInput) as err:
        parse_scripts({"scripts": [
            {"id": "ok", "title": "Fine", "text": "Dag {customer.first_name}"},
            {"id": "Bad Id", "title": "", "text": "x"},
            {"id": "p", "title": "t", "text": "IBAN: {customer.iban}"},
            {"id": "c", "title": "t", "text": "bell\x07"},
            {"id": "l", "title": "t", "text": "x", "language": "de", "case_type": "spam"},
            {"id": "x", "title": "t", "text": "x", "colour": "red"},
        ]})
    found = reasons(err)
    assert set(found) == {"scripts.1.id", "scripts.1.title", "scripts.2.text",
                          "scripts.3.text", "scripts.4.language", "scripts.4.case_type",
                          "scripts.5.colour"}
    assert found["scripts.2.text"].startswith("unknown placeholder {customer.iban}; use ")
    assert found["scripts.3.text"] == "control characters are not allowed"


def test_scripts_must_differ_and_name_real_queues() -> None:
    scripts = parse_scripts({"scripts": [
        {"id": "a", "title": "A", "text": "a", "queue": "q_billing", "language": "nl"},
        {"id": "a", "title": "B", "text": "b", "queue": "q_billing", "language": "nl"},
        {"id": "c", "title": "C", "text": "c", "queue": "q_nowhere"},
    ]})
    with pytest.raises(InvalidInput) as err:
        check_scripts(scripts, queues=["q_billing", "q_general"])
    assert reasons(err) == {
        "scripts.1.id": "the same id as scripts.0",
        "scripts.1": "the same queue, case_type and language as scripts.0: "
                     "it would never be chosen",
        "scripts.2.queue": "no queue 'q_nowhere'",
    }


def test_snippets_need_something_to_match_a_safe_link_and_real_queues() -> None:
    with pytest.raises(InvalidInput) as err:
        parse_knowledge({"snippets": [
            {"id": "js", "title": "t", "text": "x", "keywords": ["a"],
             "url": "javascript:alert(1)"},
            {"id": "creds", "title": "t", "text": "x", "keywords": ["a"],
             "url": "https://user:pw@example.nl/"},
        ]})
    assert set(reasons(err)) == {"snippets.0.url", "snippets.1.url"}
    knowledge = parse_knowledge({"snippets": [
        {"id": "a", "title": "t", "text": "x"},
        {"id": "a", "title": "t", "text": "x", "queues": ["q_x"],
         "url": "https://kennisbank.example.nl/levering"},
    ]})
    with pytest.raises(InvalidInput) as err:
        check_knowledge(knowledge, queues=["q_general"])
    assert reasons(err) == {
        "snippets.0": "give keywords, tags, case_types or queues: otherwise it is never "
                      "suggested",
        "snippets.1.id": "the same id as snippets.0",
        "snippets.1.queues": "no queue 'q_x'",
    }


def test_the_demo_documents_are_valid() -> None:
    queues = ["q_general", "q_billing", "q_complaints"]
    check_scripts(parse_scripts(DEMO_SCRIPTS), queues=queues)
    check_knowledge(parse_knowledge(DEMO_KNOWLEDGE), queues=queues)
    languages = {s.language for s in parse_scripts(DEMO_SCRIPTS).scripts}
    assert languages == {"nl", "en"}


def document(key: str, body: dict[str, Any], revision: int = 4) -> ConfigDocument:
    return ConfigDocument(key=key, document=body, revision=revision, updated_by="sanne",
                          updated_at=NOW)


def test_the_suggester_renders_the_chosen_script_and_snippets_and_skips_bad_items() -> None:
    scripts = {"scripts": [*DEMO_SCRIPTS["scripts"],
                           {"id": "stored-by-an-older-version", "unknown": True}]}
    context = PopContext(queue_id="q_complaints", case_type=CaseType.COMPLAINT,
                         language="nl", keywords=("ontevreden", "schandalig"),
                         tags=("klacht",), text="Klacht over de levering", values=VALUES)
    script, snippets = ScriptSuggester(knowledge_limit=2).suggest(
        document(SCRIPTS_KEY, scripts), document(KNOWLEDGE_KEY, DEMO_KNOWLEDGE, 9), context)
    assert script is not None
    assert (script.id, script.language, script.case_type, script.revision) == \
        ("klacht", "nl", "complaint", 4)
    assert script.text.startswith("Goedendag Marieke, u spreekt met Chris.")
    assert "{" not in script.text
    assert [(s.id, s.matched) for s in snippets] == [
        ("klachtenprocedure",
         ("text:klacht", "keyword:ontevreden", "tag:klacht", "type:complaint")),
        ("compensatie", ("keyword:schandalig",)),
    ]


def test_nothing_stored_suggests_nothing() -> None:
    context = PopContext(queue_id=None, case_type=None, language="nl", keywords=(),
                         tags=(), text="", values={})
    assert ScriptSuggester().suggest(None, None, context) == (None, [])
