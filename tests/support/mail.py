"""Mail as customers' clients write it, for tests: real RFC 5322 bytes built with the stdlib."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from pydantic import SecretStr

from core.config import MailboxSettings, Settings

SUPPORT = "support@example.nl"
MAIL_FROM = f"Klantenservice <{SUPPORT}>"


def new_message_id(domain: str = "mail.example.com") -> str:
    return f"<{uuid.uuid4().hex}@{domain}>"


def customer_mail(sender: str, subject: str, body: str, *, name: str | None = None,
                  to: str = SUPPORT, message_id: str | None = None,
                  in_reply_to: str | None = None, references: Sequence[str] = (),
                  headers: Mapping[str, str] | None = None,
                  trace: Sequence[str] = ()) -> bytes:
    """One message; ``trace`` lines are prepended as a receiving server would."""
    message = EmailMessage(policy=SMTP)
    message["From"] = f"{name} <{sender}>" if name else sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = message_id or new_message_id()
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = " ".join(references)
    for key, value in (headers or {}).items():
        message[key] = value
    message.set_content(body)
    raw = message.as_bytes()
    return b"".join(line.encode() + b"\r\n" for line in trace) + raw


def bounce_for(message_id: str, recipient: str) -> bytes:
    """A DSN (RFC 3464) as Postfix writes it, returning our message ``message_id``."""
    boundary = "=_bounce_" + uuid.uuid4().hex
    return (
        "Return-Path: <>\r\n"
        "From: MAILER-DAEMON@mx.example.com (Mail Delivery System)\r\n"
        f"To: {SUPPORT}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Message-ID: {new_message_id('mx.example.com')}\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n'
        "\r\n"
        f"--{boundary}\r\n"
        "Content-Type: text/plain\r\n\r\n"
        "I'm sorry to have to inform you that your message could not be delivered.\r\n"
        f"--{boundary}\r\n"
        "Content-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.com\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\n"
        "Action: failed\r\n"
        "Status: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n"
        f"--{boundary}\r\n"
        "Content-Type: text/rfc822-headers\r\n\r\n"
        f"From: {MAIL_FROM}\r\n"
        f"To: {recipient}\r\n"
        f"Message-ID: {message_id}\r\n"
        "Subject: Re: your question\r\n"
        f"--{boundary}--\r\n"
    ).encode()


def mail_settings(database_url: str, **extra: object) -> Settings:
    return Settings(
        database_url=database_url, redis_url=None, http_port=0, log_format="text",
        mail_from=MAIL_FROM, smtp_url=SecretStr("smtp://127.0.0.1:9"),
        mailboxes=(
            MailboxSettings(name="support", url=SecretStr("imap://u:p@127.0.0.1:9/INBOX"),
                            address=SUPPORT, acknowledge=True),
            MailboxSettings(name="complaints", url=SecretStr("imap://u:p@127.0.0.1:9/INBOX"),
                            address="klachten@example.nl", case_type="complaint",
                            tags=("klacht",)),
        ), **extra)  # type: ignore[arg-type]
