"""Routing for supervisors: rules (draft, publish, versions, rollback), simulation,
configuration documents, and the trace of every decision."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from core.domain.audit import AuditAction
from core.domain.errors import InvalidInput, NotFound
from core.domain.routing import ConfigKey
from core.domain.workforce import Role
from core.ports import UnitOfWork
from core.services import audit
from routing.assignment import RoutingPolicy
from routing.calendar import validate_spec
from routing.classification import KeywordLists
from routing.configuration import (
    DEFAULT_SLA_POLICIES,
    calendar_specs,
    calendar_specs_from,
    sla_policies_from,
)
from routing.dispositions import Dispositions
from routing.fields import field_catalogue
from workers.web import serialize
from workers.web.endpoints import Api, Call
from workers.web.keys import SERVICES
from workers.web.schemas import ActivateIn, ConfigIn, Limit, RulesIn, SimulateIn

CONFIG_KEYS = {"keywords": ConfigKey.KEYWORDS, "policy": ConfigKey.POLICY,
               "calendars": ConfigKey.CALENDARS, "sla-policies": ConfigKey.SLA_POLICIES,
               "dispositions": ConfigKey.DISPOSITIONS}


def register(api: Api) -> None:  # noqa: C901 - one nested handler per endpoint
    @api.route("GET", "/api/routing/rules", summary="The active rule set and the draft",
               role=Role.SUPERVISOR, tag="routing")
    async def get_rules(call: Call[Any, Any]) -> web.Response:
        view = await call.request.app[SERVICES].rules_admin.overview()
        active = view.active.number if view.active else None
        return web.json_response({
            "active": serialize.version(view.active, active=active) if view.active else None,
            "draft": serialize.version(view.draft, active=active) if view.draft else None,
            "activations": [serialize.activation(a) for a in view.activations],
            "fields": field_catalogue(),
        })

    @api.route("PUT", "/api/routing/rules", summary="Save the draft rule set as a new version",
               role=Role.SUPERVISOR, tag="routing", body=RulesIn,
               responses={201: "The saved version", 422: "What is wrong, rule by rule"})
    async def put_rules(call: Call[RulesIn, Any]) -> web.Response:
        assert call.principal is not None
        b = call.body
        saved = await call.request.app[SERVICES].rules_admin.save_draft(
            {"default_queue": b.default_queue, "rules": b.rules},
            actor=call.actor, comment=b.comment)
        return web.json_response(serialize.version(saved), status=201)

    @api.route("POST", "/api/routing/rules/publish",
               summary="Make a version (default: the newest) the active rule set",
               role=Role.SUPERVISOR, tag="routing", body=ActivateIn,
               responses={200: "Published", 404: "No such version", 422: "Invalid rules"})
    async def publish(call: Call[ActivateIn, Any]) -> web.Response:
        assert call.principal is not None
        done = await call.request.app[SERVICES].rules_admin.publish(
            version=call.body.version, actor=call.actor, comment=call.body.comment)
        return web.json_response(serialize.activation(done))

    @api.route("POST", "/api/routing/rules/rollback",
               summary="Reactivate an earlier version (default: the one before the active)",
               role=Role.SUPERVISOR, tag="routing", body=ActivateIn,
               responses={200: "Rolled back", 404: "No such version",
                          422: "Nothing to roll back to"})
    async def rollback(call: Call[ActivateIn, Any]) -> web.Response:
        assert call.principal is not None
        done = await call.request.app[SERVICES].rules_admin.rollback(
            version=call.body.version, actor=call.actor, comment=call.body.comment)
        return web.json_response(serialize.activation(done))

    @api.route("GET", "/api/routing/rules/versions", summary="Saved versions, newest first",
               role=Role.SUPERVISOR, tag="routing", query=Limit)
    async def versions(call: Call[Any, Limit]) -> web.Response:
        admin = call.request.app[SERVICES].rules_admin
        view = await admin.overview()
        active = view.active.number if view.active else None
        found = await admin.versions(limit=call.query.limit)
        return web.json_response({"items": [serialize.version(v, active=active)
                                            for v in found]})

    @api.route("GET", "/api/routing/rules/versions/{number}", summary="One saved version",
               role=Role.SUPERVISOR, tag="routing",
               responses={200: "The version", 404: "No such version"})
    async def version(call: Call[Any, Any]) -> web.Response:
        raw = call.path("number")
        if not raw.isdigit():
            raise NotFound("rule set version", raw)
        found = await call.request.app[SERVICES].rules_admin.version(int(raw))
        return web.json_response(serialize.version(found))

    @api.route("POST", "/api/routing/simulate",
               summary="Where contacts went, where a draft would send them, and the changes",
               role=Role.SUPERVISOR, tag="routing", body=SimulateIn,
               responses={200: "Per contact: before, after, differences",
                          422: "Invalid draft"})
    async def simulate(call: Call[SimulateIn, Any]) -> web.Response:
        b = call.body
        result = await call.request.app[SERVICES].rules_admin.simulate(
            b.rules.model_dump() if b.rules else None, last=b.last,
            case_ids=list(b.case_ids), facts=b.facts)
        return web.json_response(result)

    @api.route("GET", "/api/routing/config/{key}",
               summary="A configuration document: keywords, policy, calendars, sla-policies, "
                       "dispositions",
               role=Role.SUPERVISOR, tag="routing")
    async def get_config(call: Call[Any, Any]) -> web.Response:
        key = _key(call.path("key"))
        services = call.request.app[SERVICES]
        async with services.read_uow() as uow:
            stored = await uow.routing.get_document(key)
            document = stored.document if stored else await _default(uow, key)
        return web.json_response({
            "key": call.path("key"), "document": document,
            "revision": stored.revision if stored else 0,
            "updated_by": stored.updated_by if stored else None,
            "updated_at": stored.updated_at.isoformat() if stored else None})

    @api.route("PUT", "/api/routing/config/{key}", summary="Replace a configuration document",
               role=Role.SUPERVISOR, tag="routing", body=ConfigIn,
               responses={200: "Stored", 409: "Changed by someone else since you read it",
                          422: "What is wrong, field by field"})
    async def put_config(call: Call[ConfigIn, Any]) -> web.Response:
        assert call.principal is not None
        key = _key(call.path("key"))
        services = call.request.app[SERVICES]
        async with services.uow() as uow:
            document = await _validated(uow, key, call.body.document)
            stored = await uow.routing.put_document(
                key, document, expected_revision=call.body.revision,
                by=call.principal.name, at=services.clock.now())
            await audit.record(uow, at=stored.updated_at, actor=call.actor,
                               action=AuditAction.ROUTING_CONFIG_CHANGED,
                               subject_kind="config", subject_id=key.value,
                               details={"revision": stored.revision})
            await uow.commit()
        return web.json_response({"key": call.path("key"), "document": stored.document,
                                  "revision": stored.revision})

    @api.route("GET", "/api/cases/{id}/routing",
               summary="Why the case went where it went: decisions and offers with traces",
               role=Role.AGENT, tag="routing")
    async def case_routing(call: Call[Any, Any]) -> web.Response:
        services = call.request.app[SERVICES]
        async with services.read_uow() as uow:
            decisions = await uow.routing.decisions_for_case(call.path("id"))
            offers = await uow.work.offers_for_case(call.path("id"))
        return web.json_response({
            "decisions": [serialize.decision(d) for d in decisions],
            "offers": [{**serialize.offer(o), "trace": trace} for o, trace in offers]})


def _key(name: str) -> ConfigKey:
    if name not in CONFIG_KEYS:
        raise NotFound("configuration document", f"{name} (one of {', '.join(CONFIG_KEYS)})")
    return CONFIG_KEYS[name]


async def _default(uow: UnitOfWork, key: ConfigKey) -> Any:
    if key is ConfigKey.KEYWORDS:
        return KeywordLists.default().to_document()
    if key is ConfigKey.POLICY:
        return RoutingPolicy().to_document()
    if key is ConfigKey.CALENDARS:
        return [c.to_document() for c in await calendar_specs(uow)]
    if key is ConfigKey.DISPOSITIONS:
        return Dispositions.default().to_document()
    return [p.to_document() for p in DEFAULT_SLA_POLICIES]


async def _validated(uow: UnitOfWork, key: ConfigKey, document: Any) -> Any:
    """Parse with the domain type, so only what routing can use is ever stored."""
    if key is ConfigKey.KEYWORDS:
        return KeywordLists.from_document(document).to_document()
    if key is ConfigKey.POLICY:
        return RoutingPolicy.from_document(document).to_document()
    if key is ConfigKey.CALENDARS:
        specs = calendar_specs_from(document)
        for spec in specs:
            validate_spec(spec)
        if len({s.id for s in specs}) != len(specs):
            raise InvalidInput({"calendars": "calendar ids must be unique"})
        return [s.to_document() for s in specs]
    if key is ConfigKey.DISPOSITIONS:
        queue_ids = {q.id for q in await uow.workforce.list_queues()}
        return Dispositions.from_document(document, queue_ids=queue_ids).to_document()
    calendar_ids = {c.id for c in await calendar_specs(uow)}
    return [p.to_document() for p in sla_policies_from(document, calendar_ids=calendar_ids)]
