"""Structured logs say which request and which case a line is about: the request id (the
caller's X-Request-Id when sensible, else ours, always echoed), and the contact and case
of the event a worker is handling — also in the bus's own line when the handler fails."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from core.bus.inprocess import InProcessBus
from core.domain.events import Envelope
from core.log_fields import log_fields
from tests.api.test_login import log_in
from tests.conftest import Api
from workers.logs import JsonFormatter
from workers.web.observability import _path_subjects


class JsonLines(logging.Handler):
    """Formats each record as it is logged, in the logging call's context (as the real
    stream handler does), and keeps the parsed JSON."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))

    def find(self, msg: str) -> dict[str, Any]:
        found = [line for line in self.lines if line["msg"].startswith(msg)]
        assert found, f"no line {msg!r} in {self.lines}"
        return found[0]


@pytest.fixture
def logged() -> Iterator[JsonLines]:
    handler = JsonLines()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def test_fields_apply_inside_the_block_only_and_an_explicit_field_wins(
        logged: JsonLines) -> None:
    log = logging.getLogger("test.fields")
    with log_fields(request_id="r-1", case_id="cas_1", contact_id=None):
        log.info("inside")
        log.info("explicit", extra={"case_id": "cas_2"})
    log.info("outside")
    assert {k: logged.find("inside").get(k) for k in ("request_id", "case_id")} == {
        "request_id": "r-1", "case_id": "cas_1"}
    assert "contact_id" not in logged.find("inside")
    assert logged.find("explicit")["case_id"] == "cas_2"
    assert "request_id" not in logged.find("outside")


async def test_a_handlers_lines_and_its_failure_name_the_events_case(
        logged: JsonLines) -> None:
    bus = InProcessBus(max_deliveries=2, redelivery_delay_s=0.0)
    await bus.declare_groups(["g"])
    sent = Envelope(id="evt_1", topic="case.updated",
                    payload={"case_id": "cas_7", "contact_id": "con_7", "changes": {}},
                    occurred_at=datetime(2026, 11, 17, tzinfo=UTC))
    attempts: list[str] = []
    done = asyncio.Event()

    async def handler(envelope: Envelope) -> None:
        attempts.append(envelope.id)
        logging.getLogger("test.handler").info("handling attempt %d", len(attempts))
        if len(attempts) == 1:
            raise RuntimeError("first attempt fails")
        done.set()

    stop = asyncio.Event()
    consumer = asyncio.create_task(bus.consume(group="g", consumer="c", handler=handler,
                                               stop=stop))
    try:
        await bus.publish([sent])
        async with asyncio.timeout(5):
            await done.wait()
    finally:
        stop.set()
        await consumer
        await bus.close()
    for line in (logged.find("handling attempt 1"), logged.find("handling attempt 2"),
                 logged.find("handler for group g failed")):
        assert (line["event_id"], line["case_id"], line["contact_id"]) == (
            "evt_1", "cas_7", "con_7"), line


async def test_the_request_id_is_echoed_and_on_the_requests_log_lines(
        api: Api, logged: JsonLines) -> None:
    given = await api.client.get("/healthz", headers={"X-Request-Id": "edge-1a2b:3c/4d"})
    assert given.headers["X-Request-Id"] == "edge-1a2b:3c/4d"
    for hostile in ("two words", "x" * 129, "line\u2028break"):
        replaced = await api.client.get("/healthz", headers={"X-Request-Id": hostile})
        assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["X-Request-Id"]), hostile
    ours = await api.client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", ours.headers["X-Request-Id"])

    refused = await log_in(api.client, "nobody", "wrong password")
    assert refused.status == 401
    assert logged.find("login refused")["request_id"] == refused.headers["X-Request-Id"]


def test_path_ids_are_named_after_what_they_identify() -> None:
    assert _path_subjects("/api/cases/{id}/notes/{note_id}") == (
        ("id", "case_id"), ("note_id", "note_id"))
    assert _path_subjects("/api/customers/{id}/timeline") == (("id", "customer_id"),)
    assert _path_subjects("/api/chat/conversations/{id}") == (("id", "conversation_id"),)
    # A path parameter that is a secret (a survey link's token) is never logged.
    assert _path_subjects("/survey/{token}") == ()
