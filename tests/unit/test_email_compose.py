"""Outbound mail: the headers we write are exactly the ones we mean, whatever the customer
put in a subject or a name."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser

import pytest

from channels.email.compose import (
    OutgoingAttachment,
    OutgoingMail,
    build_message,
    guard_header,
    new_message_id,
    references_for,
    reply_subject,
)

CVE_SUBJECT = b"Subject: =?utf-8?q?hi=0D=0ABcc:_x@evil.example?=\r\n"
DATE = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def inbound_subject() -> str:
    parsed = BytesParser(policy=policy.default).parsebytes(
        b"From: jan@example.nl\r\n" + CVE_SUBJECT + b"\r\nhallo\r\n")
    return str(parsed["Subject"])


def mail(**changes: object) -> OutgoingMail:
    values: dict[str, object] = {
        "message_id": new_message_id("example.nl"), "from_address": "support@example.nl",
        "from_name": "Klantenservice", "to_address": "jan@example.nl", "to_name": "Jan",
        "subject": "Re: Vraag [#SW-1001]", "text": "Antwoord.", "date": DATE}
    values.update(changes)
    return OutgoingMail(**values)  # type: ignore[arg-type]


def header_names(raw: bytes) -> list[str]:
    head = raw.split(b"\r\n\r\n", 1)[0].decode()
    return [line.split(":", 1)[0].lower() for line in head.split("\r\n")
            if line and not line[0].isspace()]


def test_the_cve_subject_decodes_to_a_line_break_on_parsing() -> None:
    # The premise of the guard: the parsed subject carries a real CR LF.
    assert "\r\n" in inbound_subject() or "\n" in inbound_subject()


def test_a_reply_to_the_cve_subject_has_no_injected_header() -> None:
    subject = reply_subject(inbound_subject(), "SW-1001")
    raw = build_message(mail(subject=subject)).as_bytes()

    names = header_names(raw)
    assert "bcc" not in names
    assert names.count("subject") == 1
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    assert parsed["Subject"] == "Re: hi Bcc: x@evil.example [#SW-1001]"


@pytest.mark.parametrize("breaker", ["\r\n", "\n", "\r", "\x85", "\u2028", "\u2029", "\x0b",
                                     "\x0c", "\x00", "\x1c"])
def test_no_line_breaking_character_survives_in_any_header(breaker: str) -> None:
    hostile = f"Jan{breaker}Bcc: x@evil.example"
    raw = build_message(mail(subject=f"Vraag{breaker}Bcc: x@evil.example", to_name=hostile,
                             from_name=hostile)).as_bytes()

    assert "bcc" not in header_names(raw)
    assert guard_header(hostile) == "Jan Bcc: x@evil.example"


@pytest.mark.parametrize("name", ["Jan de Vries, Sr.", 'Jan "de" Vries', "Zoë Çelik",
                                  "Jan <jan@evil.example>"])
def test_display_names_round_trip(name: str) -> None:
    raw = build_message(mail(to_name=name)).as_bytes()
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    [to] = parsed["To"].addresses
    assert to.display_name == name and to.addr_spec == "jan@example.nl"


@pytest.mark.parametrize("address", ["jan", "jan@", "@example.nl", "jan@example.nl\r\nBcc: x",
                                     "a b@example.nl", "jan@@example.nl"])
def test_invalid_recipients_are_refused(address: str) -> None:
    with pytest.raises(ValueError, match="recipient"):
        build_message(mail(to_address=address))


@pytest.mark.parametrize(("subject", "expected"), [
    ("Vraag over factuur", "Re: Vraag over factuur [#SW-12]"),
    ("RE: Re: Vraag", "Re: Vraag [#SW-12]"),
    ("Antw: Klacht", "Re: Klacht [#SW-12]"),
    ("Re: Klacht [#SW-12]", "Re: Klacht [#SW-12]"),
    ("Re: Klacht [# sw-12 ]", "Re: Klacht [#SW-12]"),
    ("", "[#SW-12]"),
    (None, "[#SW-12]"),
])
def test_reply_subjects(subject: str | None, expected: str) -> None:
    assert reply_subject(subject, "SW-12") == expected


def test_references_keep_the_root_and_the_newest() -> None:
    chain = [f"<m{n}@example.nl>" for n in range(30)]
    refs = references_for(chain, "<parent@example.nl>", limit=20)
    assert len(refs) == 20
    assert refs[0] == "<m0@example.nl>" and refs[-1] == "<parent@example.nl>"
    assert references_for(["not an id", "<a@b>"], None) == ("<a@b>",)


def test_threading_headers_are_written_and_bad_ids_dropped() -> None:
    raw = build_message(mail(in_reply_to="<q@example.nl>",
                             references=("<q@example.nl>", "<bad id>", "<r@example.nl>"),
                             auto_submitted="auto-replied")).as_bytes()
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    assert parsed["In-Reply-To"] == "<q@example.nl>"
    assert parsed["References"] == "<q@example.nl> <r@example.nl>"
    assert parsed["Auto-Submitted"] == "auto-replied"


def test_message_ids_are_unique_and_well_formed() -> None:
    ids = {new_message_id("example.nl") for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(r"<sw\.[\w-]{24}@example\.nl>", i) for i in ids)


@pytest.mark.parametrize(("given", "kept"), [
    ("../../etc/passwd", "passwd"), ("factuur\r\nBcc: x.pdf", "factuur Bcc: x.pdf"),
    ("evil\u202egpj.exe", "evilgpj.exe"),
    ("Overzicht oktober \u2013 €.pdf", "Overzicht oktober \u2013 €.pdf"),
])
def test_attachment_names_are_guarded(given: str, kept: str) -> None:
    raw = build_message(mail(attachments=(OutgoingAttachment(
        filename=given, content_type="application/pdf", content=b"%PDF-1.4"),))).as_bytes()
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    [attachment] = list(parsed.iter_attachments())
    assert attachment.get_filename() == kept
    assert attachment.get_content() == b"%PDF-1.4"
    assert "bcc" not in header_names(raw)
