"""Secrets never reach a log line or an error response: a run with every kind of secret
configured, driven into the failures that tempt code to print them (forged webhooks,
refused logins, mail that cannot be sent), with every logger at DEBUG."""

from __future__ import annotations

import base64
import io
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest
from pydantic import SecretStr

from core.config import MailboxSettings, Settings
from tests.contract.conftest import eventually
from tests.support.centre import Centre, running_centre
from tests.support.dovecot import Mailbox
from tests.support.mail import MAIL_FROM
from tests.support.smtp_sink import SmtpSink, smtp_sink
from workers import logs

TWILIO_TOKEN = "twilio-token-4a7f19c2e8"
CTI_SECRET = "cti-shared-secret-93b1d0"
SMTP_PASSWORD = "smtp-p@ss/word-5512"
IMAP_PASSWORD = "imap-p@ss:word-7781"
SECRETS = (TWILIO_TOKEN, CTI_SECRET, SMTP_PASSWORD, IMAP_PASSWORD)
START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
WAIT_S = 15.0


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    async with smtp_sink(credentials={"relay": "the-real-one"}) as running:
        yield running


@pytest.fixture
async def centre(sqlite_url_for_test: str, mailbox: Mailbox,
                 sink: SmtpSink) -> AsyncIterator[Centre]:
    smtp = f"smtp://relay:{quote(SMTP_PASSWORD, safe='')}@127.0.0.1:{sink.port}" \
        "?starttls=none"
    async with running_centre(sqlite_url_for_test, START, workers=(
            "relay", "router", "mail-intake", "mail-delivery"), extra_settings={
            "twilio_auth_token": TWILIO_TOKEN, "public_url": "https://sb.example.nl",
            "cti_secret": CTI_SECRET, "smtp_url": smtp, "mail_from": MAIL_FROM,
            "mailboxes": (MailboxSettings(
                name="support", host=mailbox.endpoint.host, port=mailbox.endpoint.port,
                security="none", user=mailbox.user, password=SecretStr(IMAP_PASSWORD),
                address="support@example.nl"),)}) as running:
        yield running


@pytest.fixture
def sqlite_url_for_test(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    from tests.conftest import sqlite_url

    return sqlite_url(request, tmp_path)


async def test_failures_under_debug_logging_show_no_secret(
        centre: Centre, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    bodies: list[str] = []

    forged = await centre.client.post("/webhooks/twilio/voice", data={"CallSid": "CA1"},
                                      headers={"X-Twilio-Signature": "forged"})
    bodies.append(await forged.text())
    assert forged.status == 403
    unsigned_cti = await centre.client.post(
        "/api/cti/events", data=b'{"event": "ringing"}', headers={
            "X-Switchboard-Signature": "sha256=00", "Content-Type": "application/json"})
    bodies.append(await unsigned_cti.text())
    assert unsigned_cti.status in (401, 403)

    case = await centre.contact(channel="email", external_id="<s-1@example.nl>",
                                **{"from": {"email": "jan@example.nl"}}, subject="Vraag")
    reply = await centre.client.post(f"/api/cases/{case['case_id']}/replies",
                                     headers=centre.supervisor, json={"body": "Antwoord"})
    bodies.append(await reply.text())

    def failures_logged() -> bool:
        warned = {r.name for r in caplog.records if r.levelno >= logging.WARNING}
        return "channels.email.poller" in warned and "channels.email.delivery" in warned

    await eventually(failures_logged, WAIT_S, what="the IMAP and SMTP failures logged")

    everything = caplog.text + "".join(
        json.dumps(r.__dict__, default=str) for r in caplog.records) + "".join(bodies)
    leaked = [s for s in SECRETS if s in everything]
    assert leaked == []


def test_the_log_output_scrubs_configured_secrets_whatever_a_library_prints() -> None:
    settings = Settings(
        database_url=SecretStr("postgresql://sb:db-password-1@db/sb"),
        smtp_url=SecretStr(f"smtp://relay:{quote(SMTP_PASSWORD, safe='')}@mx:587"),
        twilio_auth_token=SecretStr(TWILIO_TOKEN), cti_secret=SecretStr(CTI_SECRET))
    assert {"db-password-1", SMTP_PASSWORD, TWILIO_TOKEN, CTI_SECRET} <= set(
        settings.secret_values())
    stream = io.StringIO()
    logs.configure("DEBUG", "json", secrets=settings.secret_values())
    root = logging.getLogger()
    root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
    try:
        log = logging.getLogger("aioimaplib")
        log.setLevel(logging.DEBUG)
        log.debug("Sending : LOGIN user %s", SMTP_PASSWORD)
        auth_plain = base64.b64encode(f"\0relay\0{SMTP_PASSWORD}".encode()).decode()
        log.debug("AUTH PLAIN %s", auth_plain)
        try:
            raise RuntimeError(f"token {TWILIO_TOKEN} refused")
        except RuntimeError:
            logging.getLogger("x").exception("failed", extra={"secret": CTI_SECRET})
    finally:
        root.handlers.clear()
    output = stream.getvalue()
    assert "LOGIN user ***" in output
    assert not any(s in output for s in (SMTP_PASSWORD, TWILIO_TOKEN, CTI_SECRET, auth_plain))
    assert "AUTH PLAIN " in output
