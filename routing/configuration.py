"""The routing configuration in force: the active rule set, keyword lists, routing policy,
calendars and SLA policies, read from the configuration records with sensible defaults.

Compiling a rule set costs far more than evaluating it, so compiled versions are cached by
version number; a decision only asks the store which version is active.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from core.domain.errors import InvalidInput
from core.domain.routing import ConfigDocument, ConfigKey
from core.domain.sla import CalendarSpec, SlaPolicy
from core.ports import UnitOfWork
from routing.assignment import RoutingPolicy
from routing.calendar import BusinessCalendar
from routing.classification import Classifier, KeywordLists
from routing.rules import CompiledRuleSet, RuleSet

OFFICE = CalendarSpec.office_hours_nl()
ALWAYS = CalendarSpec.around_the_clock()
HOUR = 3600

DEFAULT_SLA_POLICIES: tuple[SlaPolicy, ...] = (
    SlaPolicy(id="sla_complaint_gold", name="Complaint, gold customer", calendar_id=OFFICE.id,
              case_type="complaint", segment="gold", first_response_s=1 * HOUR,
              resolution_s=16 * HOUR),
    SlaPolicy(id="sla_complaint", name="Complaint", calendar_id=OFFICE.id,
              case_type="complaint", first_response_s=4 * HOUR, resolution_s=40 * HOUR),
    SlaPolicy(id="sla_gold", name="Gold customer", calendar_id=OFFICE.id, segment="gold",
              first_response_s=2 * HOUR, resolution_s=16 * HOUR),
    SlaPolicy(id="sla_standard", name="Standard", calendar_id=OFFICE.id,
              first_response_s=8 * HOUR, resolution_s=24 * HOUR),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ActiveRules:
    version: int | None  # None: nothing published yet
    compiled: CompiledRuleSet | None


@dataclass(frozen=True, slots=True, kw_only=True)
class RoutingConfig:
    rules: ActiveRules
    classifier: Classifier
    policy: RoutingPolicy
    calendars: Mapping[str, BusinessCalendar]
    sla_policies: Sequence[SlaPolicy]
    routing_calendar: BusinessCalendar  # decides the "business_hours" fact

    def calendar(self, calendar_id: str) -> BusinessCalendar:
        return self.calendars.get(calendar_id, self.routing_calendar)


# The documents every routing decision reads, fetched in one query.
_DECIDING: tuple[str, ...] = (ConfigKey.KEYWORDS, ConfigKey.POLICY, ConfigKey.CALENDARS,
                              ConfigKey.SLA_POLICIES)
# Which stored revisions a parsed configuration was made from (a document deleted and
# written again starts at revision 1 again, hence the time as well).
_Stamp = tuple[tuple[str, int, datetime], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Parsed:
    classifier: Classifier
    policy: RoutingPolicy
    calendars: Mapping[str, BusinessCalendar]
    sla_policies: Sequence[SlaPolicy]
    routing_calendar: BusinessCalendar


class ConfigurationLoader:
    """Every decision reads the stored revisions (so an edit in any process applies to the
    next decision everywhere), but parses a revision only once: a routed case costs two
    small queries here, not one per document plus the parsing."""

    def __init__(self) -> None:
        self._compiled: dict[int, CompiledRuleSet] = {}
        self._parsed: tuple[_Stamp, _Parsed] | None = None

    async def load(self, uow: UnitOfWork) -> RoutingConfig:
        rules = await self.active_rules(uow)
        stored = await uow.routing.get_documents(_DECIDING)
        stamp = tuple(sorted((key, d.revision, d.updated_at) for key, d in stored.items()))
        if self._parsed is None or self._parsed[0] != stamp:
            self._parsed = (stamp, _parse(stored))
        parsed = self._parsed[1]
        return RoutingConfig(
            rules=rules, classifier=parsed.classifier, policy=parsed.policy,
            calendars=parsed.calendars, sla_policies=parsed.sla_policies,
            routing_calendar=parsed.routing_calendar)

    async def active_rules(self, uow: UnitOfWork) -> ActiveRules:
        activations = await uow.routing.activations(limit=1)
        if not activations:
            return ActiveRules(version=None, compiled=None)
        number = activations[0].version
        compiled = self._compiled.get(number)
        if compiled is None:
            version = await uow.routing.get_version(number)
            if version is None:
                return ActiveRules(version=None, compiled=None)
            compiled = CompiledRuleSet(RuleSet.from_document(version.document))
            self._compiled[number] = compiled
        return ActiveRules(version=number, compiled=compiled)

    def compile(self, document: object) -> CompiledRuleSet:
        return CompiledRuleSet(RuleSet.from_document(document))


def _parse(stored: Mapping[str, ConfigDocument]) -> _Parsed:
    """What the stored documents say, with the defaults for those never written; the same
    readings as :func:`keyword_lists`, :func:`policy`, :func:`calendar_specs` and
    :func:`sla_policies`."""
    keywords = stored.get(ConfigKey.KEYWORDS)
    chosen = stored.get(ConfigKey.POLICY)
    specs = stored.get(ConfigKey.CALENDARS)
    slas = stored.get(ConfigKey.SLA_POLICIES)
    calendars = {c.id: BusinessCalendar(c) for c in
                 (calendar_specs_from(specs.document) if specs else [OFFICE, ALWAYS])}
    return _Parsed(
        classifier=Classifier(KeywordLists.from_document(keywords.document) if keywords
                              else KeywordLists.default()),
        policy=RoutingPolicy.from_document(chosen.document) if chosen else RoutingPolicy(),
        calendars=calendars,
        sla_policies=tuple(sla_policies_from(slas.document, calendar_ids=None) if slas
                           else DEFAULT_SLA_POLICIES),
        routing_calendar=calendars.get(OFFICE.id) or next(iter(calendars.values())),
    )


async def keyword_lists(uow: UnitOfWork) -> KeywordLists:
    stored = await uow.routing.get_document(ConfigKey.KEYWORDS)
    return KeywordLists.from_document(stored.document) if stored else KeywordLists.default()


async def policy(uow: UnitOfWork) -> RoutingPolicy:
    stored = await uow.routing.get_document(ConfigKey.POLICY)
    return RoutingPolicy.from_document(stored.document) if stored else RoutingPolicy()


async def calendar_specs(uow: UnitOfWork) -> list[CalendarSpec]:
    stored = await uow.routing.get_document(ConfigKey.CALENDARS)
    if stored is None:
        return [OFFICE, ALWAYS]
    return calendar_specs_from(stored.document)


def calendar_specs_from(document: object) -> list[CalendarSpec]:
    if not isinstance(document, list) or not document:
        raise InvalidInput({"calendars": "must be a non-empty list of calendars"})
    specs: list[CalendarSpec] = []
    reasons: dict[str, str] = {}
    for index, item in enumerate(document):
        try:
            specs.append(CalendarSpec.from_document(item))
        except InvalidInput as err:
            reasons.update({f"calendars[{index}].{k}": v for k, v in err.reasons.items()})
    if reasons:
        raise InvalidInput(reasons)
    return specs


async def sla_policies(uow: UnitOfWork) -> list[SlaPolicy]:
    stored = await uow.routing.get_document(ConfigKey.SLA_POLICIES)
    if stored is None:
        return list(DEFAULT_SLA_POLICIES)
    return sla_policies_from(stored.document, calendar_ids=None)


def sla_policies_from(document: object, *, calendar_ids: set[str] | None) -> list[SlaPolicy]:
    if not isinstance(document, list):
        raise InvalidInput({"policies": "must be a list of SLA policies"})
    found: list[SlaPolicy] = []
    reasons: dict[str, str] = {}
    for index, item in enumerate(document):
        try:
            found.append(SlaPolicy.from_document(item))
        except InvalidInput as err:
            reasons.update({f"policies[{index}].{k}": v for k, v in err.reasons.items()})
            continue
        if calendar_ids is not None and found[-1].calendar_id not in calendar_ids:
            reasons[f"policies[{index}].calendar_id"] = \
                f"no calendar {found[-1].calendar_id!r}"
    if reasons:
        raise InvalidInput(reasons)
    return found
