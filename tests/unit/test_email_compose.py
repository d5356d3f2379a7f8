"""Outbound mail: the headers we write are exactly the ones we mean, whatever the customer
put in a subject, a name or a file name (SECURITY.md fact 1, CVE-2024-6923)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import errors, policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from channels.email.compose import (
    OutgoingAttachment,
    OutgoingMail,
    build_message,
    domain_of,
    envelope_address,
    guard_header,
    new_message_id,
    references_for,
    reply_subject,
)
from channels.email.parsing import parse_message

CVE_SUBJECT = b"Subject: =?utf-8?q?hi=0D=0ABcc:_x@evil.example?=\r\n"
DATE = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
BASE_HEADERS = ["from", "to", "subject", "date", "message-id", "mime-version", "content-type",
                "content-transfer-encoding"]
# Every character str.splitlines() breaks on, the CVE's CR LF, and other C0/C1 controls.
BREAKERS = ["\r\n", "\n", "\r", "\x85", "\u2028", "\u2029", "\x0b", "\x0c", "\x1c", "\x1d",
            "\x1e", "\x00", "\x7f", "\x9b"]
# From the Big List of Naughty Strings (github.com/minimaxir/big-list-of-naughty-strings,
# MIT): "Unicode Spaces", "Trick Unicode", "Quotation Marks", "Special Characters",
# "Two-Byte Characters" and "Emoji", written as escapes so nothing invisible hides here.
NAUGHTY = ["\u200b", "\u1680", "\u180e", "\u3000", "\ufeff",
           "\u202a\u202atest\u202a", "\u202btest\u202b", "\u2029test\u2029",
           "test\u2060test\u202b", "\u2066test\u2067",
           "'\"'", "\"''''\"'\"", "<foo val=\u201cbar\u201d />", ",./;'[]\\-=",
           "<>?:\"{}|_+", "!@#$%^&*()`~", "\u7530\u4e2d\u3055\u3093\u306b\u3042\u3052\u3066",
           "\U0001f469\U0001f3fd"]
ENCODED_BREAK = "=?utf-8?q?hi=0D=0ABcc:_x@evil.example?="
# The subject of a customer's mail that decodes, once, to ENCODED_BREAK as plain text.
DOUBLE_ENCODED = (b"Subject: =?utf-8?q?=3D=3Futf-8=3Fq=3Fhi=3D0D=3D0ABcc:=5Fx@evil.example"
                  b"=3F=3D?=\r\n")


def parse(raw: bytes) -> EmailMessage:
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(parsed, EmailMessage)
    return parsed


def inbound() -> EmailMessage:
    return parse(b"From: Jan <jan@example.nl>\r\n" + CVE_SUBJECT + b"\r\nhallo\r\n")


def mail(**changes: object) -> OutgoingMail:
    values: dict[str, object] = {
        "message_id": new_message_id("example.nl"), "from_address": "support@example.nl",
        "from_name": "Klantenservice", "to_address": "jan@example.nl", "to_name": "Jan",
        "subject": "Re: Vraag [#SW-1001]", "text": "Antwoord.", "date": DATE}
    values.update(changes)
    return OutgoingMail(**values)  # type: ignore[arg-type]


def head(raw: bytes) -> list[str]:
    return raw.split(b"\r\n\r\n", 1)[0].decode("utf-8").split("\r\n")


def header_names(raw: bytes) -> list[str]:
    return [line.split(":", 1)[0].lower() for line in head(raw) if line and not line[0].isspace()]


def assert_headers(raw: bytes, *extra: str) -> None:
    """Exactly these top-level header fields, each once (in any order)."""
    assert sorted(header_names(raw)) == sorted([*BASE_HEADERS, *extra])


# --- CVE-2024-6923 ---------------------------------------------------------------------------


def test_the_cve_subject_decodes_to_a_line_break_on_parsing() -> None:
    # The premise of the guard: the parsed subject carries a real CR LF.
    assert "\r\n" in str(inbound()["Subject"])


def test_reusing_the_parsed_header_object_injects_on_a_vulnerable_python() -> None:
    """Documents the bug build_message avoids: copying the parsed header *object* into a
    reply. Python 3.11.7 writes a separate ``Bcc:`` line; a fixed Python refuses to write
    the header or encodes the break, and then there is nothing to show."""
    reply = EmailMessage(policy=policy.SMTP)
    reply["Subject"] = inbound()["Subject"]
    try:
        raw = reply.as_bytes()
    except errors.MessageError:  # HeaderWriteError: the fix in later patch releases
        pytest.skip("this Python refuses to write the injected header (CVE-2024-6923 fixed)")
    if "bcc" not in header_names(raw):
        pytest.skip("this Python encodes the line break (CVE-2024-6923 fixed)")
    assert "Bcc: x@evil.example" in head(raw)


@pytest.mark.parametrize("as_object", [False, True], ids=["decoded-str", "header-object"])
def test_a_reply_to_the_cve_subject_has_exactly_the_headers_we_meant(as_object: bool) -> None:
    parsed = inbound()
    subject = parsed["Subject"] if as_object else str(parsed["Subject"])
    # The decoded subject doubles as a hostile display name: it holds the CR LF.
    raw = build_message(mail(subject=reply_subject(subject, "SW-1001"), to_name=subject,
                             in_reply_to="<q@example.nl>")).as_bytes()

    assert_headers(raw, "in-reply-to")
    assert not any(line.lower().startswith("bcc") for line in head(raw))
    reply = parse(raw)
    assert reply["Subject"] == "Re: hi Bcc: x@evil.example [#SW-1001]"
    [to] = reply["To"].addresses
    assert to.addr_spec == "jan@example.nl"
    assert to.display_name == "hi Bcc: x@evil.example"


def test_a_parsed_header_object_given_as_any_value_is_rebuilt_from_a_fresh_string() -> None:
    header = inbound()["Subject"]
    guarded = guard_header(header)
    assert type(guarded) is str and guarded == "hi Bcc: x@evil.example"
    raw = build_message(mail(subject=header, to_name=header, from_name=header)).as_bytes()
    assert_headers(raw)


def test_a_double_encoded_subject_cannot_inject_when_the_stdlib_decodes_it_again() -> None:
    """The stdlib decodes an encoded word in a *string* value as it stores the header: text
    without a single control character would turn into CR LF after the guard had looked."""
    parsed = parse_message(b"From: Jan <jan@example.nl>\r\nTo: support@example.nl\r\n"
                           b"Message-ID: <1@example.nl>\r\n" + DOUBLE_ENCODED
                           + b"\r\nhallo\r\n")
    assert parsed.subject == ENCODED_BREAK
    raw = build_message(mail(subject=reply_subject(parsed.subject, "SW-1001"))).as_bytes()

    assert_headers(raw)
    assert parse(raw)["Subject"] == "Re: = ?utf-8?q?hi=0D=0ABcc:_x@evil.example?= [#SW-1001]"


@pytest.mark.parametrize("field", ["subject", "to_name", "from_name", "auto_submitted"])
def test_no_header_value_is_decoded_into_a_line_break(field: str) -> None:
    for text in (ENCODED_BREAK, f"Jan{ENCODED_BREAK}", "=?utf-8?b?aGkNCkJjYzogeEBldmls?="):
        raw = build_message(mail(**{field: text})).as_bytes()
        assert "bcc" not in header_names(raw)
        assert all(":" in line or line[:1].isspace() for line in head(raw))


def test_a_file_name_is_not_decoded_into_a_line_break() -> None:
    raw = build_message(mail(attachments=(OutgoingAttachment(
        filename=f"{ENCODED_BREAK}.pdf", content_type="application/pdf", content=b"x"),))
    ).as_bytes()
    assert "bcc" not in header_names(raw)
    assert b"\r\nBcc" not in raw


# --- every header is one line ----------------------------------------------------------------


@pytest.mark.parametrize("breaker", BREAKERS, ids=[repr(b) for b in BREAKERS])
def test_no_line_breaking_or_control_character_survives_in_any_header(breaker: str) -> None:
    hostile = f"Jan{breaker}Bcc: x@evil.example"
    raw = build_message(mail(subject=f"Vraag{breaker}Bcc: x@evil.example", to_name=hostile,
                             from_name=hostile, auto_submitted=f"auto-replied{breaker}X: y",
                             reply_to="antwoord@example.nl")).as_bytes()

    assert_headers(raw, "reply-to", "auto-submitted")
    assert guard_header(hostile) == "Jan Bcc: x@evil.example"
    parsed = parse(raw)
    assert parsed["Subject"] == "Vraag Bcc: x@evil.example"
    assert parsed["To"].addresses[0].display_name == "Jan Bcc: x@evil.example"
    assert parsed["Auto-Submitted"] == "auto-replied X: y"


@pytest.mark.parametrize("breaker", BREAKERS, ids=[repr(b) for b in BREAKERS])
def test_guard_header_leaves_one_line(breaker: str) -> None:
    guarded = guard_header(f" a{breaker}{breaker}b\t c ")
    assert guarded == "a b c"
    assert guarded.splitlines() == [guarded]


def test_guard_header_replaces_lone_surrogates() -> None:
    # What surrogateescape leaves of undecodable bytes; no codec could write it.
    assert guard_header("caf\udce9") == "caf\ufffd"


def test_guard_header_breaks_encoded_words_and_is_idempotent() -> None:
    assert guard_header("2+2=?") == "2+2= ?"
    assert guard_header(ENCODED_BREAK) == "= ?utf-8?q?hi=0D=0ABcc:_x@evil.example?="
    for value in [ENCODED_BREAK, "a=?=?b", "x =? y", *BREAKERS, *NAUGHTY]:
        assert guard_header(guard_header(value)) == guard_header(value)


@pytest.mark.parametrize("naughty", NAUGHTY, ids=range(len(NAUGHTY)))
def test_naughty_strings_round_trip_as_subject_and_name(naughty: str) -> None:
    raw = build_message(mail(subject=naughty, to_name=naughty)).as_bytes()
    assert_headers(raw)
    parsed = parse(raw)
    assert parsed["Subject"] == guard_header(naughty)
    assert parsed["To"].addresses[0].display_name == guard_header(naughty)
    assert parsed["To"].addresses[0].addr_spec == "jan@example.nl"


# --- addresses -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Jan de Vries, Sr.", "Zoë", 'Jan "de" Vries', "Zoë Çelik",
                                  "Jan <jan@evil.example>", "Vries, Jan (Sr.); \\ o'Neil"])
def test_display_names_round_trip(name: str) -> None:
    raw = build_message(mail(to_name=name, from_name=name)).as_bytes()
    assert raw.isascii()  # encoded words (RFC 2047), no 8-bit header bytes
    parsed = parse(raw)
    [to] = parsed["To"].addresses
    [sender] = parsed["From"].addresses
    assert (to.display_name, to.addr_spec) == (name, "jan@example.nl")
    assert (sender.display_name, sender.addr_spec) == (name, "support@example.nl")


@pytest.mark.parametrize(("address", "reason"), [
    ("jan", "name@domain"), ("jan@", "name@domain"), ("@example.nl", "name@domain"),
    ("jan@example.nl\r\nBcc: x@evil.example", "line break"),
    ("jan@example.nl\nBcc: x", "line break"), ("jan\x85@example.nl", "line break"),
    ("jan@example.nl\u2028", "line break"), ("a b@example.nl", "local part"),
    ("jan@@example.nl", "local part"), ("<jan>@example.nl", "local part"),
    ("jan.@example.nl", "local part"), ("j..an@example.nl", "local part"),
    ('"jan"@example.nl', "local part"), ("jan@example.nl>, x@evil.example", "local part"),
    ("jan@exa mple.nl", "domain"), ("jan@example..nl", "domain"), ("jan@-example.nl", "domain"),
    ("jan@exa<mple.nl", "domain"),
])
def test_invalid_recipients_are_refused_with_a_reason(address: str, reason: str) -> None:
    with pytest.raises(ValueError, match=f"the recipient.*{reason}"):
        build_message(mail(to_address=address))


def test_invalid_senders_and_reply_to_addresses_are_refused() -> None:
    with pytest.raises(ValueError, match="the sender"):
        build_message(mail(from_address="support"))
    with pytest.raises(ValueError, match="the reply-to address"):
        build_message(mail(reply_to="antwoord@example.nl\r\nBcc: x@evil.example"))


def test_an_international_domain_is_written_in_ascii() -> None:
    raw = build_message(mail(to_address="jan@exämple.nl")).as_bytes()
    assert raw.isascii()
    assert parse(raw)["To"].addresses[0].addr_spec == "jan@xn--exmple-cua.nl"
    assert envelope_address("Jan@Exämple.NL") == "Jan@xn--exmple-cua.nl"


def test_a_non_ascii_local_part_needs_smtputf8() -> None:
    message = build_message(mail(to_address="zoë@example.nl", to_name="Zoë"))
    assert message.policy.utf8  # type: ignore[attr-defined]
    raw = message.as_bytes()
    assert "To: Zoë <zoë@example.nl>".encode() in raw
    # BytesParser reads 8-bit headers as surrogate escapes; RFC 6532 says they are UTF-8.
    addr_spec = parse(raw)["To"].addresses[0].addr_spec
    assert addr_spec.encode("utf-8", "surrogateescape").decode() == "zoë@example.nl"


# --- the other headers and the body ----------------------------------------------------------


def test_threading_headers_are_written_and_bad_ids_dropped() -> None:
    raw = build_message(mail(in_reply_to="<q@example.nl>",
                             references=("<q@example.nl>", "<bad id>", "<r@example.nl>",
                                         "<zoë@example.nl>", "r@example.nl", "<a<b@c>"),
                             auto_submitted="auto-replied")).as_bytes()
    parsed = parse(raw)
    assert parsed["In-Reply-To"] == "<q@example.nl>"
    assert parsed["References"] == "<q@example.nl> <r@example.nl>"
    assert parsed["Auto-Submitted"] == "auto-replied"


def test_an_invalid_in_reply_to_is_left_out() -> None:
    raw = build_message(mail(in_reply_to="<q@example.nl>\r\nBcc: x@evil")).as_bytes()
    assert_headers(raw)


def test_long_message_ids_are_written_verbatim_never_as_encoded_words() -> None:
    # RFC 2047 section 5 allows no encoded word in a msg-id: a receiver would not match it.
    ids = tuple(f"<{'a' * 90}.{n}@mail.example.nl>" for n in range(25))
    own = f"<sw.{'b' * 120}@example.nl>"
    raw = build_message(mail(message_id=own, in_reply_to=ids[-1], references=ids)).as_bytes()

    assert b"=?" not in raw.split(b"\r\n\r\n", 1)[0]
    lines = head(raw)
    assert all(len(line) <= 998 for line in lines)
    assert f"Message-ID: {own}" in lines
    assert f"In-Reply-To: {ids[-1]}" in lines
    start = lines.index(f"References: {ids[0]}")
    assert [line.strip() for line in lines[start + 1:start + len(ids)]] == list(ids[1:])
    assert parse(raw)["References"].split() == list(ids)


def test_short_references_share_folded_lines() -> None:
    ids = tuple(f"<{n}@example.nl>" for n in range(30))
    lines = head(build_message(mail(references=ids)).as_bytes())
    start = next(i for i, line in enumerate(lines) if line.startswith("References:"))
    folded = [lines[start]] + [line for line in lines[start + 1:] if line.startswith(" ")]
    assert all(len(line) <= 78 for line in folded) and 5 < len(folded) < 30
    assert " ".join(folded).split()[1:] == list(ids)


def test_an_invalid_message_id_or_a_naive_date_is_refused() -> None:
    with pytest.raises(ValueError, match="Message-ID"):
        build_message(mail(message_id="sw.123@example.nl"))
    with pytest.raises(ValueError, match="time zone"):
        build_message(mail(date=datetime(2026, 11, 23, 10, 0)))


def test_the_date_and_the_body() -> None:
    text = "Beste Jan,\n\n" + "lang " * 1000 + "\nTot ziens, Zoë\n"
    raw = build_message(mail(text=text)).as_bytes()

    assert all(len(line) <= 78 for line in raw.split(b"\r\n"))
    parsed = parse(raw)
    assert parsed["Date"] == "Mon, 23 Nov 2026 10:00:00 +0000"
    assert parsed["MIME-Version"] == "1.0"
    assert parsed.get_content_type() == "text/plain"
    assert parsed.get_content_charset() == "utf-8"
    assert parsed.get_content().replace("\r\n", "\n") == text


def test_a_body_with_undecodable_text_is_still_sent() -> None:
    parsed = parse(build_message(mail(text="caf\udce9\n")).as_bytes())
    assert parsed.get_content().replace("\r\n", "\n") == "caf\ufffd\n"


# --- subjects --------------------------------------------------------------------------------


@pytest.mark.parametrize(("subject", "expected"), [
    ("Vraag over factuur", "Re: Vraag over factuur [#SW-12]"),
    ("Question about my invoice", "Re: Question about my invoice [#SW-12]"),
    ("RE: Re: Vraag", "Re: Vraag [#SW-12]"),
    ("Re: RE: re:Vraag", "Re: Vraag [#SW-12]"),
    ("Antw: Klacht", "Re: Klacht [#SW-12]"),
    ("Aw: Fwd: Klacht", "Re: Klacht [#SW-12]"),
    ("FW: Doorst: Re[2]: Klacht", "Re: Klacht [#SW-12]"),
    ("Re: Klacht [#SW-12]", "Re: Klacht [#SW-12]"),
    ("Re: Klacht [# sw-12 ]", "Re: Klacht [#SW-12]"),
    ("[#SW-12] Re: Klacht", "Re: Klacht [#SW-12]"),
    ("Re: [#SW-12] Klacht [#SW-12]", "Re: Klacht [#SW-12]"),
    ("Re: Klacht [#SW-99]", "Re: Klacht [#SW-12]"),  # only our tag finds the case
    ("Reparatie", "Re: Reparatie [#SW-12]"),
    ("Re: Betaling 30% te laat", "Re: Betaling 30% te laat [#SW-12]"),
    ("", "[#SW-12]"),
    (None, "[#SW-12]"),
    ("Re:", "[#SW-12]"),
    ("   ", "[#SW-12]"),
    ("[#SW-12]", "[#SW-12]"),
])
def test_reply_subjects(subject: str | None, expected: str) -> None:
    assert reply_subject(subject, "SW-12") == expected


@pytest.mark.parametrize("breaker", BREAKERS, ids=[repr(b) for b in BREAKERS])
def test_reply_subjects_are_one_line(breaker: str) -> None:
    subject = reply_subject(f"Re: Vraag{breaker}Bcc: x@evil.example", "SW-12")
    assert subject == "Re: Vraag Bcc: x@evil.example [#SW-12]"


def test_a_long_subject_is_shortened_and_keeps_its_tag() -> None:
    subject = reply_subject("Klacht " * 100, "SW-12")
    assert subject.endswith("\u2026 [#SW-12]") and len(subject) < 220


def test_a_case_reference_must_be_ours() -> None:
    with pytest.raises(ValueError, match="case reference"):
        reply_subject("Vraag", "SW-12] Bcc: x")
    assert reply_subject("Vraag", "sw-12") == "Re: Vraag [#SW-12]"


# --- references and message ids --------------------------------------------------------------


def test_references_keep_the_root_and_the_newest() -> None:
    chain = [f"<m{n}@example.nl>" for n in range(30)]
    refs = references_for(chain, "<parent@example.nl>", limit=20)
    assert len(refs) == 20
    assert refs[:2] == ("<m0@example.nl>", "<m12@example.nl>")
    assert refs[-2:] == ("<m29@example.nl>", "<parent@example.nl>")
    assert references_for(chain, "<parent@example.nl>", limit=1) == ("<parent@example.nl>",)
    assert references_for(chain, None, limit=2) == ("<m0@example.nl>", "<m29@example.nl>")
    assert len(references_for(chain, "<parent@example.nl>")) == 20


def test_references_drop_bad_ids_and_repeats_and_end_with_the_parent() -> None:
    refs = references_for([" <a@b> ", "not an id", "<p@b>", "<a@b>", "<c d@b>",
                           "<x@b>\r\nBcc: y", "<\u00e9@b>", "<=?utf-8?q?=0D=0A?=@b>"],
                          "<p@b>")
    assert refs == ("<a@b>", "<p@b>")
    assert references_for([], None) == ()
    assert references_for([], "<p@b>") == ("<p@b>",)
    with pytest.raises(ValueError, match="limit"):
        references_for([], "<p@b>", limit=0)


def test_message_ids_are_unique_and_well_formed() -> None:
    ids = {new_message_id("example.nl") for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(r"<sw\.[\w-]{24}@example\.nl>", i) for i in ids)
    assert new_message_id("Exämple.NL").endswith("@xn--exmple-cua.nl>")
    with pytest.raises(ValueError, match="domain"):
        new_message_id("example.nl>\r\nBcc: x@evil.example")


def test_domain_of() -> None:
    assert domain_of("Support@Example.NL") == "example.nl"
    assert domain_of('"a@b"@example.nl') == "example.nl"
    with pytest.raises(ValueError, match="no domain"):
        domain_of("support")


# --- attachments -----------------------------------------------------------------------------


@pytest.mark.parametrize(("given", "kept"), [
    ("../../etc/passwd", "passwd"), ("..\\..\\boot.ini", "boot.ini"),
    ("factuur\r\nBcc: x.pdf", "factuur Bcc: x.pdf"), ("factuur\u2028.pdf", "factuur .pdf"),
    ("evil\u202egpj.exe", "evilgpj.exe"), ("\u200b.htaccess", ".htaccess"),
    ("Overzicht oktober \u2013 €.pdf", "Overzicht oktober \u2013 €.pdf"),
    ("..", "attachment"), ("", "attachment"),
])
def test_attachment_names_are_guarded(given: str, kept: str) -> None:
    raw = build_message(mail(attachments=(OutgoingAttachment(
        filename=given, content_type="application/pdf", content=b"%PDF-1.4"),))).as_bytes()
    parsed = parse(raw)
    [attachment] = list(parsed.iter_attachments())
    assert attachment.get_filename() == kept
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_content() == b"%PDF-1.4"
    assert "bcc" not in header_names(raw)
    assert raw.isascii()


def test_a_non_ascii_file_name_is_written_as_rfc_2231() -> None:
    raw = build_message(mail(attachments=(OutgoingAttachment(
        filename="Zoë.pdf", content_type="application/pdf", content=b"x"),))).as_bytes()
    assert b"filename*=utf-8''Zo%C3%AB.pdf" in raw


@pytest.mark.parametrize(("given", "kept"), [
    ("application/pdf", "application/pdf"), ("IMAGE/PNG", "image/png"),
    ("text/html; charset=utf-8", "application/octet-stream"),
    ("multipart/mixed", "application/octet-stream"),
    ("message/rfc822", "application/octet-stream"),
    ("pdf", "application/octet-stream"), ("text/plain\r\nBcc: x", "application/octet-stream"),
])
def test_attachment_content_types_are_plain_type_and_subtype(given: str, kept: str) -> None:
    raw = build_message(mail(attachments=(OutgoingAttachment(
        filename="a.bin", content_type=given, content=b"\x00\x01"),))).as_bytes()
    [attachment] = list(parse(raw).iter_attachments())
    assert attachment.get_content_type() == kept
    assert attachment.get_content() == b"\x00\x01"
