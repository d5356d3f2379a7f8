"""Supervisor-tuned routing rules: an ordered rule set, validated as a whole, evaluated with
a trace that explains every decision.

A condition is a rule-engine expression over the allow-listed facts of ``routing.fields``.
The library parses it with its own grammar (nothing reaches ``eval``); it can read those
facts and the attributes rule-engine documents for strings and arrays, nothing else.
Built-ins that would make a decision depend on when it ran (``$now``, ``$today``,
``$random``) or cost unbounded work at save time (``$range``) are refused, so a stored
decision replays the same from its facts.

Evaluating a rule set against one contact's facts:

* rules run in order; a disabled rule is traced ``disabled``;
* a rule whose condition fails to evaluate (a null in an ordered comparison, a fact of the
  wrong type) is traced ``error`` with the reason and counts as not matched;
* a matched rule's scalar actions (queue, priority, tier, case_type, preferred_agent,
  preferred_team, sla_policy, auto_reply_template) override those of earlier matched rules,
  as sequential triggers do; skills merge keeping the highest level per skill; tags
  accumulate, distinct, in the order first set;
* a matched rule with ``stop`` ends evaluation; the rules after it are traced ``skipped``;
* when no matched rule sets a queue, the work goes to the set's ``default_queue``.

Facts outside the allow-list are ignored; an allow-listed fact that is missing is null.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

import rule_engine  # type: ignore[import-untyped]
from rule_engine import ast as re_ast
from rule_engine.builtins import Builtins  # type: ignore[import-untyped]
from rule_engine.types import coerce_value  # type: ignore[import-untyped]

from core.domain.contact import CaseType
from core.domain.errors import InvalidInput
from routing.fields import ARRAY_FIELDS, FIELDS, type_name

MAX_RULES = 5_000
MAX_CONDITION = 2_000
MAX_NAME = 200
MAX_ID = 64
MAX_LABEL = 200  # tags, skill names, template ids

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")
_SCALAR_ACTIONS = ("queue", "priority", "tier", "case_type", "preferred_agent",
                   "preferred_team", "sla_policy", "auto_reply_template")
_ACTION_KEYS = frozenset((*_SCALAR_ACTIONS, "skills", "tags"))
_RULE_KEYS = frozenset(("id", "name", "condition", "actions", "stop", "enabled"))
_SET_KEYS = frozenset(("default_queue", "rules"))
_CASE_TYPES = tuple(t.value for t in CaseType)
# Pure and bounded; anything else (clock, randomness, $range, future additions) is refused.
_BUILTINS = frozenset(("e", "pi", "abs", "all", "any", "sum", "map", "max", "min", "filter",
                       "split", "parse_float", "parse_timedelta", "parse_datetime",
                       "re_groups"))


class Outcome(StrEnum):
    MATCHED = "matched"
    NOT_MATCHED = "not_matched"
    ERROR = "error"
    DISABLED = "disabled"
    SKIPPED = "skipped"  # after a matched rule that stops evaluation


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleActions:
    """What a matched rule does to the work; ``None`` or empty leaves the choice open."""

    queue: str | None = None
    priority: int | None = None  # 1 (low)..4 (urgent)
    skills: Mapping[str, int] = field(default_factory=dict)  # skill -> minimum level 1..5
    tier: int | None = None  # 1 first line, 2 second line
    case_type: str | None = None  # reclassify: question, complaint or request
    tags: tuple[str, ...] = ()
    preferred_agent: str | None = None
    preferred_team: str | None = None
    sla_policy: str | None = None
    auto_reply_template: str | None = None

    def __post_init__(self) -> None:
        # Frozen means frozen: the caller's dict or list must not change the actions later.
        object.__setattr__(self, "skills", MappingProxyType(dict(self.skills)))
        object.__setattr__(self, "tags", tuple(self.tags))

    def to_document(self) -> dict[str, object]:
        document: dict[str, object] = {}
        for name in _SCALAR_ACTIONS:
            value = getattr(self, name)
            if value is not None:
                document[name] = value
        if self.skills:
            document["skills"] = dict(self.skills)
        if self.tags:
            document["tags"] = list(self.tags)
        return document


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    id: str  # stable slug, unique within the set; traces and decisions refer to it
    name: str
    condition: str  # a rule-engine expression; "true" matches everything
    actions: RuleActions
    stop: bool = True  # a match ends evaluation
    enabled: bool = True

    def to_document(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "condition": self.condition,
                "actions": self.actions.to_document(), "stop": self.stop,
                "enabled": self.enabled}


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleSet:
    rules: tuple[Rule, ...]
    default_queue: str  # where work goes when no matched rule sets a queue

    @classmethod
    def from_document(cls, doc: object, *, known_queues: Collection[str] | None = None,
                      known_agents: Collection[str] | None = None,
                      known_teams: Collection[str] | None = None,
                      known_sla_policies: Collection[str] | None = None) -> RuleSet:
        """Validate everything at once; raise ``InvalidInput`` with one reason per problem.

        A ``known_*`` collection, when given, is what the ids the rules name must exist in.
        """
        known = {"queue": known_queues, "agent": known_agents, "team": known_teams,
                 "SLA policy": known_sla_policies}
        return _Reader(known).rule_set(doc)

    def to_document(self) -> dict[str, object]:
        return {"default_queue": self.default_queue,
                "rules": [rule.to_document() for rule in self.rules]}


_NOTHING_APPLIED: Mapping[str, object] = MappingProxyType({})


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleTrace:
    rule_id: str
    name: str
    outcome: str  # an Outcome
    detail: str | None = None  # why the condition failed to evaluate
    applied: Mapping[str, object] = field(default_factory=lambda: _NOTHING_APPLIED)

    def to_document(self) -> dict[str, object]:
        document: dict[str, object] = {"rule_id": self.rule_id, "name": self.name,
                                       "outcome": str(self.outcome)}
        if self.detail is not None:
            document["detail"] = self.detail
        if self.applied:
            document["applied"] = _plain(self.applied)
        return document


@dataclass(frozen=True, slots=True, kw_only=True)
class RoutingOutcome:
    actions: RuleActions  # merged; the queue is always set
    matched: tuple[str, ...]  # rule ids, in evaluation order
    trace: tuple[RuleTrace, ...]

    def to_document(self) -> dict[str, object]:
        return {"actions": self.actions.to_document(), "matched": list(self.matched),
                "trace": [step.to_document() for step in self.trace]}


def _plain(value: object) -> object:
    """A fresh copy of a document, so no reader can reach the compiled rules' own."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


class CompiledRuleSet:
    """A rule set whose conditions are parsed once, to evaluate many decisions."""

    __slots__ = ("_entries", "_rule_set")

    def __init__(self, rule_set: RuleSet) -> None:
        conditions = _Conditions()
        entries: list[_Entry] = []
        reasons: dict[str, str] = {}
        for index, rule in enumerate(rule_set.rules):
            try:
                compiled = conditions.compile(rule.condition, share_membership=True) \
                    if rule.enabled else None
            except _ConditionError as err:
                reasons[f"rules[{index}].condition"] = str(err)
                continue
            entries.append(_Entry.of(rule, compiled))
        if reasons:
            raise InvalidInput(reasons)
        self._rule_set = rule_set
        self._entries = tuple(entries)

    @property
    def rule_set(self) -> RuleSet:
        return self._rule_set

    def evaluate(self, facts: Mapping[str, object]) -> RoutingOutcome:
        prepared = _Facts(facts)
        trace: list[RuleTrace] = []
        matched: list[Rule] = []
        remaining = iter(self._entries)
        for entry in remaining:
            step = entry.run(prepared)
            trace.append(step)
            if step is entry.matched:
                matched.append(entry.rule)
                if entry.rule.stop:
                    trace.extend(later.skipped for later in remaining)
                    break
        return RoutingOutcome(actions=_merge(matched, self._rule_set.default_queue),
                              matched=tuple(rule.id for rule in matched), trace=tuple(trace))


def _merge(matched: Sequence[Rule], default_queue: str) -> RuleActions:
    scalars: dict[str, Any] = {"queue": default_queue}
    skills: dict[str, int] = {}
    tags: dict[str, None] = {}  # an ordered set
    for rule in matched:
        actions = rule.actions
        for name in _SCALAR_ACTIONS:
            value = getattr(actions, name)
            if value is not None:
                scalars[name] = value
        for skill, level in actions.skills.items():
            skills[skill] = max(level, skills.get(skill, level))
        tags.update(dict.fromkeys(actions.tags))
    return RuleActions(**scalars, skills=skills, tags=tuple(tags))


# --- evaluation ------------------------------------------------------------------------------


class _Facts:
    """One decision's facts, converted once for every rule to read."""

    __slots__ = ("member_sets", "values")

    def __init__(self, facts: Mapping[str, object]) -> None:
        self.values: dict[str, object] = {
            name: coerce_value(facts.get(name), verify_type=False) for name in FIELDS}
        self.member_sets: dict[str, frozenset[str]] = {}
        for name in ARRAY_FIELDS:
            value = self.values[name]
            if isinstance(value, tuple) and all(isinstance(item, str) for item in value):
                self.member_sets[name] = frozenset(value)


def _resolve_fact(facts: _Facts, name: str) -> object:
    return facts.values.get(name)


@dataclass(frozen=True, slots=True)
class _Entry:
    """A compiled rule with the traces it can leave, built once rather than per decision."""

    rule: Rule
    condition: Any  # a rule_engine.Rule; None when the rule is disabled
    fields: tuple[str, ...]  # the facts the condition reads, to name the null ones on error
    matched: RuleTrace
    not_matched: RuleTrace
    disabled: RuleTrace
    skipped: RuleTrace

    @classmethod
    def of(cls, rule: Rule, compiled: _Compiled | None) -> _Entry:
        def step(outcome: Outcome, applied: Mapping[str, object] = _NOTHING_APPLIED
                 ) -> RuleTrace:
            return RuleTrace(rule_id=rule.id, name=rule.name, outcome=outcome, applied=applied)

        disabled = step(Outcome.DISABLED)
        return cls(rule=rule, condition=compiled.rule if compiled else None,
                   fields=compiled.fields if compiled else (),
                   matched=step(Outcome.MATCHED,
                                MappingProxyType(rule.actions.to_document())),
                   not_matched=step(Outcome.NOT_MATCHED), disabled=disabled,
                   skipped=step(Outcome.SKIPPED) if rule.enabled else disabled)

    def run(self, facts: _Facts) -> RuleTrace:
        if self.condition is None:
            return self.disabled
        try:
            result = self.condition.evaluate(facts)
        except rule_engine.EngineError as err:
            return self._failed(err.message, facts)
        # A supervisor's expression must never stop routing: whatever the library raises
        # is the rule's failure, shown in the trace, not the decision's.
        except Exception as err:  # noqa: BLE001
            return self._failed(f"{type(err).__name__}: {err}", facts)
        if result is True:
            return self.matched
        if result is False or result is None:
            return self.not_matched
        return self._failed(f"gave {type(result).__name__}, not true or false", facts)

    def _failed(self, message: str, facts: _Facts) -> RuleTrace:
        nulls = [name for name in self.fields if facts.values[name] is None]
        if nulls:
            message += f" (null: {', '.join(nulls)})"
        return RuleTrace(rule_id=self.rule.id, name=self.rule.name, outcome=Outcome.ERROR,
                         detail=message)


class _FactMembership(re_ast.ContainsExpression):  # type: ignore[misc]
    """``x in words`` answered from a set built once per decision.

    rule-engine re-derives an array's element type each time the array is read and again
    inside ``in``: about 0.5 ms for a 300-word e-mail, half a second per decision for a
    thousand keyword rules. The answer is the library's; only the work is shared.
    """

    __slots__ = ()

    def evaluate(self, thing: Any) -> Any:
        members = thing.member_sets.get(self.container.name)
        if members is None:  # not an array of strings: the library's own checks apply
            return super().evaluate(thing)
        member = self.member.evaluate(thing)
        try:
            return member in members
        except TypeError:  # an unhashable member (a mapping or set literal) equals no string
            return False


def _children(node: Any) -> tuple[str, ...]:
    if isinstance(node, re_ast.Statement):
        return ("expression",)
    if isinstance(node, re_ast.BinaryExpressionBase):
        return ("left", "right")
    if isinstance(node, re_ast.UnaryExpression):
        return ("right",)
    if isinstance(node, re_ast.TernaryExpression):
        return ("condition", "case_true", "case_false")
    # Comprehensions bind names that may hide a field; what is not reached keeps its
    # library node, which is slower but equally right.
    return ()


def _share_membership(node: Any) -> Any:
    """Swap each ``x in <array field>`` reachable through logic for a _FactMembership."""
    for attribute in _children(node):
        child = getattr(node, attribute)
        replacement = _share_membership(child)
        if replacement is not child:
            setattr(node, attribute, replacement)
    if isinstance(node, re_ast.ContainsExpression) \
            and isinstance(node.container, re_ast.SymbolExpression) \
            and node.container.scope is None and node.container.name in ARRAY_FIELDS:
        return _FactMembership(node.context, node.container, node.member)
    return node


# --- conditions ------------------------------------------------------------------------------


class _ConditionError(Exception):
    """A condition that cannot be saved; the message says what and where."""


class _RoutingContext(rule_engine.Context):  # type: ignore[misc]
    def resolve_type(self, name: str, scope: str | None = None) -> Any:
        if scope == Builtins.scope_name and name not in _BUILTINS:
            raise rule_engine.SymbolResolutionError(name, symbol_scope=scope)
        return super().resolve_type(name, scope=scope)


@dataclass(frozen=True, slots=True)
class _Compiled:
    rule: Any  # a rule_engine.Rule
    fields: tuple[str, ...]


class _Conditions:
    """Parses conditions against the allow-list; one context serves a whole rule set."""

    def __init__(self) -> None:
        self._context = _RoutingContext(
            type_resolver={name: spec.data_type for name, spec in FIELDS.items()},
            resolver=_resolve_fact, default_timezone="utc", mapping_attribute_lookup=False)

    def compile(self, text: str, *, share_membership: bool = False) -> _Compiled:
        """Parse *text*; with *share_membership*, ``x in <array field>`` reads a per-decision
        set (see _FactMembership)."""
        self._context.symbols.clear()
        try:
            parsed = rule_engine.Rule(text, self._context)
            if share_membership:
                _share_membership(parsed.statement)
        except rule_engine.EngineError as err:
            raise _ConditionError(_explain(err, text)) from None
        except RecursionError:
            raise _ConditionError("nested too deeply") from None
        result_type = parsed.statement.expression.result_type
        if rule_engine.DataType.is_type(result_type, rule_engine.DataType.NULLABLE):
            result_type = result_type.inner_type
        if result_type not in (rule_engine.DataType.BOOLEAN, rule_engine.DataType.UNDEFINED):
            raise _ConditionError(
                f"must be a true/false test, not a value of type {type_name(result_type)}")
        fields = tuple(sorted(set(self._context.symbols) & FIELDS.keys()))
        return _Compiled(rule=parsed, fields=fields)


def _explain(err: Any, text: str) -> str:
    if isinstance(err, rule_engine.RuleSyntaxError):
        return _syntax(err, text)
    if isinstance(err, rule_engine.errors.RegexSyntaxError):
        return f"invalid regular expression {err.value!r}: {err.error}"
    if isinstance(err, rule_engine.errors.SyntaxError):
        return f"{err.message}: {err.value!r}"
    if isinstance(err, rule_engine.SymbolResolutionError):
        if err.symbol_scope == Builtins.scope_name:
            hint = " (use hour, weekday or business_hours)" \
                if err.symbol_name in ("now", "today") else ""
            return f"'${err.symbol_name}' is not available in routing rules{hint}"
        return f"unknown field {err.symbol_name!r}" + _did_you_mean(err.symbol_name, FIELDS)
    if isinstance(err, rule_engine.AttributeResolutionError):
        near = [err.suggestion] if err.suggestion else []
        return f"unknown attribute {err.attribute_name!r}" + _did_you_mean(
            err.attribute_name, near)
    message: str = err.message
    return f"type error: {message}" if message.startswith("data type mismatch") else message


def _syntax(err: Any, text: str) -> str:
    # The library appends "at: line N:offset" with a line count that runs on across parses;
    # the token's offset into this text is what is reliable.
    base: str = err.message.rsplit(" at: ", 1)[0]
    inner = base[base.find("(") + 1:-1] if base.endswith(")") else None
    token = err.token
    if token is None and inner:  # a reserved word, reported without its place
        return f"syntax error: {inner}"
    offset = len(text.rstrip()) if token is None else token.lexpos
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    what = inner or (f"unexpected {token.value!r}" if token is not None
                     else "the condition ends too early")
    return f"syntax error at line {line}, column {column}: {what}"


def _did_you_mean(word: str, options: Collection[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.7)
    return f" (did you mean {close[0]!r}?)" if close else ""


# --- reading documents -----------------------------------------------------------------------


def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:MAX_ID].rstrip("-") or "rule"


def _text(value: object, limit: int) -> str | None:
    """*value* when it is a non-blank string within *limit* characters."""
    if isinstance(value, str) and value.strip() and len(value) <= limit:
        return value
    return None


class _Reader:
    """Reads a rule set document, collecting every problem under its path."""

    def __init__(self, known: Mapping[str, Collection[str] | None]) -> None:
        self._known = known
        self._reasons: dict[str, str] = {}
        self._conditions = _Conditions()
        self._readers = self._action_readers()

    def rule_set(self, doc: object) -> RuleSet:
        if not isinstance(doc, Mapping):
            raise InvalidInput({"rule_set": "must be an object with default_queue and rules"})
        self._unknown_keys(doc, _SET_KEYS, "")
        default_queue = self._reference(doc.get("default_queue"), "default_queue", "queue",
                                        required=True)
        raw_rules = doc.get("rules")
        if not isinstance(raw_rules, list):
            self._reasons["rules"] = "must be a list of rules (it may be empty)"
            raw_rules = []
        elif len(raw_rules) > MAX_RULES:
            raise InvalidInput({"rules": f"at most {MAX_RULES} rules, not {len(raw_rules)}"})
        rules = self._rules(raw_rules)
        if self._reasons:
            raise InvalidInput(self._reasons)
        assert default_queue is not None  # a missing one is a reason above
        return RuleSet(rules=tuple(rules), default_queue=default_queue)

    def _rules(self, raw_rules: list[object]) -> list[Rule]:
        explicit: dict[object, int] = {}  # each explicit id -> the first rule using it
        for index, raw in enumerate(raw_rules):
            if isinstance(raw, Mapping) and raw.get("id") is not None:
                explicit.setdefault(raw["id"], index)
        taken: set[str] = set()
        rules: list[Rule] = []
        for index, raw in enumerate(raw_rules):
            rule = self._rule(raw, f"rules[{index}]", explicit, taken)
            if rule is not None:
                rules.append(rule)
        return rules

    def _rule(self, raw: object, path: str, explicit: Mapping[object, int],
              taken: set[str]) -> Rule | None:
        if not isinstance(raw, Mapping):
            self._reasons[path] = "must be an object"
            return None
        self._unknown_keys(raw, _RULE_KEYS, path + ".")
        name = _text(raw.get("name"), MAX_NAME)
        if name is None:
            self._reasons[f"{path}.name"] = f"must be a non-blank text of at most {MAX_NAME} " \
                                            "characters"
        rule_id = self._rule_id(raw.get("id"), name, path, explicit, taken)
        condition = self._condition(raw.get("condition"), f"{path}.condition")
        actions = self._actions(raw.get("actions"), f"{path}.actions")
        stop = self._flag(raw, "stop", path)
        enabled = self._flag(raw, "enabled", path)
        if name is None or rule_id is None or condition is None or actions is None \
                or stop is None or enabled is None:
            return None
        return Rule(id=rule_id, name=name, condition=condition, actions=actions, stop=stop,
                    enabled=enabled)

    def _rule_id(self, value: object, name: str | None, path: str,
                 explicit: Mapping[object, int], taken: set[str]) -> str | None:
        if value is None:
            # Derived ids never clash: later ones get a suffix, and explicit ids win.
            base = _slug(name or "rule")
            rule_id, n = base, 1
            while rule_id in taken or rule_id in explicit:
                n += 1
                rule_id = f"{base}-{n}"
        elif isinstance(value, str) and len(value) <= MAX_ID and _ID.fullmatch(value):
            rule_id = value
            if rule_id in taken:
                first = explicit.get(rule_id)
                self._reasons[f"{path}.id"] = f"duplicate id {rule_id!r}" + (
                    f" (also used by rules[{first}])" if first is not None else "")
                return None
        else:
            self._reasons[f"{path}.id"] = f"must be letters, digits, '_', '-', '.' or ':', " \
                                          f"at most {MAX_ID}, starting with a letter or digit"
            return None
        taken.add(rule_id)
        return rule_id

    def _condition(self, value: object, path: str) -> str | None:
        if not isinstance(value, str) or not value.strip():
            self._reasons[path] = "must be a rule expression, e.g. channel == \"email\" " \
                                  "(\"true\" matches everything)"
            return None
        if len(value) > MAX_CONDITION:
            self._reasons[path] = f"at most {MAX_CONDITION} characters, not {len(value)}"
            return None
        try:
            self._conditions.compile(value)
        except _ConditionError as err:
            self._reasons[path] = str(err)
            return None
        return value

    def _flag(self, raw: Mapping[str, object], key: str, path: str) -> bool | None:
        value = raw.get(key, True)
        if not isinstance(value, bool):
            self._reasons[f"{path}.{key}"] = "must be true or false"
            return None
        return value

    def _actions(self, raw: object, path: str) -> RuleActions | None:
        if not isinstance(raw, Mapping):
            self._reasons[path] = "must be an object of actions (it may be empty)"
            return None
        self._unknown_keys(raw, _ACTION_KEYS, path + ".")
        before = len(self._reasons)
        values: dict[str, Any] = {}
        for key, read in self._readers.items():
            value = raw.get(key)
            if value is not None:
                values[key] = read(value, f"{path}.{key}")
        if len(self._reasons) > before:
            return None
        return RuleActions(**values)

    def _action_readers(self) -> dict[str, Callable[[object, str], object]]:
        return {
            "queue": lambda v, p: self._reference(v, p, "queue"),
            "priority": lambda v, p: self._number(v, p, 1, 4),
            "skills": self._skills,
            "tier": lambda v, p: self._number(v, p, 1, 2, "must be 1 (first line) or 2 "
                                                          "(second line)"),
            "case_type": self._case_type,
            "tags": self._tags,
            "preferred_agent": lambda v, p: self._reference(v, p, "agent"),
            "preferred_team": lambda v, p: self._reference(v, p, "team"),
            "sla_policy": lambda v, p: self._reference(v, p, "SLA policy"),
            "auto_reply_template": self._template,
        }

    def _reference(self, value: object, path: str, kind: str, *,
                   required: bool = False) -> str | None:
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_LABEL:
            self._reasons[path] = f"must be a {kind} id"
            return None
        known = self._known.get(kind)
        if known is not None and value not in known:
            self._reasons[path] = f"unknown {kind} {value!r}" + _did_you_mean(value, known)
            return None
        return value

    def _number(self, value: object, path: str, low: int, high: int,
                message: str | None = None) -> int | None:
        if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            return value
        self._reasons[path] = message or f"must be {low}..{high}"
        return None

    def _skills(self, value: object, path: str) -> dict[str, int] | None:
        if not isinstance(value, Mapping):
            self._reasons[path] = "must map skill names to minimum levels 1..5"
            return None
        skills: dict[str, int] = {}
        for skill, level in value.items():
            if _text(skill, MAX_LABEL) is None:
                self._reasons[f"{path}.{skill}"] = "must be a skill name"
                continue
            read = self._number(level, f"{path}.{skill}", 1, 5)
            if read is not None:
                skills[skill] = read
        return skills

    def _case_type(self, value: object, path: str) -> str | None:
        if value in _CASE_TYPES:
            return str(value)
        self._reasons[path] = f"must be one of {', '.join(_CASE_TYPES)}"
        return None

    def _tags(self, value: object, path: str) -> tuple[str, ...] | None:
        if not isinstance(value, list):
            self._reasons[path] = "must be a list of tags"
            return None
        tags: dict[str, None] = {}
        for index, tag in enumerate(value):
            if _text(tag, MAX_LABEL) is None:
                self._reasons[f"{path}[{index}]"] = f"must be a non-blank tag of at most " \
                                                    f"{MAX_LABEL} characters"
            else:
                tags[str(tag)] = None
        return tuple(tags)

    def _template(self, value: object, path: str) -> str | None:
        if _text(value, MAX_LABEL) is None:
            self._reasons[path] = "must be a template id"
            return None
        return str(value)

    def _unknown_keys(self, raw: Mapping[Any, object], allowed: frozenset[str],
                      prefix: str) -> None:
        for key in raw:
            if key not in allowed:
                self._reasons[f"{prefix}{key}"] = "unknown key" + _did_you_mean(
                    str(key), allowed)
