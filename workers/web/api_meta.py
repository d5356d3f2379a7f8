"""Health probes and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel

from core.domain.workforce import Role
from core.services.access import csrf_token
from workers.web.auth import SESSION
from workers.web.endpoints import Api, Call
from workers.web.keys import SERVICES

PROBE_TIMEOUT_S = 2.0


def register(api: Api) -> None:
    @api.route("GET", "/healthz", summary="The process is alive", role=None, tag="operations")
    async def healthz(call: Call[Any, Any]) -> web.Response:
        return web.json_response({"status": "ok"})

    @api.route("GET", "/readyz", summary="The database and, if configured, Redis answer",
               role=None, tag="operations",
               responses={200: "Ready", 503: "A dependency does not answer"})
    async def readyz(call: Call[Any, Any]) -> web.Response:
        checks = await call.request.app[SERVICES].readiness(PROBE_TIMEOUT_S)
        ready = all(v == "ok" for v in checks.values())
        return web.json_response({"status": "ready" if ready else "unavailable",
                                  "checks": checks}, status=200 if ready else 503)

    @api.route("GET", "/api/me", summary="Who is calling (and the CSRF token of a browser "
               "session, for X-CSRF-Token)", role=Role.AGENT, tag="operations")
    async def me(call: Call[Any, Any]) -> web.Response:
        assert call.principal is not None
        session = call.request.get(SESSION)
        return web.json_response({
            "id": call.principal.id, "name": call.principal.name,
            "role": call.principal.role.value, "agent_id": call.principal.agent_id,
            "csrf_token": None if session is None else csrf_token(session)})

    @api.route("GET", "/api/openapi.json", summary="This document", role=None, tag="operations")
    async def openapi(call: Call[Any, Any]) -> web.Response:
        return web.json_response(openapi_document(api))


def openapi_document(api: Api) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {"Error": _ERROR_SCHEMA}
    for e in api.endpoints:
        op: dict[str, Any] = {"summary": e.summary, "tags": [e.tag],
                              "operationId": e.handler.__name__, "responses": {}}
        params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                  for name in _path_params(e.path)]
        if e.query is not None:
            params += _query_params(e.query, schemas)
        if params:
            op["parameters"] = params
        if e.body is not None:
            op["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": _ref(e.body, schemas)}}}
        if e.role is not None:
            op["security"] = [{"bearer": []}]
            op["description"] = f"Needs the `{e.role.value}` role or higher" + "".join(
                f", or `{r.value}`" for r in sorted(e.also, key=lambda r: r.rank)) + "."
            op["responses"]["401"] = _error("No or unknown token")
            op["responses"]["403"] = _error("The token's role is too low")
        for status, text in e.responses.items():
            op["responses"][str(status)] = (_error(text) if status >= 400
                                            else {"description": text})
        paths.setdefault(e.path, {})[e.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": api.title, "version": api.version},
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"}}},
    }


def _path_params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def _ref(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, str]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}",
                                     by_alias=True)
    schemas.update(schema.pop("$defs", {}))
    schemas[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _query_params(model: type[BaseModel], schemas: dict[str, Any]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schema.pop("$defs", {}))
    required = set(schema.get("required", []))
    return [{"name": name, "in": "query", "required": name in required, "schema": prop}
            for name, prop in schema.get("properties", {}).items()]


def _error(text: str) -> dict[str, Any]:
    return {"description": text, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}}


_ERROR_SCHEMA = {
    "type": "object", "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["status", "code", "message"],
                             "properties": {
                                 "status": {"type": "integer"}, "code": {"type": "string"},
                                 "message": {"type": "string"},
                                 "fields": {"type": "object",
                                            "additionalProperties": {"type": "string"}},
                                 "request_id": {"type": "string"}}}},
}


