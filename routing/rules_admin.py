"""Supervisors' work on the rule set: save drafts, publish, roll back, read old versions,
and simulate a draft against real past contacts before anyone is affected by it. Saving,
publishing and rolling back are audited with the version and comment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.domain.audit import Actor, AuditAction
from core.domain.clock import Clock
from core.domain.errors import InvalidInput, NotFound
from core.domain.ids import new_id
from core.domain.routing import Activation, ActivationKind, RoutingDecision, RuleSetVersion
from core.ports import UnitOfWork, UnitOfWorkFactory
from core.services import audit
from routing.configuration import sla_policies
from routing.rules import CompiledRuleSet, RuleSet

# The outcome fields a simulation compares, in the order a supervisor reads them.
COMPARED = ("queue", "priority", "tier", "skills", "case_type", "tags", "preferred_agent",
            "preferred_team", "sla_policy", "auto_reply_template")


@dataclass(frozen=True, slots=True, kw_only=True)
class RulesOverview:
    active: RuleSetVersion | None
    draft: RuleSetVersion | None       # the newest saved version when it is not the active one
    activations: list[Activation]


class RulesAdmin:
    def __init__(self, uow: UnitOfWorkFactory, read_uow: UnitOfWorkFactory,
                 clock: Clock) -> None:
        self._uow = uow
        self._read_uow = read_uow
        self._clock = clock

    async def overview(self) -> RulesOverview:
        async with self._read_uow() as uow:
            activations = await uow.routing.activations(limit=20)
            active = await uow.routing.get_version(activations[0].version) \
                if activations else None
            latest = await uow.routing.latest_version()
        draft = latest if latest and (active is None or latest.number != active.number) \
            else None
        return RulesOverview(active=active, draft=draft, activations=activations)

    async def save_draft(self, document: object, *, actor: Actor,
                         comment: str) -> RuleSetVersion:
        async with self._uow() as uow:
            rule_set = await validated(uow, document)
            version = await uow.routing.add_version(
                document=rule_set.to_document(), author=actor.name, comment=comment,
                at=self._clock.now())
            await audit.record(uow, at=version.created_at, actor=actor,
                               action=AuditAction.RULES_SAVED, subject_kind="rule_set",
                               subject_id=str(version.number),
                               details={"version": version.number, "comment": comment,
                                        "rules": len(rule_set.rules)})
            await uow.commit()
            return version

    async def publish(self, *, version: int | None, actor: Actor,
                      comment: str) -> Activation:
        async with self._uow() as uow:
            chosen = await uow.routing.get_version(version) if version is not None \
                else await uow.routing.latest_version()
            if chosen is None:
                raise NotFound("rule set version", str(version) if version else "any")
            # Re-validate: a queue or agent named by the draft may have gone since.
            await validated(uow, chosen.document)
            activation = Activation(id=new_id("act"), version=chosen.number,
                                    action=ActivationKind.PUBLISH, by=actor.name,
                                    comment=comment, at=self._clock.now())
            await uow.routing.add_activation(activation)
            await _audit_activation(uow, activation, actor, AuditAction.RULES_PUBLISHED)
            await uow.commit()
            return activation

    async def rollback(self, *, version: int | None, actor: Actor,
                       comment: str) -> Activation:
        async with self._uow() as uow:
            history = await uow.routing.activations(limit=1000)
            if not history:
                raise InvalidInput({"version": "nothing has been published yet"})
            if version is None:
                earlier = [a.version for a in history if a.version != history[0].version]
                if not earlier:
                    raise InvalidInput({"version": "there is no earlier version to go back to"})
                version = earlier[0]
            if await uow.routing.get_version(version) is None:
                raise NotFound("rule set version", str(version))
            activation = Activation(id=new_id("act"), version=version,
                                    action=ActivationKind.ROLLBACK, by=actor.name,
                                    comment=comment, at=self._clock.now())
            await uow.routing.add_activation(activation)
            await _audit_activation(uow, activation, actor, AuditAction.RULES_ROLLED_BACK,
                                    previous=history[0].version)
            await uow.commit()
            return activation

    async def versions(self, *, limit: int) -> list[RuleSetVersion]:
        async with self._read_uow() as uow:
            return await uow.routing.versions(limit=limit)

    async def version(self, number: int) -> RuleSetVersion:
        async with self._read_uow() as uow:
            found = await uow.routing.get_version(number)
        if found is None:
            raise NotFound("rule set version", str(number))
        return found

    async def simulate(self, document: object | None, *, last: int | None,
                       case_ids: list[str], facts: dict[str, Any] | None) -> dict[str, Any]:
        """Where each contact went, where the draft would send it, and what differs."""
        async with self._read_uow() as uow:
            if document is None:
                latest = await uow.routing.latest_version()
                if latest is None:
                    raise InvalidInput({"rules": "no draft saved; send the rules to simulate"})
                document = latest.document
            draft = CompiledRuleSet(await validated(uow, document))
            decisions = await _decisions(uow, last=last, case_ids=case_ids)
        results = [_compare(draft, d) for d in decisions]
        if facts is not None:
            outcome = draft.evaluate(facts)
            results.append({"contact_id": None, "before": None,
                            "after": _summary(outcome.to_document()),
                            "trace": outcome.to_document().get("trace", []),
                            "changed": True, "differences": {}})
        return {"count": len(results), "changed": sum(1 for r in results if r["changed"]),
                "results": results}


async def _audit_activation(uow: UnitOfWork, activation: Activation, actor: Actor,
                            action: AuditAction, *, previous: int | None = None) -> None:
    details: dict[str, object] = {"version": activation.version,
                                  "comment": activation.comment}
    if previous is not None:
        details["from_version"] = previous
    await audit.record(uow, at=activation.at, actor=actor, action=action,
                       subject_kind="rule_set", subject_id=str(activation.version),
                       details=details)


async def validated(uow: UnitOfWork, document: object) -> RuleSet:
    return RuleSet.from_document(
        document,
        known_queues={q.id for q in await uow.workforce.list_queues()},
        known_agents={a.id for a in await uow.workforce.list_agents()},
        known_teams={t.id for t in await uow.workforce.list_teams()},
        known_sla_policies={p.id for p in await sla_policies(uow)},
    )


async def _decisions(uow: UnitOfWork, *, last: int | None,
                     case_ids: list[str]) -> list[RoutingDecision]:
    found: list[RoutingDecision] = []
    for case_id in case_ids:
        decisions = await uow.routing.decisions_for_case(case_id)
        if not decisions:
            raise NotFound("routing decision for case", case_id)
        found.append(decisions[-1])
    if last:
        found.extend(await uow.routing.recent_decisions(limit=last))
    return found


def _summary(outcome: dict[str, Any]) -> dict[str, Any]:
    actions = dict(outcome.get("actions", {}))
    summary = {name: actions.get(name) for name in COMPARED}
    summary["matched"] = list(outcome.get("matched", []))
    return summary


def _compare(draft: CompiledRuleSet, decision: RoutingDecision) -> dict[str, Any]:
    before = _summary(decision.outcome)
    # The queue actually used (a fallback when no rule set one) is what the contact saw.
    before["queue"] = decision.outcome.get("queue", before["queue"])
    outcome = draft.evaluate(decision.facts)
    after = _summary(outcome.to_document())
    differences = {name: {"before": before[name], "after": after[name]}
                   for name in (*COMPARED, "matched") if before[name] != after[name]}
    return {
        "contact_id": decision.contact_id, "case_id": decision.case_id,
        "decided_at": decision.decided_at.isoformat(),
        "rule_set_version": decision.rule_set_version,
        "before": before, "after": after,
        "trace": outcome.to_document().get("trace", []),
        "changed": bool(differences), "differences": differences,
    }
