"""Routing rules: conditions over the allow-listed facts, how matched rules merge, the trace
that explains a decision, and validation that says what is wrong and where."""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

import pytest

from core.domain.errors import InvalidInput
from routing.fields import FIELDS, field_catalogue
from routing.rules import (
    MAX_RULES,
    CompiledRuleSet,
    Rule,
    RuleActions,
    RuleSet,
    RuleTrace,
)

MISSING = object()  # marks a fact left out of the facts dict


def dutch(subject: str, body: str) -> dict[str, object]:
    """The text facts as the fact builder derives them: lower-case, accents stripped."""
    decomposed = unicodedata.normalize("NFKD", f"{subject}\n{body}".lower())
    text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return {"subject": subject, "body": body, "text": text,
            "words": sorted(set(re.findall(r"[\w']+", text)))}


FACTS: dict[str, object] = {
    "channel": "email", "direction": "inbound", "case_type": "complaint",
    "classification": "complaint", "classification_confidence": 0.82, "language": "nl",
    "negative_sentiment": True,
    **dutch("Klacht over mijn factuur", "Ik ben ontevréden en wil mijn abonnement opzeggen."),
    "mailbox": "service@example.nl", "form": None, "ivr_choice": None, "segment": "gold",
    "customer_value": 1250.0, "customer_language": "nl", "customer_is_new": False,
    "open_complaints": 2, "open_cases": 3, "priority": 2, "tags": ["vip"], "hour": 14,
    "weekday": 3, "business_hours": True, "account_owner": None,
}


def facts(**changes: object) -> dict[str, object]:
    merged = {**FACTS, **changes}
    return {name: value for name, value in merged.items() if value is not MISSING}


def rule(condition: str = "true", **fields: Any) -> dict[str, Any]:
    fields.setdefault("name", f"rule {condition}")
    fields.setdefault("actions", {})
    return {"condition": condition, **fields}


def compile_rules(*rules: dict[str, Any], default_queue: str = "q_general") -> CompiledRuleSet:
    return CompiledRuleSet(RuleSet.from_document(
        {"default_queue": default_queue, "rules": list(rules)}))


def matches(condition: str, observed: dict[str, object]) -> bool:
    outcome = compile_rules(rule(condition, id="r")).evaluate(observed)
    assert outcome.trace[0].outcome in ("matched", "not_matched"), outcome.trace[0]
    return outcome.matched == ("r",)


def reasons(doc: object, **known: Any) -> dict[str, str]:
    with pytest.raises(InvalidInput) as raised:
        RuleSet.from_document(doc, **known)
    return raised.value.reasons


# --- conditions over each field type ---------------------------------------------------------


@pytest.mark.parametrize(("condition", "changes", "expected"), [
    # strings
    ("channel == 'email'", {}, True),
    ("channel == 'phone'", {}, False),
    ("channel != 'phone' and direction == 'inbound'", {}, True),
    ("channel in ['chat', 'email']", {}, True),
    ("language == customer_language", {}, True),
    ("subject.as_lower =~~ 'factuur'", {}, True),
    # regexes: =~ matches from the start, =~~ searches anywhere
    ("subject =~ 'Klacht'", {}, True),
    ("subject =~ 'factuur'", {}, False),
    ("subject =~~ 'factuur'", {}, True),
    ("mailbox =~ r'.*@example\\.nl'", {}, True),
    ("mailbox !~ '^sales@'", {}, True),
    # arrays
    ("'vip' in tags", {}, True),
    ("'vip' in tags", {"tags": []}, False),
    ("'vip' not in tags", {"tags": ["new"]}, True),
    ("tags.length == 0", {"tags": []}, True),
    ("segment in tags", {"tags": ["gold"]}, True),
    # numbers; every number is rule-engine's FLOAT
    ("customer_value > 1000", {}, True),
    ("customer_value > 1000", {"customer_value": 999}, False),
    ("open_complaints >= 2 and open_cases < 5", {}, True),
    ("priority == 2", {}, True),
    ("classification_confidence >= 0.8", {}, True),
    ("hour < 9 or hour >= 17", {"hour": 18}, True),
    ("weekday in [6, 7]", {"weekday": 7}, True),
    ("weekday in [6, 7]", {}, False),
    # booleans
    ("negative_sentiment", {}, True),
    ("not business_hours", {}, False),
    ("customer_is_new == false", {}, True),
    # null: equal only to null, never a regex match; ?? gives a default
    ("segment == null", {"segment": None}, True),
    ("segment == null", {}, False),
    ("segment == null", {"segment": MISSING}, True),
    ("account_owner == null", {}, True),
    ("segment == 'gold'", {"segment": None}, False),
    ("segment != null and segment == 'gold'", {}, True),
    ("form =~ '.*'", {}, False),
    ("(customer_value ?? 0) > 1000", {"customer_value": None}, False),
    ("(ivr_choice ?? '') == ''", {}, True),
    # the ternary and built-ins rule-engine documents
    ("segment == 'gold' ? priority >= 2 : priority >= 3", {}, True),
    ("$any([t =~ 'v' for t in tags])", {}, True),
    ("words.length > 5", {}, True),
])
def test_condition_over_facts(condition: str, changes: dict[str, object],
                              expected: bool) -> None:
    assert matches(condition, facts(**changes)) is expected


@pytest.mark.parametrize(("condition", "subject", "body", "expected"), [
    ("'opzeggen' in words", "", "Ik wil mijn abonnement opzeggen.", True),
    ("'opzeggen' in words", "", "Ik wil niet opzeggen!", True),
    ("'opzeggen' in words", "", "Ik heb een opzegging gestuurd", False),
    ("text =~~ 'opzeg(gen|ging)'", "", "Ik heb een opzegging gestuurd", True),
    ("text =~ 'opzeg'", "", "Ik wil opzeggen", False),  # =~ is anchored at the start
    ("text =~ 'opzeg'", "Opzeggen", "", True),
    # accents are stripped and case folded, so either spelling matches
    ("'ontevreden' in words", "", "Ik ben ONTEVRÉDEN", True),
    ("text =~~ 'ontevreden'", "Ontevréden klant", "", True),
    # whole words in words, substrings in text
    ("'klacht' in words", "Klachten", "", False),
    ("text =~~ 'klacht'", "Klachten", "", True),
    ("text =~~ r'\\bklacht\\b'", "", "dit is een klacht.", True),  # a raw string keeps \\b
    ("text =~~ r'\\bklacht\\b'", "", "klachtenlijn", False),
    ("'klacht' in words or 'klachten' in words", "Klachten", "", True),
    ("'storing' in words and not ('opgelost' in words)", "Storing", "nog niet opgelost", False),
    ("$any([w =~ 'factu' for w in words])", "Vraag over factuur", "", True),
    ("'niet' in words", "", "", False),
])
def test_keyword_conditions_on_dutch_text(condition: str, subject: str, body: str,
                                          expected: bool) -> None:
    assert matches(condition, facts(**dutch(subject, body))) is expected


@pytest.mark.parametrize(("condition", "changes", "expected"), [
    # a comprehension variable may share a field's name; inside it, it is the variable
    ("[words for words in tags if 'ip' in words].length > 0", {"tags": ["vip"]}, True),
    ("('vip' in tags) == true", {}, True),
    ("segment == 'gold' ? 'vip' in tags : false", {}, True),
    ("1 in words", {}, False),
    ("null in tags", {"tags": ["a"]}, False),
    ("'a' in tags", {"tags": ("a", "b")}, True),
])
def test_membership_in_array_facts(condition: str, changes: dict[str, object],
                                   expected: bool) -> None:
    assert matches(condition, facts(**changes)) is expected


# --- merging matched rules -------------------------------------------------------------------


@pytest.mark.parametrize(("rules", "expected"), [
    pytest.param(
        [rule(actions={"queue": "q_a", "priority": 2, "tier": 1}, stop=False),
         rule(actions={"queue": "q_b", "tier": 2}, stop=False)],
        RuleActions(queue="q_b", priority=2, tier=2), id="later-scalars-override"),
    pytest.param(
        [rule(actions={"queue": "q_a", "priority": 3}, stop=False),
         rule("channel == 'phone'", actions={"queue": "q_b", "priority": 1}, stop=False)],
        RuleActions(queue="q_a", priority=3), id="unmatched-rules-change-nothing"),
    pytest.param(
        [rule(actions={"skills": {"dutch": 2, "billing": 3}}, stop=False),
         rule(actions={"skills": {"dutch": 4, "billing": 1, "legal": 1}}, stop=False)],
        RuleActions(queue="q_general", skills={"dutch": 4, "billing": 3, "legal": 1}),
        id="skills-keep-the-highest-level"),
    pytest.param(
        [rule(actions={"tags": ["complaint", "vip"]}, stop=False),
         rule(actions={"tags": ["vip", "churn"]}, stop=False)],
        RuleActions(queue="q_general", tags=("complaint", "vip", "churn")),
        id="tags-accumulate-distinct-in-order"),
    pytest.param(
        [rule(actions={"case_type": "complaint", "sla_policy": "sla_a",
                       "preferred_agent": "agt_1", "auto_reply_template": "tpl_a"},
              stop=False),
         rule(actions={"preferred_team": "team_x", "preferred_agent": "agt_2"}, stop=False)],
        RuleActions(queue="q_general", case_type="complaint", sla_policy="sla_a",
                    preferred_agent="agt_2", preferred_team="team_x",
                    auto_reply_template="tpl_a"), id="each-scalar-merges-alone"),
    pytest.param([], RuleActions(queue="q_general"), id="no-rules-default-queue"),
    pytest.param(
        [rule("channel == 'phone'", actions={"queue": "q_phone"})],
        RuleActions(queue="q_general"), id="nothing-matched-default-queue"),
    pytest.param(
        [rule(actions={"priority": 4})],
        RuleActions(queue="q_general", priority=4), id="matched-without-queue-default-queue"),
])
def test_merge(rules: list[dict[str, Any]], expected: RuleActions) -> None:
    assert compile_rules(*rules).evaluate(FACTS).actions == expected


def test_trace_says_what_each_rule_applied() -> None:
    outcome = compile_rules(
        rule(id="complaint", actions={"queue": "q_c", "tags": ["c"]}, stop=False),
        rule("channel == 'phone'", id="phone", actions={"queue": "q_p"}, stop=False),
        rule(id="gold", actions={"priority": 4, "skills": {"dutch": 3}}),
    ).evaluate(FACTS)

    assert outcome.matched == ("complaint", "gold")
    assert [(step.rule_id, step.outcome, dict(step.applied)) for step in outcome.trace] == [
        ("complaint", "matched", {"queue": "q_c", "tags": ["c"]}),
        ("phone", "not_matched", {}),
        ("gold", "matched", {"priority": 4, "skills": {"dutch": 3}}),
    ]
    assert outcome.to_document() == {
        "actions": {"queue": "q_c", "priority": 4, "skills": {"dutch": 3}, "tags": ["c"]},
        "matched": ["complaint", "gold"],
        "trace": [
            {"rule_id": "complaint", "name": "rule true", "outcome": "matched",
             "applied": {"queue": "q_c", "tags": ["c"]}},
            {"rule_id": "phone", "name": "rule channel == 'phone'", "outcome": "not_matched"},
            {"rule_id": "gold", "name": "rule true", "outcome": "matched",
             "applied": {"priority": 4, "skills": {"dutch": 3}}},
        ],
    }


def test_a_trace_document_is_a_copy() -> None:
    compiled = compile_rules(rule(id="a", actions={"tags": ["x"], "skills": {"dutch": 2}}))
    document = compiled.evaluate(FACTS).to_document()
    document["trace"][0]["applied"]["tags"].append("mutated")  # type: ignore[index]

    assert compiled.evaluate(FACTS).to_document()["trace"] == [
        {"rule_id": "a", "name": "rule true", "outcome": "matched",
         "applied": {"tags": ["x"], "skills": {"dutch": 2}}}]


# --- stop, continue, disabled, errors --------------------------------------------------------


@pytest.mark.parametrize(("rules", "outcomes", "queue"), [
    pytest.param([rule(id="a", actions={"queue": "q_a"}), rule(id="b", actions={"queue": "q_b"})],
                 ["matched", "skipped"], "q_a", id="stop-skips-the-rest"),
    pytest.param([rule(id="a", actions={"queue": "q_a"}, stop=False),
                  rule(id="b", actions={"queue": "q_b"})],
                 ["matched", "matched"], "q_b", id="continue-lets-later-rules-override"),
    pytest.param([rule("false", id="a", actions={"queue": "q_a"}),
                  rule(id="b", actions={"queue": "q_b"})],
                 ["not_matched", "matched"], "q_b", id="an-unmatched-stop-rule-stops-nothing"),
    pytest.param([rule(id="a", actions={"queue": "q_a"}, enabled=False),
                  rule(id="b", actions={"priority": 3})],
                 ["disabled", "matched"], "q_general", id="disabled-never-applies"),
    pytest.param([rule(id="a"), rule(id="b", enabled=False), rule(id="c")],
                 ["matched", "disabled", "skipped"], "q_general",
                 id="disabled-stays-disabled-after-a-stop"),
    pytest.param([rule("customer_value > 1000", id="a", actions={"queue": "q_a"}),
                  rule(id="b", actions={"queue": "q_b"})],
                 ["error", "matched"], "q_b", id="an-error-is-not-a-match"),
])
def test_evaluation_order(rules: list[dict[str, Any]], outcomes: list[str], queue: str) -> None:
    outcome = compile_rules(*rules).evaluate(facts(customer_value=None))

    assert [step.outcome for step in outcome.trace] == outcomes
    assert outcome.actions.queue == queue


@pytest.mark.parametrize(("condition", "changes", "detail"), [
    ("customer_value > 1000", {"customer_value": None},
     "data type mismatch (null: customer_value)"),
    ("hour >= 9 and customer_value < 10", {"customer_value": MISSING},
     "data type mismatch (null: customer_value)"),
    ("priority >= 3", {"priority": "high"},
     "symbol 'priority' resolved to incorrect datatype (is: STRING, expected: FLOAT)"),
    ("'klacht' in words", {"words": None}, "(null: words)"),
    ("subject == 'x'", {"subject": object()}, "can not map python type 'object'"),
    ("open_cases / (open_complaints - 2) > 1", {}, "division by zero"),
])
def test_a_condition_that_fails_is_traced_not_raised(condition: str,
                                                     changes: dict[str, object],
                                                     detail: str) -> None:
    outcome = compile_rules(rule(condition, id="r", actions={"queue": "q_r"})).evaluate(
        facts(**changes))

    [step] = outcome.trace
    assert (step.outcome, outcome.actions.queue, outcome.matched) == ("error", "q_general", ())
    assert step.detail is not None and detail in step.detail
    assert outcome.to_document()["trace"] == [
        {"rule_id": "r", "name": step.name, "outcome": "error", "detail": step.detail}]


def test_facts_outside_the_allow_list_are_ignored() -> None:
    observed = facts(password="hunter2", __class__="x", customer_value=5000)

    assert matches("customer_value > 1000", observed)
    assert "password" in reasons({"default_queue": "q", "rules": [
        rule("password == 'hunter2'")]})["rules[0].condition"]


def test_an_empty_rule_set_routes_to_the_default_queue() -> None:
    compiled = compile_rules()

    outcome = compiled.evaluate({})
    assert (outcome.actions, outcome.matched, outcome.trace) == (
        RuleActions(queue="q_general"), (), ())
    assert compiled.rule_set == RuleSet(rules=(), default_queue="q_general")


# --- validation ------------------------------------------------------------------------------

KNOWN = {"known_queues": {"q_general", "q_sales", "q_complaints"},
         "known_agents": {"agt_anna"}, "known_teams": {"team_billing"},
         "known_sla_policies": {"sla_gold"}}


@pytest.mark.parametrize(("broken", "expected"), [
    pytest.param(rule("channel == 'email' and priority >"),
                 {"rules[0].condition": "syntax error at line 1, column 34: "
                                        "the condition ends too early"}, id="syntax-at-end"),
    pytest.param(rule("channel == 'email' ) and true"),
                 {"rules[0].condition": "syntax error at line 1, column 20: unexpected ')'"},
                 id="syntax-unexpected-token"),
    pytest.param(rule("channel == 'email' and\n  priority @ 3"),
                 {"rules[0].condition": "syntax error at line 2, column 12: "
                                        "illegal character '@'"}, id="syntax-second-line"),
    pytest.param(rule("channel = 'email'"),
                 {"rules[0].condition": "syntax error at line 1, column 9: "
                                        "illegal character '='"}, id="syntax-single-equals"),
    pytest.param(rule("segmnt == 'gold'"),
                 {"rules[0].condition": "unknown field 'segmnt' (did you mean 'segment'?)"},
                 id="unknown-field-suggested"),
    pytest.param(rule("colour == 'red'"), {"rules[0].condition": "unknown field 'colour'"},
                 id="unknown-field-nothing-close"),
    pytest.param(rule("words.lenght > 2"),
                 {"rules[0].condition": "unknown attribute 'lenght' (did you mean 'length'?)"},
                 id="unknown-attribute"),
    pytest.param(rule("text =~ '(opzeg'"),
                 {"rules[0].condition": "invalid regular expression '(opzeg': missing ), "
                                        "unterminated subpattern at position 0"},
                 id="bad-regex"),
    pytest.param(rule("customer_value > 'veel'"),
                 {"rules[0].condition": "type error: data type mismatch"}, id="type-mismatch"),
    pytest.param(rule("subject"),
                 {"rules[0].condition": "must be a true/false test, not a value of type "
                                        "string"}, id="not-boolean"),
    pytest.param(rule("tags"),
                 {"rules[0].condition": "must be a true/false test, not a value of type "
                                        "array of string"}, id="not-boolean-array"),
    pytest.param(rule("$now > d'2024-01-01'"),
                 {"rules[0].condition": "'$now' is not available in routing rules "
                                        "(use hour, weekday or business_hours)"},
                 id="clock-refused"),
    pytest.param(rule("$random() > 0.5"),
                 {"rules[0].condition": "'$random' is not available in routing rules"},
                 id="randomness-refused"),
    pytest.param(rule("$range(1000000000).length > 0"),
                 {"rules[0].condition": "'$range' is not available in routing rules"},
                 id="unbounded-work-refused"),
    pytest.param(rule("-" * 1990 + "1 == -1", name="deep"),
                 {"rules[0].condition": "nested too deeply"}, id="nested-too-deeply"),
    pytest.param(rule(" "), {"rules[0].condition": "must be a rule expression, e.g. "
                                                   "channel == \"email\" (\"true\" matches "
                                                   "everything)"}, id="blank-condition"),
    pytest.param(rule("true or " * 300 + "true", name="long"),
                 {"rules[0].condition": "at most 2000 characters, not 2404"},
                 id="condition-too-long"),
    pytest.param(rule(name="x" * 201),
                 {"rules[0].name": "must be a non-blank text of at most 200 characters"},
                 id="name-too-long"),
    pytest.param({"condition": "true", "actions": {}},
                 {"rules[0].name": "must be a non-blank text of at most 200 characters"},
                 id="name-missing"),
    pytest.param(rule(actions={"priority": 7}), {"rules[0].actions.priority": "must be 1..4"},
                 id="priority-too-high"),
    pytest.param(rule(actions={"priority": 0}), {"rules[0].actions.priority": "must be 1..4"},
                 id="priority-too-low"),
    pytest.param(rule(actions={"priority": "high"}),
                 {"rules[0].actions.priority": "must be 1..4"}, id="priority-text"),
    pytest.param(rule(actions={"priority": True}),
                 {"rules[0].actions.priority": "must be 1..4"}, id="priority-bool"),
    pytest.param(rule(actions={"priority": 2.0}),
                 {"rules[0].actions.priority": "must be 1..4"}, id="priority-float"),
    pytest.param(rule(actions={"tier": 3}),
                 {"rules[0].actions.tier": "must be 1 (first line) or 2 (second line)"},
                 id="tier"),
    pytest.param(rule(actions={"skills": {"dutch": 6, "billing": 2}}),
                 {"rules[0].actions.skills.dutch": "must be 1..5"}, id="skill-level"),
    pytest.param(rule(actions={"skills": ["dutch"]}),
                 {"rules[0].actions.skills": "must map skill names to minimum levels 1..5"},
                 id="skills-not-a-mapping"),
    pytest.param(rule(actions={"case_type": "praise"}),
                 {"rules[0].actions.case_type": "must be one of question, complaint, request"},
                 id="case-type"),
    pytest.param(rule(actions={"tags": "vip"}), {"rules[0].actions.tags": "must be a list of tags"},
                 id="tags-not-a-list"),
    pytest.param(rule(actions={"tags": ["vip", 3]}),
                 {"rules[0].actions.tags[1]": "must be a non-blank tag of at most 200 "
                                              "characters"}, id="tag-not-text"),
    pytest.param(rule(actions={"queue": 12}), {"rules[0].actions.queue": "must be a queue id"},
                 id="queue-not-text"),
    pytest.param(rule(actions={"auto_reply_template": ""}),
                 {"rules[0].actions.auto_reply_template": "must be a template id"},
                 id="template-blank"),
    pytest.param(rule(actions={"queue": "q_slaes"}),
                 {"rules[0].actions.queue": "unknown queue 'q_slaes' (did you mean 'q_sales'?)"},
                 id="unknown-queue"),
    pytest.param(rule(actions={"preferred_agent": "agt_bob"}),
                 {"rules[0].actions.preferred_agent": "unknown agent 'agt_bob'"},
                 id="unknown-agent"),
    pytest.param(rule(actions={"preferred_team": "team_sales"}),
                 {"rules[0].actions.preferred_team": "unknown team 'team_sales'"},
                 id="unknown-team"),
    pytest.param(rule(actions={"sla_policy": "sla_glod"}),
                 {"rules[0].actions.sla_policy": "unknown SLA policy 'sla_glod' "
                                                 "(did you mean 'sla_gold'?)"},
                 id="unknown-sla-policy"),
    pytest.param(rule(actions={"colour": "red"}), {"rules[0].actions.colour": "unknown key"},
                 id="unknown-action"),
    pytest.param(rule(actions={"queu": "q_sales"}),
                 {"rules[0].actions.queu": "unknown key (did you mean 'queue'?)"},
                 id="unknown-action-suggested"),
    pytest.param(rule(actions=None),
                 {"rules[0].actions": "must be an object of actions (it may be empty)"},
                 id="actions-missing"),
    pytest.param(rule(stop="yes"), {"rules[0].stop": "must be true or false"}, id="stop"),
    pytest.param(rule(enabled=1), {"rules[0].enabled": "must be true or false"}, id="enabled"),
    pytest.param(rule(priority=3), {"rules[0].priority": "unknown key"}, id="unknown-rule-key"),
    pytest.param(rule(id="has space"),
                 {"rules[0].id": "must be letters, digits, '_', '-', '.' or ':', at most 64, "
                                 "starting with a letter or digit"}, id="bad-id"),
    pytest.param("not a rule", {"rules[0]": "must be an object"}, id="rule-not-an-object"),
])
def test_validation_reason(broken: object, expected: dict[str, str]) -> None:
    assert reasons({"default_queue": "q_general", "rules": [broken]}, **KNOWN) == expected


def test_every_problem_is_reported_at_once() -> None:
    found = reasons({"default_queue": "q_nowhere", "rules": [
        rule("segmnt == 'gold'", id="a"),
        rule("true", id="b", actions={"priority": 9, "preferred_team": "team_x"}),
        rule("channel ==", id="a"),
    ], "version": 3}, **KNOWN)

    assert found == {
        "version": "unknown key",
        "default_queue": "unknown queue 'q_nowhere'",
        "rules[0].condition": "unknown field 'segmnt' (did you mean 'segment'?)",
        "rules[1].actions.priority": "must be 1..4",
        "rules[1].actions.preferred_team": "unknown team 'team_x'",
        "rules[2].id": "duplicate id 'a' (also used by rules[0])",
        "rules[2].condition": "syntax error at line 1, column 11: "
                              "the condition ends too early",
    }


@pytest.mark.parametrize("doc", [None, [], "rules", 42])
def test_a_document_that_is_not_an_object(doc: object) -> None:
    assert reasons(doc) == {"rule_set": "must be an object with default_queue and rules"}


@pytest.mark.parametrize(("doc", "expected"), [
    ({"rules": []}, {"default_queue": "must be a queue id"}),
    ({"default_queue": "q", "rules": {}}, {"rules": "must be a list of rules (it may be empty)"}),
    ({"default_queue": "q"}, {"rules": "must be a list of rules (it may be empty)"}),
    ({"default_queue": "q", "rules": [rule()] * (MAX_RULES + 1)},
     {"rules": "at most 5000 rules, not 5001"}),
])
def test_rule_set_shape(doc: object, expected: dict[str, str]) -> None:
    assert reasons(doc) == expected


def test_ids_are_only_checked_against_collections_that_are_given() -> None:
    rule_set = RuleSet.from_document({"default_queue": "q_anything", "rules": [rule(actions={
        "queue": "q_x", "preferred_agent": "agt_x", "preferred_team": "team_x",
        "sla_policy": "sla_x"})]})

    assert rule_set.rules[0].actions.sla_policy == "sla_x"


def test_an_empty_rule_set_is_valid() -> None:
    assert RuleSet.from_document({"default_queue": "q_general", "rules": []}, **KNOWN) == \
        RuleSet(rules=(), default_queue="q_general")


@pytest.mark.parametrize("condition", [
    "subject.__class__ == null",
    "subject.__class__.__mro__ == null",
    "words.__len__ > 0",
    "subject.upper == 'X'",
    "subject.format == 'x'",
    "$__import__('os') == null",
    "$open('/etc/passwd') == null",
    "__builtins__ == null",
    "eval == null",
])
def test_conditions_cannot_reach_python(condition: str) -> None:
    found = reasons({"default_queue": "q", "rules": [rule(condition)]})

    assert re.match(r"unknown (field|attribute) |'\$\w+' is not available",
                    found["rules[0].condition"])


def test_ids_are_derived_from_names_when_missing() -> None:
    rule_set = RuleSet.from_document({"default_queue": "q", "rules": [
        rule(name="Klachten — Gold klanten!"), rule(name="Klachten — Gold klanten!"),
        rule(name="!!!"), rule(name="Klachten gold", id="klachten-gold-klanten"),
    ]})

    assert [r.id for r in rule_set.rules] == [
        "klachten-gold-klanten-2", "klachten-gold-klanten-3", "rule", "klachten-gold-klanten"]


# --- documents -------------------------------------------------------------------------------

DOCUMENT: dict[str, Any] = {"default_queue": "q_general", "rules": [
    {"id": "gold-complaint", "name": "Gold complaints",
     "condition": "segment == 'gold' and ('klacht' in words or negative_sentiment)",
     "actions": {"queue": "q_complaints", "priority": 4, "skills": {"dutch": 3},
                 "tier": 2, "case_type": "complaint", "tags": ["vip", "complaint"],
                 "preferred_agent": "agt_anna", "preferred_team": "team_billing",
                 "sla_policy": "sla_gold", "auto_reply_template": "tpl_complaint"},
     "stop": False, "enabled": True},
    {"id": "sales", "name": "Sales mailbox", "condition": "mailbox == 'sales@example.nl'",
     "actions": {"queue": "q_sales"}, "stop": True, "enabled": False},
]}


def test_documents_round_trip() -> None:
    rule_set = RuleSet.from_document(DOCUMENT, **KNOWN)

    assert rule_set.to_document() == DOCUMENT
    assert RuleSet.from_document(json.loads(json.dumps(rule_set.to_document()))) == rule_set
    assert rule_set.rules[1] == Rule(id="sales", name="Sales mailbox",
                                     condition="mailbox == 'sales@example.nl'",
                                     actions=RuleActions(queue="q_sales"), enabled=False)


def test_a_minimal_document_is_completed() -> None:
    rule_set = RuleSet.from_document({"default_queue": "q", "rules": [
        {"name": "All", "condition": "true", "actions": {"queue": None}}]})

    assert rule_set.to_document() == {"default_queue": "q", "rules": [
        {"id": "all", "name": "All", "condition": "true", "actions": {}, "stop": True,
         "enabled": True}]}


def test_actions_are_frozen_copies() -> None:
    skills = {"dutch": 2}
    tags = ["vip"]
    actions = RuleActions(skills=skills, tags=tags)  # type: ignore[arg-type]
    skills["dutch"] = 5
    tags.append("new")

    assert (dict(actions.skills), actions.tags) == ({"dutch": 2}, ("vip",))
    with pytest.raises(TypeError):
        actions.skills["dutch"] = 1  # type: ignore[index]


def test_trace_to_document_omits_what_is_empty() -> None:
    assert RuleTrace(rule_id="a", name="A", outcome="skipped").to_document() == {
        "rule_id": "a", "name": "A", "outcome": "skipped"}


def test_a_rule_set_built_in_code_is_checked_when_compiled() -> None:
    rule_set = RuleSet(default_queue="q", rules=(
        Rule(id="a", name="A", condition="segmnt == 'x'", actions=RuleActions()),
        Rule(id="b", name="B", condition="((", actions=RuleActions(), enabled=False),
    ))

    with pytest.raises(InvalidInput) as raised:
        CompiledRuleSet(rule_set)
    assert raised.value.reasons == {
        "rules[0].condition": "unknown field 'segmnt' (did you mean 'segment'?)"}


def test_the_catalogue_lists_every_field() -> None:
    catalogue = {entry["name"]: entry for entry in field_catalogue()}

    assert list(catalogue) == list(FIELDS)
    assert catalogue["segment"]["type"] == "string or null"
    assert catalogue["words"]["type"] == "array of string"
    assert catalogue["customer_value"]["type"] == "number or null"
    assert catalogue["business_hours"]["type"] == "boolean"
    assert all(entry["description"] for entry in catalogue.values())
    assert FACTS.keys() == FIELDS.keys()
