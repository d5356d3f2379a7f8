"""The allow-list of facts a routing rule condition may test, with their types.

Conditions are compiled against this list and nothing else: a name missing here is an
unknown field when a supervisor saves the rule, and a fact outside it is never looked at.
The catalogue is published so supervisors can see what they may write.

Numbers are ``FLOAT`` because rule-engine has a single numeric type. Nullable fields are
typed with their plain type on purpose: rule-engine 5 refuses ordered comparisons and
regexes on ``NULLABLE`` operands at save time, which would force ``??`` into every rule
about a customer. Instead a null compares equal only to ``null``, never matches a regex,
and makes an ordered comparison fail at evaluation, which the trace reports as an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from rule_engine import DataType  # type: ignore[import-untyped]


class FieldSpec(NamedTuple):
    data_type: Any  # a rule_engine DataType; the library ships no type information
    description: str


_STRINGS = DataType.ARRAY(DataType.STRING)

FIELDS: Mapping[str, FieldSpec] = MappingProxyType({
    "channel": FieldSpec(DataType.STRING,
                         "email, phone, chat, webform, visit, letter or social"),
    "direction": FieldSpec(DataType.STRING, "inbound or outbound"),
    "case_type": FieldSpec(DataType.STRING,
                           "the case's current type: question, complaint or request"),
    "classification": FieldSpec(DataType.STRING,
                                "the class the classifier gave the contact"),
    "classification_confidence": FieldSpec(DataType.FLOAT,
                                           "the classifier's confidence, 0..1"),
    "language": FieldSpec(DataType.STRING, "the contact's language: nl or en"),
    "negative_sentiment": FieldSpec(DataType.BOOLEAN, "the contact reads as unhappy"),
    "subject": FieldSpec(DataType.STRING, "the subject as written, \"\" if none"),
    "body": FieldSpec(DataType.STRING, "the message text as written, \"\" if none"),
    "text": FieldSpec(DataType.STRING,
                      "subject and body, lower-case without accents, for keyword tests: "
                      "text =~~ \"opzeg\" finds it anywhere, text =~ \"opzeg\" only at the "
                      "start; write regexes with backslashes raw: r\"\\bklacht\\b\""),
    "words": FieldSpec(_STRINGS,
                       "the distinct lower-case words of text: \"klacht\" in words"),
    "mailbox": FieldSpec(DataType.STRING, "the receiving mailbox address; null if none"),
    "form": FieldSpec(DataType.STRING, "the web form id; null if none"),
    "ivr_choice": FieldSpec(DataType.STRING, "the caller's IVR menu choice; null if none"),
    "segment": FieldSpec(DataType.STRING,
                         "the customer's segment, e.g. gold, silver, bronze; null if none"),
    "customer_value": FieldSpec(DataType.FLOAT, "the customer's value; null if unknown"),
    "customer_language": FieldSpec(DataType.STRING,
                                   "the customer's preferred language; null if unknown"),
    "customer_is_new": FieldSpec(DataType.BOOLEAN, "the customer was created by this contact"),
    "open_complaints": FieldSpec(DataType.FLOAT,
                                 "the customer's other open complaint cases"),
    "open_cases": FieldSpec(DataType.FLOAT, "the customer's other open cases"),
    "priority": FieldSpec(DataType.FLOAT, "the case's current priority, 1 (low)..4 (urgent)"),
    "tags": FieldSpec(_STRINGS, "the case's tags"),
    "hour": FieldSpec(DataType.FLOAT, "the local hour, 0..23"),
    "weekday": FieldSpec(DataType.FLOAT, "the local day of the week, 1 (Monday)..7 (Sunday)"),
    "business_hours": FieldSpec(DataType.BOOLEAN, "the routing calendar is open now"),
    "account_owner": FieldSpec(DataType.STRING,
                               "the agent id owning the customer's account; null if none"),
})

NULLABLE: frozenset[str] = frozenset({
    "mailbox", "form", "ivr_choice", "segment", "customer_value", "customer_language",
    "account_owner",
})

# The fields whose facts are arrays: ``x in words`` is evaluated against a per-decision set.
ARRAY_FIELDS: frozenset[str] = frozenset(
    name for name, spec in FIELDS.items() if DataType.is_type(spec.data_type, DataType.ARRAY))

_TYPE_NAMES: Mapping[str, str] = {"STRING": "string", "FLOAT": "number", "BOOLEAN": "boolean"}


def type_name(data_type: Any) -> str:
    """The name supervisors read for a rule_engine type, e.g. ``array of string``."""
    if DataType.is_type(data_type, DataType.ARRAY):
        if data_type.value_type == DataType.UNDEFINED:
            return "array"
        return f"array of {type_name(data_type.value_type)}"
    name: str = data_type.name
    return _TYPE_NAMES.get(name, name.lower())


def field_catalogue() -> list[dict[str, str]]:
    """Every field a condition may use, in a stable order, as the API publishes them."""
    return [
        {"name": name,
         "type": type_name(spec.data_type) + (" or null" if name in NULLABLE else ""),
         "description": spec.description}
        for name, spec in FIELDS.items()
    ]
