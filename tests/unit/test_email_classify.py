"""What a message is: automatic mail must never get an automatic answer, and a bounce of one of
our replies must name that reply. Real bounces and receipts from public corpora first."""

from __future__ import annotations

from pathlib import Path

import pytest

from channels.email.parsing import AutoKind, parse_message

DATA = Path(__file__).parent.parent / "data" / "mail"
HEAD = b"From: Jan de Vries <jan@example.nl>\r\nTo: support@example.nl\r\n"
OUR_REPLY = b"<reply-SW-42.7f3a@switchboard.example.com>"


def read(path: str) -> bytes:
    return (DATA / path).read_bytes()


@pytest.mark.parametrize(("path", "kind", "bounced"), [
    # MailSite returns the headers as "message/rfc822-headers", a type no RFC registers.
    ("mail-parser/mail_malformed_2", AutoKind.BOUNCE,
     "<004801d1fc84$01c934ac$b247f0b7$@infospacemail.com>"),
    ("cpython/msg_16.txt", AutoKind.BOUNCE, "<002001c144a6$8752e060$56104586@oxy.edu>"),
    ("dsn_bounce.eml", AutoKind.BOUNCE, "<reply-SW-1234.abc@switchboard.example.com>"),
    # A report whose returned message has no Message-ID.
    ("cpython/msg_05.txt", AutoKind.BOUNCE, None),
    # Cut off inside its Content-Type (no boundary): still a report, from the mailer daemon.
    ("cpython/msg_25.txt", AutoKind.BOUNCE, None),
    # RFC 3798's read receipt: automatic, but nothing bounced.
    ("flanker/disposition-notification.eml", AutoKind.AUTO_REPLY, None),
    ("cpython/msg_32.txt", AutoKind.AUTO_REPLY, None),  # Precedence: bulk
    ("cpython/msg_01.txt", AutoKind.NONE, None),
    ("alternative.eml", AutoKind.NONE, None),
])
def test_real_automatic_mail_is_recognised(path: str, kind: AutoKind, bounced: str | None) -> None:
    parsed = parse_message(read(path))
    assert (parsed.auto_kind, parsed.bounced_message_id) == (kind, bounced)


def report(*parts: bytes, headers: bytes = b"") -> bytes:
    body = b"".join(b"--R\r\n" + part + b"\r\n" for part in parts) + b"--R--\r\n"
    return (b"Return-Path: <>\r\nFrom: Mail Delivery System <MAILER-DAEMON@mx.example.nl>\r\n"
            b"To: support@example.com\r\nSubject: Undelivered Mail Returned to Sender\r\n"
            + headers + b"MIME-Version: 1.0\r\nContent-Type: multipart/report; "
            b"report-type=delivery-status; boundary=R\r\n\r\n" + body)


NOTICE = b"Content-Type: text/plain\r\n\r\nYour message could not be delivered."
STATUS = (b"Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.nl\r\n"
          b"\r\nFinal-Recipient: rfc822; nobody@example.nl\r\nAction: failed\r\nStatus: 5.1.1\r\n")


def test_the_returned_message_names_the_bounced_reply() -> None:
    returned = (b"Content-Type: message/rfc822\r\n\r\nMessage-ID: " + OUR_REPLY + b"\r\n"
                b"From: support@example.com\r\nSubject: Re: [#SW-42] Klacht\r\n\r\nDag Jan,")
    parsed = parse_message(report(NOTICE, STATUS, returned))
    assert parsed.auto_kind is AutoKind.BOUNCE
    assert parsed.bounced_message_id == OUR_REPLY.decode()
    [kept] = [a for a in parsed.attachments if a.content_type == "message/rfc822"]
    assert kept.content.startswith(b"Message-ID: " + OUR_REPLY)


def test_returned_headers_only_name_the_bounced_reply() -> None:
    headers = (b"Content-Type: text/rfc822-headers\r\n\r\nFrom: support@example.com\r\n"
               b"Message-ID: " + OUR_REPLY + b"\r\n")
    assert parse_message(report(NOTICE, STATUS, headers)).bounced_message_id == (
        OUR_REPLY.decode())


@pytest.mark.parametrize("where", ["report", "status block"])
def test_an_original_message_id_names_the_bounced_reply(where: str) -> None:
    field = b"Original-Message-ID: " + OUR_REPLY + b"\r\n"
    if where == "report":
        raw = report(NOTICE, STATUS, headers=field)
    else:
        raw = report(NOTICE, STATUS.replace(b"Action: failed\r\n", b"Action: failed\r\n" + field))
    assert parse_message(raw).bounced_message_id == OUR_REPLY.decode()


def test_a_returned_message_id_wins_over_an_original_message_id() -> None:
    returned = b"Content-Type: message/rfc822\r\n\r\nMessage-ID: " + OUR_REPLY + b"\r\n\r\nx"
    raw = report(NOTICE, STATUS, returned, headers=b"Original-Message-ID: <other@x.nl>\r\n")
    assert parse_message(raw).bounced_message_id == OUR_REPLY.decode()


def test_a_qmail_bounce_without_a_report_is_a_bounce() -> None:
    raw = (b"Return-Path: <>\r\nFrom: MAILER-DAEMON@mail.example.nl\r\nTo: support@example.com"
           b"\r\nSubject: failure notice\r\n\r\nHi. This is the qmail-send program at "
           b"mail.example.nl.\r\nI'm afraid I wasn't able to deliver your message.\r\n\r\n"
           b"--- Below this line is a copy of the message.\r\n\r\nMessage-ID: " + OUR_REPLY)
    parsed = parse_message(raw)
    assert parsed.auto_kind is AutoKind.BOUNCE and parsed.from_address is not None


def test_a_postmaster_with_a_real_sender_address_is_not_a_bounce() -> None:
    raw = b"Return-Path: <postmaster@example.nl>\r\nFrom: postmaster@example.nl\r\n\r\nVraag"
    assert parse_message(raw).auto_kind is AutoKind.NONE


def test_a_read_receipt_is_an_auto_reply_not_a_bounce() -> None:
    raw = (HEAD + b"Content-Type: multipart/report; report-type=disposition-notification; "
           b"boundary=R\r\n\r\n--R\r\nContent-Type: text/plain\r\n\r\nGelezen\r\n--R\r\n"
           b"Content-Type: message/disposition-notification\r\n\r\nOriginal-Message-ID: "
           + OUR_REPLY + b"\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n"
           b"--R--\r\n")
    parsed = parse_message(raw)
    assert (parsed.auto_kind, parsed.bounced_message_id) == (AutoKind.AUTO_REPLY, None)


@pytest.mark.parametrize(("headers", "kind"), [
    (b"Auto-Submitted: auto-replied (vacation)\r\n", AutoKind.AUTO_REPLY),
    (b"Auto-Submitted: No\r\n", AutoKind.NONE),
    (b"Auto-Submitted: no\r\nPrecedence: bulk\r\n", AutoKind.AUTO_REPLY),
    (b"X-Autorespond: yes\r\n", AutoKind.AUTO_REPLY),
    (b"Precedence: auto_reply\r\n", AutoKind.AUTO_REPLY),
    (b"List-Unsubscribe: <mailto:uit@example.nl>\r\n", AutoKind.LIST),
    (b"List-Id: <nieuws.example.nl>\r\nAuto-Submitted: auto-generated\r\n", AutoKind.AUTO_REPLY),
])
def test_more_automatic_mail_is_recognised(headers: bytes, kind: AutoKind) -> None:
    assert parse_message(HEAD + headers + b"\r\nHallo").auto_kind is kind
