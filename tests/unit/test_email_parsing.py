"""Parsing inbound mail: real-world and hostile messages either become plain, safe values
or are refused as Unparseable (to be quarantined) — never anything else."""

from __future__ import annotations

import hashlib
import random
import re
from datetime import datetime
from pathlib import Path

import pytest

from channels.email.parsing import (
    AutoKind,
    MailLimits,
    ParsedMail,
    Unparseable,
    clean_filename,
    parse_message,
)

DATA = Path(__file__).parent.parent / "data" / "mail"
CORPUS = sorted([*DATA.glob("*.eml"), *(DATA / "cpython").glob("msg_*.txt")])
# A script element or an event-handler attribute inside a tag (text that merely mentions
# "onerror" is harmless and stays).
UNSAFE_HTML = re.compile(r"<script|<[^>]*\son[a-z]+\s*=", re.I)
HEAD = b"From: Jan de Vries <jan@example.nl>\r\nTo: support@example.nl\r\n"


def mail(headers: bytes, body: bytes = b"Hallo\r\n") -> bytes:
    return HEAD + headers + b"\r\n" + body


def contract(raw: bytes) -> ParsedMail | None:
    """What every input must satisfy: a sane ParsedMail, or Unparseable."""
    try:
        parsed = parse_message(raw)
    except Unparseable as refused:
        assert refused.reason
        return None
    assert "\n" not in parsed.subject and "\r" not in parsed.subject
    assert not any(ord(c) < 32 for c in parsed.subject)
    assert parsed.content_hash == hashlib.sha256(raw).hexdigest()
    assert parsed.size == len(raw)
    assert "\x00" not in parsed.text
    assert parsed.html is None or not UNSAFE_HTML.search(parsed.html)
    assert parsed.date is None or parsed.date.tzinfo is not None
    for attachment in parsed.attachments:
        assert attachment.filename is None or "/" not in attachment.filename
    return parsed


def test_the_corpus_is_there() -> None:
    assert len([p for p in CORPUS if p.parent.name == "cpython"]) >= 9


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_every_corpus_message_parses_sanely_or_is_refused(path: Path) -> None:
    contract(path.read_bytes())


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_mangled_corpus_messages_never_crash_the_parser(path: Path) -> None:
    rng = random.Random(path.name)
    raw = path.read_bytes()
    for cut in range(0, len(raw), max(1, len(raw) // 12)):
        contract(raw[:cut] or b"x")
    for _ in range(25):
        mangled = bytearray(raw)
        for _ in range(rng.randrange(1, 12)):
            mangled[rng.randrange(len(mangled))] = rng.choice(
                [0, 10, 13, 0x3D, 0x3F, 0x28, 0x22, 0x3C, 0x2D, 0xFF, rng.randrange(256)])
        contract(bytes(mangled))


# --- real-world messages from CPython's test data ---------------------------------------


def parsed(name: str) -> ParsedMail:
    found = parse_message((DATA / "cpython" / name).read_bytes())
    return found


def test_a_dsn_with_list_headers_is_a_bounce_of_the_returned_message() -> None:
    bounce = parsed("msg_16.txt")
    assert bounce.auto_kind is AutoKind.BOUNCE
    assert bounce.bounced_message_id == "<002001c144a6$8752e060$56104586@oxy.edu>"


def test_headers_without_a_blank_line_still_give_a_body() -> None:
    assert parsed("msg_35.txt").text.startswith("counter to RFC 5322")


def test_an_impossible_date_is_no_date() -> None:
    spam = parsed("msg_47.txt")
    assert spam.date is None and spam.from_address == "123@example.com"


def test_named_inline_text_parts_are_read_as_the_body() -> None:
    assert "a simple kind of mirror" in parsed("msg_44.txt").text


def test_charsets_and_transfer_encodings_of_parts_are_decoded() -> None:
    lyrics = parsed("msg_10.txt")
    assert "This is a Base64 encoded message." in lyrics.text
    assert "This has no Content-Transfer-Encoding: header." in lyrics.text
    assert lyrics.html is not None and "\u00a1This is a Quoted Printable" in lyrics.html


def test_a_signed_message_keeps_its_signature_as_an_attachment() -> None:
    signed = parsed("msg_48.txt")
    assert signed.new_text == "This is the signed contents."
    assert [a.filename for a in signed.attachments] == ["signature.asc"]
    assert signed.in_reply_to == (
        "<somelonglonglonglonglongunwrappablemessageidtoreplyto@mail.foo.bar>")


# --- hostile input (shared/SECURITY.md) -------------------------------------------------


def test_an_encoded_line_break_in_the_subject_stays_on_one_line() -> None:
    result = parse_message(mail(b"Subject: =?utf-8?q?hi=0D=0ABcc:_x@evil?=\r\n"))
    assert result.subject == "hi Bcc: x@evil"


def test_an_address_header_of_thousands_of_encoded_words_is_refused_before_parsing() -> None:
    to = b",".join(b"=?utf-8?q?a?= <a%d@b.nl>" % n for n in range(8000))
    with pytest.raises(Unparseable, match="header"):
        parse_message(b"From: a@b.nl\r\nTo: " + to + b"\r\n\r\nhi")


def test_too_many_addresses_are_refused() -> None:
    cc = b", ".join(b"x%d@example.nl" % n for n in range(150))
    with pytest.raises(Unparseable, match="more than 100 addresses"):
        parse_message(mail(b"Cc: " + cc + b"\r\n"))


def test_deep_multipart_nesting_is_refused_not_a_recursion_error() -> None:
    nested = b"".join(b"--b%d\r\nContent-Type: multipart/mixed; boundary=b%d\r\n\r\n"
                      % (n, n + 1) for n in range(2000))
    with pytest.raises(Unparseable):
        parse_message(mail(b"Content-Type: multipart/mixed; boundary=b0\r\n", nested))


def test_deeply_nested_comments_are_refused() -> None:
    with pytest.raises(Unparseable, match="comments"):
        parse_message(b"From: " + b"(" * 3000 + b"a@b.nl\r\n\r\nhi")


@pytest.mark.parametrize(("raw", "reason"), [
    (b"", "empty"),
    (b"Subject: x\r\n" + b"X-Long: " + b"a" * 20_000 + b"\r\n\r\nhi", "exceeds"),
    (b"From: a@b.nl\r\n" + b"X-Many: x\r\n" * 10_000 + b"\r\nhi", "header block"),
])
def test_oversized_and_empty_messages_are_refused(raw: bytes, reason: str) -> None:
    with pytest.raises(Unparseable, match=reason):
        parse_message(raw)


def test_the_size_limit_applies_to_the_whole_message() -> None:
    with pytest.raises(Unparseable, match="exceeds"):
        parse_message(mail(b"Subject: big\r\n", b"x" * 2000), limits=MailLimits(max_bytes=1000))


@pytest.mark.parametrize("charset", [b"x-unknown", b"utf-7", b"idna", b"rot13", b'"utf-8"',
                                     b"", b"zlib"])
def test_wrong_or_odd_charsets_decode_without_failing(charset: bytes) -> None:
    raw = mail(b"Content-Type: text/plain; charset=" + charset + b"\r\n",
               "Caf\u00e9 \u20ac10".encode("latin-1", "replace") + b"\r\n")
    result = parse_message(raw)
    assert result.text.startswith("Caf")


def test_latin1_bytes_declared_as_utf8_become_replacement_characters() -> None:
    result = parse_message(mail(b"Content-Type: text/plain; charset=utf-8\r\n",
                                "Beste meneer, caf\u00e9".encode("latin-1")))
    assert result.text == "Beste meneer, caf\ufffd"


def test_raw_utf8_headers_are_read_as_utf8() -> None:
    result = parse_message(mail("Subject: Vraag over bezorging \u2013 Zo\u00eb\r\n".encode()))
    assert result.subject == "Vraag over bezorging \u2013 Zo\u00eb"


def test_a_message_without_a_body_has_empty_text() -> None:
    result = parse_message(HEAD + b"Subject: leeg\r\n")
    assert result.text == "" and result.new_text == ""


def test_a_sender_that_is_not_exactly_one_address_is_no_sender() -> None:
    two = parse_message(b"From: a@b.nl, c@d.nl\r\n\r\nhi")
    junk = parse_message(b"From: not an address\r\n\r\nhi")
    named = parse_message(b"From: =?utf-8?q?Jan=0Ade_Vries?= <jan@example.nl>\r\n\r\nhi")
    assert two.from_address is None and junk.from_address is None
    assert named.from_address == "jan@example.nl" and named.from_name == "Jan de Vries"


# --- bodies: HTML, quoted history, signatures -------------------------------------------


HTML = (b'<p onclick="x()">Hallo <b>daar</b></p><script>alert(1)</script>'
        b'<a href="javascript:alert(1)">klik</a><img src="https://tracker.example/t.gif">'
        b'<img src="cid:logo@x"><img src=x onerror=alert(1)>')


def test_html_is_sanitised_and_remote_images_blocked() -> None:
    result = parse_message(mail(b"Content-Type: text/html; charset=utf-8\r\n", HTML))
    assert result.html is not None
    assert "<script" not in result.html and "onclick" not in result.html
    assert "javascript:" not in result.html and "tracker.example" not in result.html
    assert "onerror" not in result.html
    assert 'src="cid:logo@x"' in result.html
    assert result.text.startswith("Hallo daar")


@pytest.mark.parametrize("history", [
    "Op ma 23 nov. 2026 om 09:12 schreef Klantenservice <support@example.nl>:\n> Dank u.",
    "On Mon, 23 Nov 2026 at 09:12, Klantenservice <support@example.nl> wrote:\n> Thanks.",
    "Van: Klantenservice <support@example.nl>\nVerzonden: maandag 23 november 2026 09:12\n"
    "Aan: Jan\nOnderwerp: Vraag\n\nDank u.",
    "From: Klantenservice\nSent: Monday, November 23, 2026 9:12 AM\nTo: Jan\n\nThanks.",
    "-----Original Message-----\nFrom: support@example.nl\n\nThanks.",
    "----- Oorspronkelijk bericht -----\nVan: support@example.nl\n\nDank u.",
    "-- \nJan de Vries\nTel. 06 12345678",
])
def test_quoted_history_and_signatures_are_split_off(history: str) -> None:
    body = f"Het pakket is nog niet bezorgd.\n\n{history}\n".encode()
    result = parse_message(mail(b"Content-Type: text/plain; charset=utf-8\r\n", body))
    assert result.new_text == "Het pakket is nog niet bezorgd."
    assert history.splitlines()[-1] in result.text


def test_a_sentence_ending_in_a_colon_is_not_taken_for_history() -> None:
    body = b"Mijn vragen zijn de volgende:\n1. waar is het pakket\n2. wanneer komt het\n"
    result = parse_message(mail(b"", body))
    assert "2. wanneer komt het" in result.new_text


# --- attachments -------------------------------------------------------------------------


def multipart(*parts: bytes) -> bytes:
    body = b"".join(b"--XX\r\n" + p + b"\r\n" for p in parts) + b"--XX--\r\n"
    return mail(b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n", body)


def attachment(filename: bytes, content: bytes = b"data") -> bytes:
    return (b"Content-Type: application/octet-stream\r\nContent-Disposition: attachment; "
            b"filename" + filename + b"\r\n\r\n" + content)


@pytest.mark.parametrize(("name", "kept"), [
    ('="../../etc/passwd"', "passwd"),
    ("=\"\u200b.htaccess\"", ".htaccess"),
    ("=\"evil\u202egpj.exe\"", "evilgpj.exe"),
    ("*=UTF-8''overzicht%20bestelling%20%E2%82%AC.pdf", "overzicht bestelling \u20ac.pdf"),
    ('="..\\\\..\\\\boot.ini"', "boot.ini"),
])
def test_attachment_names_are_data_never_paths(name: str, kept: str) -> None:
    text = b"Content-Type: text/plain\r\n\r\nZie bijlage."
    result = parse_message(multipart(text, attachment(name.encode())))
    assert [a.filename for a in result.attachments] == [kept]
    assert result.text.strip() == "Zie bijlage."


def test_too_many_or_too_big_attachments_are_skipped_with_reasons() -> None:
    limits = MailLimits(max_attachments=2, max_attachment_bytes=10)
    result = parse_message(multipart(
        attachment(b'="a.pdf"'), attachment(b'="big.pdf"', b"x" * 50), attachment(b'="b.pdf"'),
        attachment(b'="c.pdf"')), limits=limits)
    assert [a.filename for a in result.attachments] == ["a.pdf", "b.pdf"]
    assert result.skipped_attachments == ("big.pdf: 50 bytes, more than 10",
                                          "c.pdf: more than 2 attachments")


def test_inline_images_keep_their_content_id() -> None:
    image = (b"Content-Type: image/png\r\nContent-ID: <logo@x>\r\n"
             b"Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=")
    result = parse_message(multipart(b"Content-Type: text/html\r\n\r\n<img src=\"cid:logo@x\">",
                                     image))
    [logo] = result.attachments
    assert logo.inline and logo.content_id == "logo@x" and logo.content.startswith(b"\x89PNG")


def test_clean_filename_edge_cases() -> None:
    assert clean_filename(None) is None
    assert clean_filename("..") is None and clean_filename("/") is None
    long_name = clean_filename("a" * 300 + ".pdf")
    assert long_name is not None and len(long_name) == 255 and long_name.endswith(".pdf")


# --- what kind of message ---------------------------------------------------------------


@pytest.mark.parametrize(("headers", "kind"), [
    (b"Auto-Submitted: auto-replied\r\n", AutoKind.AUTO_REPLY),
    (b"Auto-Submitted: auto-generated; owner=x\r\n", AutoKind.AUTO_REPLY),
    (b"Auto-Submitted: no\r\n", AutoKind.NONE),
    (b"X-Autoreply: yes\r\n", AutoKind.AUTO_REPLY),
    (b"Precedence: bulk\r\n", AutoKind.AUTO_REPLY),
    (b"Precedence: junk\r\n", AutoKind.AUTO_REPLY),
    (b"Precedence: list\r\n", AutoKind.LIST),
    (b"List-Id: Nieuwsbrief <news.example.nl>\r\n", AutoKind.LIST),
    (b"Return-Path: <>\r\n", AutoKind.NONE),
    (b"", AutoKind.NONE),
])
def test_automatic_mail_is_recognised(headers: bytes, kind: AutoKind) -> None:
    assert parse_message(mail(headers)).auto_kind is kind


def test_a_bounce_from_the_mailer_daemon_without_a_dsn_is_a_bounce() -> None:
    raw = (b"Return-Path: <>\r\nFrom: MAILER-DAEMON@mx.example.nl\r\n"
           b"Subject: failure notice\r\n\r\nSorry.\r\n")
    assert parse_message(raw).auto_kind is AutoKind.BOUNCE


def test_a_read_receipt_is_automatic() -> None:
    raw = mail(b"Content-Type: multipart/report; report-type=disposition-notification; "
               b"boundary=R\r\n", b"--R\r\nContent-Type: text/plain\r\n\r\nGelezen\r\n--R--\r\n")
    assert parse_message(raw).auto_kind is AutoKind.AUTO_REPLY


def test_the_bundled_dsn_names_the_returned_message() -> None:
    bounce = parse_message((DATA / "dsn_bounce.eml").read_bytes())
    assert bounce.auto_kind is AutoKind.BOUNCE
    assert bounce.bounced_message_id == "<reply-SW-1234.abc@switchboard.example.com>"


@pytest.mark.parametrize(("subject", "reference"), [
    (b"Re: [#SW-0042] Klacht", "SW-42"), (b"Antw: Klacht [# sw-1234 ]", "SW-1234"),
    (b"Klacht SW-42", None), (b"[#SW-] leeg", None),
])
def test_case_references_in_subjects(subject: bytes, reference: str | None) -> None:
    assert parse_message(mail(b"Subject: " + subject + b"\r\n")).case_reference == reference


def test_threading_headers() -> None:
    refs = b" ".join(b"<r%d@example.nl>" % n for n in range(60))
    result = parse_message(mail(b"Message-ID: bare-id@example.nl\r\n"
                                b"In-Reply-To: <q@example.nl> (comment)\r\n"
                                b"References: " + refs + b"\r\n"
                                b"Date: Mon, 23 Nov 2026 09:12:00 +0100\r\n"))
    assert result.message_id == "<bare-id@example.nl>"
    assert result.in_reply_to == "<q@example.nl>"
    assert len(result.references) == 60 and result.references[0] == "<r0@example.nl>"
    assert result.date == datetime.fromisoformat("2026-11-23T09:12:00+01:00")
