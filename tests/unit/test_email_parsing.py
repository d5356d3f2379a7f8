"""Parsing inbound mail: real-world and hostile messages either become plain, safe values
or are refused as Unparseable (to be quarantined) — never anything else.

The corpus is public mail nobody here wrote: CPython's own ``email`` test data, a bounce from
mail-parser and three of flanker's messages (sources in each folder's README.md)."""

from __future__ import annotations

import hashlib
import random
from datetime import datetime
from html.parser import HTMLParser
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
CORPUS = sorted([
    *DATA.glob("*.eml"), *(DATA / "cpython").glob("msg_*.txt"),
    *(DATA / "mail-parser").glob("mail_*"), *(DATA / "flanker").glob("*.eml"),
])
HEAD = b"From: Jan de Vries <jan@example.nl>\r\nTo: support@example.nl\r\n"
# Bytes and snippets that break parsers: line ends, quoting, encoded words, boundaries.
MANGLERS = [
    b"\n", b"\r", b"\r\n", b"\x00", b"\xff", b"\xc3\xa9", b"(", b")", b'"', b"\\", b"<", b">", b";",
    b"=", b"=?utf-8?q?=0D=0A?=", b"=?x-unknown?b?////?=", b"\n--", b"\n\n", b"charset=utf-7",
    b"charset*=utf-8''%FF", b"Content-Transfer-Encoding: base64\n", b"\n--XX--\n",
    b"Content-Type: message/rfc822\n", b"Content-Type: multipart/mixed; boundary*=''XX\n\n--XX\n",
    b"<img src=https://t.example/p onerror=alert(1)><script>alert(1)</script>",
    "\u2028\u202e".encode(),
]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def assert_safe_html(html: str) -> None:
    """No script, no event handler, no script URL, no remote image: what the desk may show."""
    assert "<script" not in html.lower()
    found = _Tags()
    found.feed(html)
    found.close()
    for tag, attrs in found.tags:
        assert tag not in {"script", "style", "iframe", "object", "embed", "form", "base", "meta"}
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)
            url = (value or "").strip().lower()
            assert not url.startswith(("javascript:", "vbscript:", "data:")), (tag, name, value)
            if tag == "img" and name == "src":
                assert url.startswith("cid:"), value


def contract(raw: bytes, limits: MailLimits = MailLimits()) -> ParsedMail | None:  # noqa: B008
    """What every input must satisfy: a sane ParsedMail, or Unparseable with a reason."""
    try:
        parsed = parse_message(raw, limits=limits)
    except Unparseable as refused:
        assert refused.reason
        return None
    assert "\n" not in parsed.subject and "\r" not in parsed.subject
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in parsed.subject)
    assert parsed.content_hash == hashlib.sha256(raw).hexdigest()
    assert parsed.size == len(raw)
    assert "\x00" not in parsed.text and "\r" not in parsed.text
    assert len(parsed.text) <= limits.max_text_chars
    assert parsed.html is None or assert_safe_html(parsed.html) is None
    assert parsed.date is None or parsed.date.tzinfo is not None
    assert parsed.from_address is None or "@" in parsed.from_address
    assert parsed.from_name is None or parsed.from_name == " ".join(parsed.from_name.split())
    assert len(parsed.attachments) <= limits.max_attachments
    for attachment in parsed.attachments:
        assert attachment.size == len(attachment.content) <= limits.max_attachment_bytes
        name = attachment.filename
        assert name is None or (
            name not in {".", ".."} and "/" not in name and "\\" not in name
            and "\u202e" not in name and 0 < len(name) <= 255)
    return parsed


def test_the_public_corpus_is_there() -> None:
    folders = [p.parent.name for p in CORPUS]
    assert folders.count("cpython") >= 37
    assert folders.count("mail-parser") + folders.count("flanker") >= 4


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_every_corpus_message_parses_sanely_or_is_refused(path: Path) -> None:
    contract(path.read_bytes())


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_real_world_messages_are_read_not_quarantined(path: Path) -> None:
    # None of this public mail is hostile: refusing any of it would quarantine real customers.
    assert contract(path.read_bytes()) is not None


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.name)
def test_mangled_corpus_messages_never_crash_the_parser(path: Path) -> None:
    rng = random.Random(path.name)  # deterministic: the same mutations on every run
    raw = path.read_bytes()
    for cut in range(0, len(raw), max(1, len(raw) // 12)):
        contract(raw[:cut] or b"x")
    for _ in range(25):
        mangled = bytearray(raw)
        for _ in range(rng.randrange(1, 12)):
            mangled[rng.randrange(len(mangled))] = rng.choice(
                [0, 10, 13, 0x3D, 0x3F, 0x28, 0x22, 0x3C, 0x2D, 0xFF, rng.randrange(256)])
        contract(bytes(mangled))
    for _ in range(15):
        spliced = bytearray(raw)
        for _ in range(rng.randrange(1, 6)):
            at = rng.randrange(len(spliced) + 1)
            if rng.random() < 0.7:
                spliced[at:at] = rng.choice(MANGLERS)
            else:  # a piece of itself elsewhere: repeated headers, boundaries, parts
                start = rng.randrange(len(spliced))
                spliced[at:at] = spliced[start:start + rng.randrange(1, 300)]
        contract(bytes(spliced))


def test_mangled_corpus_messages_keep_tight_limits_too() -> None:
    tight = MailLimits(max_parts=5, max_mime_depth=2, max_attachments=1, max_attachment_bytes=100,
                       max_text_chars=50, max_html_chars=60, max_html_tags=4, max_header_line=200)
    for path in CORPUS:
        contract(path.read_bytes(), tight)


def mail(headers: bytes, body: bytes = b"Hallo\r\n") -> bytes:
    return HEAD + headers + b"\r\n" + body


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


# --- more of the public corpus ---------------------------------------------------------------


def corpus(path: str) -> ParsedMail:
    return parse_message((DATA / path).read_bytes())


@pytest.mark.parametrize("name", ["msg_41.txt", "msg_31.txt"])
def test_a_multipart_without_a_usable_boundary_is_read_as_text(name: str) -> None:
    # msg_41 declares no boundary, msg_31 one that never occurs: the customer's words used to
    # vanish into an attachment typed multipart/*.
    parsed = corpus(f"cpython/{name}")
    assert parsed.attachments == ()
    assert ("Blah blah blah" if name == "msg_41.txt" else "message 2") in parsed.text


def test_an_rfc2231_boundary_splits_the_parts() -> None:
    assert corpus("cpython/msg_33.txt").text == "part 1\n\npart 2\n"


def test_digest_parts_are_forwarded_messages_kept_whole() -> None:
    digest = corpus("cpython/msg_30.txt")
    assert [a.content_type for a in digest.attachments] == ["message/rfc822"] * 2
    assert digest.attachments[1].content.endswith(b"message 2\r\n")
    assert "message 1" not in digest.text


def test_a_forwarded_message_is_kept_as_bytes_not_read_as_the_body() -> None:
    forward = corpus("cpython/msg_46.txt")
    [original] = forward.attachments
    assert original.content_type == "message/rfc822" and original.filename is None
    assert b"Testing email forwarding with Groupwise 1.2.2010" in original.content
    assert original.content.startswith(b"Return-path: <sender@example.net>\r\n")
    assert forward.from_address == "sender@example.net" and forward.from_name == "Sender"


def test_boundaries_that_start_and_end_with_dashes() -> None:
    parsed = corpus("flanker/dashed-boundaries.eml")
    assert (parsed.text, parsed.html) == ("Hi\n", "Hi\n")


def test_a_comment_inside_the_date_keeps_its_zone() -> None:
    # RFC 3798's example: "Wed, 20 Sep 1995 00:19:00 (EDT) -0400" was read as UTC.
    receipt = corpus("flanker/disposition-notification.eml")
    assert receipt.date == datetime.fromisoformat("1995-09-20T00:19:00-04:00")


def test_a_signed_mutt_message_with_rfc2231_parameters() -> None:
    parsed = corpus("cpython/msg_29.txt")
    assert parsed.text == "\nHi,\n\nDo you like this message?\n\n-Me\n"
    assert parsed.from_address == "bbb@ddd.com" and parsed.from_name is None


# --- charsets and odd bodies -----------------------------------------------------------------


def test_8bit_bytes_without_any_content_type_are_read_as_utf8() -> None:
    utf8 = parse_message(mail(b"", "Graag v\u00f3\u00f3r vrijdag.".encode()))
    latin1 = parse_message(mail(b"", "Graag v\u00f3\u00f3r vrijdag.".encode("latin-1")))
    assert utf8.text == "Graag v\u00f3\u00f3r vrijdag."
    assert latin1.text == "Graag v\ufffd\ufffdr vrijdag."


def test_an_rfc2231_charset_with_8bit_bytes_is_read() -> None:
    raw = mail(b"Content-Type: text/plain; charset*=utf-8''utf-8\r\n", "Caf\u00e9".encode())
    assert parse_message(raw).text == "Caf\u00e9"


def test_a_base64_body_of_garbage_decodes_what_it_can() -> None:
    raw = mail(b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n",
               b"!!!dit is geen base64%%%==\r\nSGFsbG8=\r\n")
    parsed = parse_message(raw)
    assert "\x00" not in parsed.text and parsed.attachments == ()


def test_a_blank_line_and_nothing_after_it_is_an_empty_body() -> None:
    parsed = parse_message(HEAD + b"Subject: leeg\r\n\r\n")
    assert (parsed.subject, parsed.text, parsed.html) == ("leeg", "", None)


def test_headers_only_without_a_sender_still_parse() -> None:
    parsed = parse_message(b"Subject: alleen dit\r\n")
    assert (parsed.subject, parsed.from_address, parsed.text) == ("alleen dit", None, "")


def test_control_characters_in_the_body_are_dropped_but_tabs_kept() -> None:
    parsed = parse_message(mail(b"", b"a\x00b\x07c\td\x1b[31me\r\nf\rg"))
    assert parsed.text == "abc\td[31me\nf\ng"


# --- threading fields and senders ------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    (b"<abc@example.nl>", "<abc@example.nl>"),
    (b"  < abc@example.nl >  (Outlook)", "<abc@example.nl>"),
    (b"abc@example.nl", "<abc@example.nl>"),
    (b"", None),
    (b"<>", None),
])
def test_message_ids_with_and_without_brackets(value: bytes, expected: str | None) -> None:
    assert parse_message(mail(b"Message-ID: " + value + b"\r\n")).message_id == expected


@pytest.mark.parametrize(("sender", "address", "name"), [
    (b'"Jan\x07 de\x1b Vries" <jan@example.nl>', "jan@example.nl", "Jan de Vries"),
    ("\u202eseirV ed naJ <jan@example.nl>".encode(), "jan@example.nl", "seirV ed naJ"),
    (b"=?utf-8?q?Zo=C3=AB_de=09Wit?= <zoe@example.nl>", "zoe@example.nl", "Zo\u00eb de Wit"),
    (b"jan@example.nl (Jan de Vries)", "jan@example.nl", None),
    (b"<jan@example.nl>, <piet@example.nl>", None, None),
    (b"Jan <jan@>", None, None),
    (b"(((((", None, None),
    (b"", None, None),
])
def test_the_sender_is_one_clean_address_and_a_one_line_name(
        sender: bytes, address: str | None, name: str | None) -> None:
    parsed = parse_message(b"From: " + sender + b"\r\nSubject: x\r\n\r\nhoi")
    assert (parsed.from_address, parsed.from_name) == (address, name)


def test_two_from_headers_are_no_sender() -> None:
    raw = b"From: jan@example.nl\r\nFrom: piet@example.nl\r\n\r\nhoi"
    assert parse_message(raw).from_address is None


def test_recipients_are_collected_without_duplicates() -> None:
    parsed = parse_message((DATA / "alternative.eml").read_bytes())
    assert parsed.to_addresses == ("support@example.com", "facturen@example.com")
    assert parsed.cc_addresses == ("kees@example.nl",)


@pytest.mark.parametrize(("date", "expected"), [
    (b"Mon, 23 Nov 2026 09:12:00 +0100", "2026-11-23T09:12:00+01:00"),
    (b"Mon, 23 Nov 2026 09:12:00 -0000", "2026-11-23T09:12:00+00:00"),
    (b"23 Nov 2026 09:12 (CET) +0100", "2026-11-23T09:12:00+01:00"),
    (b"Mon, 23 Nov 2026 09:12:00 +0100 (CET)", "2026-11-23T09:12:00+01:00"),
    (b"gisteren", None),
    (b"Mon, 23 Nov 2026 09:12:00 +9999", None),
])
def test_dates_are_aware_or_absent(date: bytes, expected: str | None) -> None:
    parsed = parse_message(mail(b"Date: " + date + b"\r\n"))
    assert parsed.date == (datetime.fromisoformat(expected) if expected else None)


# --- attachments, more -----------------------------------------------------------------------


def test_an_rfc2231_continued_dutch_filename_is_decoded() -> None:
    part = (b"Content-Type: application/pdf\r\nContent-Disposition: attachment;\r\n"
            b" filename*0*=utf-8''Overzicht%20bestelling%20;\r\n"
            b" filename*1*=g%C3%A9%C3%A9n%20bezwaar.pdf\r\n\r\n%PDF-1.4")
    [kept] = parse_message(multipart(b"Content-Type: text/plain\r\n\r\nZie bijlage.", part)
                           ).attachments
    assert kept.filename == "Overzicht bestelling g\u00e9\u00e9n bezwaar.pdf"
    assert kept.content == b"%PDF-1.4" and not kept.inline


def test_an_attached_message_is_kept_as_bytes_and_not_read_as_text() -> None:
    forwarded = (b"Content-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n"
                 b"From: piet@example.nl\r\nSubject: doorgestuurd\r\n"
                 b"Message-ID: <orig@example.nl>\r\n\r\nOude tekst.")
    parsed = parse_message(multipart(b"Content-Type: text/plain\r\n\r\nZie onder.", forwarded))
    [kept] = parsed.attachments
    assert kept.content_type == "message/rfc822"
    assert kept.content.startswith(b"From: piet@example.nl\r\nSubject: doorgestuurd\r\n")
    assert "Oude tekst" not in parsed.text and parsed.message_id is None
