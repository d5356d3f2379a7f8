"""Structured logs: one JSON object per line (or plain text for a terminal)."""

from __future__ import annotations

import base64
import json
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from core.log_fields import current_log_fields

_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        # The request or event in hand (request_id, contact_id, case_id, ...).
        entry.update(current_log_fields())
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class Redacting(logging.Formatter):
    """Replaces every configured secret in a formatted line (message, extras, traceback):
    a net under libraries that print credentials at DEBUG (an IMAP LOGIN, an SMTP AUTH)."""

    def __init__(self, inner: logging.Formatter, secrets: Sequence[str]) -> None:
        super().__init__()
        self._inner = inner
        forms = set(secrets)
        # JSON output escapes some characters; SMTP AUTH PLAIN carries base64.
        forms |= {json.dumps(s, ensure_ascii=False)[1:-1] for s in secrets}
        forms |= {middle for s in secrets for middle in _base64_cores(s.encode())}
        self._secrets = sorted((f for f in forms if len(f) >= 4), key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        line = self._inner.format(record)
        for secret in self._secrets:
            if secret in line:
                line = line.replace(secret, "***")
        return line


def _base64_cores(secret: bytes) -> list[str]:
    """What base64 of any text containing ``secret`` always contains, at each of the three
    alignments: the groups made only of the secret's bytes (how SMTP AUTH PLAIN and HTTP
    basic credentials show up in a library's debug output)."""
    cores = []
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + secret).decode()
        core = encoded[4 if offset else 0:-4]
        if len(core) >= 8:
            cores.append(core)
    return cores


def configure(level: str, fmt: str, *, secrets: Sequence[str] = ()) -> None:
    handler = logging.StreamHandler(sys.stderr)
    inner: logging.Formatter = JsonFormatter() if fmt == "json" else logging.Formatter(
        "%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    handler.setFormatter(Redacting(inner, secrets) if secrets else inner)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiohttp's access log repeats what the request-id'd handlers log; keep it at warnings.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # Alembic announces every plugin it loads at INFO on each start; only its
    # "Running upgrade" lines are worth seeing.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # aioimaplib reports every unsolicited server line at INFO; imap.py handles them.
    logging.getLogger("aioimaplib").setLevel(logging.WARNING)
