"""The aiohttp application: middlewares, the API endpoints, JSON 404/405s."""

from __future__ import annotations

from aiohttp import web

from workers.services import Services
from workers.web import (
    agent_ws,
    api_agents,
    api_audit,
    api_calls,
    api_cases,
    api_chat,
    api_contacts,
    api_cti,
    api_customers,
    api_export,
    api_forms,
    api_mail,
    api_meta,
    api_notes,
    api_privacy,
    api_reports,
    api_routing,
    api_scripts,
    api_surveys,
    api_tokens,
    api_voice,
    api_workforce,
    api_wrap_up,
    chat_pages,
    chat_ws,
    console,
    desk,
    forms,
    login,
    observability,
    pages,
    supervisor_ws,
    surveys,
    twilio_voice,
)
from workers.web.auth import ACCESS, auth_middleware
from workers.web.endpoints import Api
from workers.web.errors import error_middleware
from workers.web.keys import SERVICES
from workers.web.observability import metrics_endpoint, request_log_fields, request_metrics
from workers.web.proxies import trusted_proxies_middleware
from workers.web.ratelimit import RATE_LIMITS, RateLimits


def build_api() -> Api:
    api = Api(title="Switchboard", version="0.1.0")
    for module in (api_meta, api_contacts, api_customers, api_cases, api_agents,
                   api_routing, api_mail, api_workforce, api_forms, api_chat,
                   api_voice, api_calls, api_notes, api_surveys, api_reports,
                   api_wrap_up):
        module.register(api)
    api_scripts.register(api)
    api_tokens.register(api)
    api_audit.register(api)
    api_privacy.register(api)
    api_export.register(api)
    return api


def build_app(services: Services) -> web.Application:
    proxies = trusted_proxies_middleware(services.settings.trusted_proxies)
    app = web.Application(
        middlewares=[request_metrics, *([proxies] if proxies else []), error_middleware,
                     request_log_fields, metrics_endpoint, auth_middleware],
        client_max_size=services.settings.api_max_body_bytes,
    )
    app[SERVICES] = services
    app[ACCESS] = services.access
    app[RATE_LIMITS] = RateLimits()
    build_api().install(app)
    pages.install(app)
    login.install(app)
    desk.install(app)
    console.install(app)
    agent_ws.install(app)
    supervisor_ws.install(app)
    forms.install(app)
    chat_ws.install(app)
    chat_pages.install(app)
    surveys.install(app)
    twilio_voice.install(app)
    api_cti.install(app)
    observability.install(app)
    return app
