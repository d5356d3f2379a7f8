"""Typed application state: the services the handlers use, set by the composition root."""

from __future__ import annotations

from aiohttp import web

from workers.services import Services

SERVICES = web.AppKey("services", Services)
