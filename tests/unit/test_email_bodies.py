"""Bodies: every charset decodes, HTML is safe to show and bounded in time, and what the
customer wrote this time is told apart from quoted history and signatures."""

from __future__ import annotations

import encodings
import encodings.aliases
import pkgutil

import pytest

from channels.email.bodies import cut_html, decode_text, html_to_text, new_text, sanitise_html
from channels.email.parsing import MailLimits, parse_message

HEAD = b"From: Jan de Vries <jan@example.nl>\r\nTo: support@example.nl\r\n"
# Every codec name this Python knows: a sender may declare any of them as a charset.
CODECS = sorted({*encodings.aliases.aliases, *encodings.aliases.aliases.values(),
                 *(m.name for m in pkgutil.iter_modules(encodings.__path__))} - {"aliases"})


def test_a_body_decodes_whatever_charset_it_declares() -> None:
    # "undefined" raised UnicodeError whatever the error handler, and the message was
    # quarantined; binary codecs (zlib, rot13, base64) are no text encodings at all.
    failing = []
    for charset in CODECS:
        try:
            decode_text(b"Caf\xc3\xa9 \xff\x00 +AGE- \\u12 \x1b$B", charset)
        except Exception as err:  # noqa: BLE001 - any exception is the failure reported
            failing.append(f"{charset}: {err!r}")
    assert len(CODECS) > 300 and failing == []


def test_a_message_declaring_the_undefined_charset_is_read() -> None:
    raw = HEAD + b"Content-Type: text/plain; charset=undefined\r\n\r\nMijn pakket is zoek."
    assert parse_message(raw).text == "Mijn pakket is zoek."


# --- HTML ----------------------------------------------------------------------------------


@pytest.mark.parametrize("html", [
    '<a href="JaVaScRiPt:alert(1)">a</a>', '<a href="java&#x09;script:alert(1)">b</a>',
    '<a href="data:text/html,<script>alert(1)</script>">c</a>', '<a href="vbscript:x">d</a>',
    "<svg><script>alert(1)</script></svg>", '<iframe src="https://x.example"></iframe>',
    '<form action="https://x.example"><input name=a></form>',
    '<meta http-equiv="refresh" content="0;url=https://x.example">',
    '<base href="https://x.example/">', "<style>@import url(https://t.example/a.css)</style>",
    '<div style="background:url(https://t.example/x)">s</div>',
    '<img srcset="https://t.example/x 1x">', '<object data="https://x.example"></object>',
    '<link rel=stylesheet href="https://t.example/a.css">',
    '<table background="https://t.example/x"><tr><td>t</td></tr></table>',
    '<video poster="https://t.example/x"></video>', '<img SRC="https://t.example/x">',
    "<IMG src=//t.example/x>", '<img src="data:image/png;base64,AAAA">',
    '<math><mi xlink:href="javascript:alert(1)">m</mi></math>',
    '<p title="x" onmouseover="a()">p</p>', '<img src="cid:x" onerror="alert(1)">',
    '<!--[if gte mso 9]><img src="https://t.example/x"><![endif]-->',
    '<input type=image src="https://t.example/x">',
])
def test_html_loses_script_handlers_and_remote_loads(html: str) -> None:
    safe = sanitise_html(html).lower()
    for unsafe in ("<script", "javascript:", "vbscript:", "data:", " on", "style", "<iframe",
                   "<form", "<meta", "<base", "<link", "<object", "srcset", "background",
                   "poster", 'src="https', "src=\"//", "<input"):
        assert unsafe not in safe, (unsafe, safe)


def test_inline_images_keep_their_cid_and_links_get_nofollow() -> None:
    safe = sanitise_html('<img src="cid:logo@x" alt="Logo"><a href="https://example.nl/a">a</a>')
    assert '<img src="cid:logo@x" alt="Logo">' in safe
    assert 'href="https://example.nl/a" rel="noopener noreferrer nofollow"' in safe


def test_text_from_html_keeps_blocks_lists_and_quotes() -> None:
    text = html_to_text(sanitise_html(
        "<p>Hallo,</p><ul><li>een</li><li>twee</li></ul><blockquote>oud<br>bericht</blockquote>"
        "<pre>regel 1\nregel 2</pre>&euro; 10"))
    assert [line for line in text.split("\n") if line] == [
        "Hallo,", "- een", "- twee", "> oud", "> bericht", "regel 1", "regel 2", "\u20ac 10"]


def test_deeply_nested_html_is_cut_not_left_to_the_quadratic_sanitiser() -> None:
    # html5ever (in nh3) is quadratic in nesting depth: 200,000 nested <div> took 3 minutes.
    raw = HEAD + b"Content-Type: text/html\r\n\r\n<p>Hallo daar</p>" + b"<div>" * 30_000 + b"x"
    parsed = parse_message(raw)
    assert parsed.truncated and parsed.text == "Hallo daar"
    assert parsed.html is not None and parsed.html.count("<div>") < 10_000


def test_ordinary_html_is_not_cut() -> None:
    html = "<table>" + "<tr><td><b>regel</b></td></tr>" * 1_000 + "</table>"
    assert cut_html(html, max_chars=2_000_000, max_tags=10_000) == (html, False)


@pytest.mark.parametrize(("html", "kept", "cut"), [
    ("<b>a</b><i>b</i>", "<b>a</b><i>b", True),
    ("<b>a</b>", "<b>a</b>", False),
    ("a < b and c<3", "a < b and c<3", False),  # no tag: nothing to count
    ("<b>abcdef</b>", "<b>abc", True),  # the character limit
])
def test_cut_html_counts_start_and_end_tags(html: str, kept: str, cut: bool) -> None:
    assert cut_html(html, max_chars=6 if "abcdef" in html else 100, max_tags=3) == (kept, cut)


def test_multipart_alternative_gives_both_the_text_and_the_html() -> None:
    from pathlib import Path
    raw = (Path(__file__).parent.parent / "data" / "mail" / "alternative.eml").read_bytes()
    parsed = parse_message(raw)
    assert parsed.text.startswith("Mijn bestelling is nog steeds niet bezorgd. Graag een reactie"
                                  " v\u00f3\u00f3r vrijdag.")  # the plain part, iso-8859-1
    assert parsed.html == "<p>Mijn bestelling is <b>nog steeds</b> niet bezorgd.</p>"


def test_html_cut_by_a_tight_limit_is_marked_truncated() -> None:
    raw = HEAD + b"Content-Type: text/html\r\n\r\n<p>een</p><p>twee</p><p>drie</p>"
    parsed = parse_message(raw, limits=MailLimits(max_html_tags=4))
    assert parsed.truncated and parsed.text == "een\n\ntwee"


# --- what the customer wrote this time ------------------------------------------------------


@pytest.mark.parametrize("own_words", [
    "Op 3 november schreef ik u al het volgende:\nMijn abonnement moet per 1 december stoppen.",
    "On 3 occasions I wrote:\nplease cancel order 1234.",
    "Op 12 mei heeft uw collega mij het volgende geschreven:\nU krijgt het geld terug.",
    "Mijn vragen zijn de volgende:\n1. waar is het pakket\n2. wanneer komt het",
])
def test_a_customers_own_sentence_ending_in_a_colon_is_kept(own_words: str) -> None:
    assert new_text(f"Goedemiddag,\n\n{own_words}\n\nMet vriendelijke groet,\nJan") == (
        f"Goedemiddag,\n\n{own_words}\n\nMet vriendelijke groet,\nJan")


@pytest.mark.parametrize("header", [
    "Op ma 23 nov. 2026 om 09:12 schreef Klantenservice <support@example.nl>:",  # Gmail nl
    "Op 23-11-2026 om 09:12 schreef Klantenservice:",  # Thunderbird nl
    "Op 23 nov. 2026, om 09:12 heeft Klantenservice het volgende geschreven:",  # Apple nl
    "On Mon, Nov 23, 2026 at 9:12 AM Klantenservice <support@example.nl> wrote:",  # Gmail en
    "On 23/11/2026 09:12, Klantenservice wrote:",  # Thunderbird en
    "Op ma 23 nov. 2026 om 09:12 schreef Klantenservice <\nsupport@example.nl>:",  # wrapped
])
def test_reply_headers_of_real_clients_start_the_history(header: str) -> None:
    body = f"Het pakket is er nog niet.\n\n{header}\nDank voor uw bericht.\n"
    assert new_text(body) == "Het pakket is er nog niet."


def test_bottom_posted_replies_keep_the_customers_lines_between_quotes() -> None:
    body = ("On Mon, Nov 23, 2026 at 9:12 AM Klantenservice <support@example.nl> wrote:\n"
            "> Wat is uw ordernummer?\n\n1234\n\n> En uw postcode?\n\n1234 AB\n")
    assert [line for line in new_text(body).split("\n") if line] == ["1234", "1234 AB"]


def test_a_signature_and_a_trailing_rule_are_dropped() -> None:
    assert new_text("Graag snel antwoord.\n__________\n-- \nJan\n06-12345678") == (
        "Graag snel antwoord.")
