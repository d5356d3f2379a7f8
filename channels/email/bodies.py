"""Turning MIME body parts into text an agent can read safely, and HTML that is safe to show.

- :func:`decode_text` never fails: a wrong, unknown or missing charset decodes with U+FFFD.
- :func:`sanitise_html` runs nh3 (the Ammonia sanitiser): no scripts, styles or event handlers,
  remote images blocked (only ``cid:`` sources survive), links get ``rel=nofollow``.
- :func:`html_to_text` reads *sanitised* HTML only: the stdlib ``html.parser`` has quadratic
  cases on malformed input (CVE-2025-6069 affects 3.11.7) that nh3's well-formed output lacks.
- :func:`new_text` drops quoted history and the signature: what the customer wrote this time.
"""

from __future__ import annotations

import codecs
import functools
import itertools
import re
from html.parser import HTMLParser

import nh3

# Codecs that exist but are no body charset: quadratic decoders, a code path no mail needs, or
# "undefined", which raises UnicodeError whatever the error handler.
_REFUSED_CODECS = frozenset({"idna", "punycode", "raw_unicode_escape", "undefined",
                             "unicode_escape"})
# NUL is refused by PostgreSQL text; the other C0/C1 controls (but tab and newline) only
# confuse a display. CR is normalised to LF before this runs.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

_LINK_REL = "noopener noreferrer nofollow"
_URL_SCHEMES = frozenset({"http", "https", "mailto", "tel", "cid"})
_DROPPED_WITH_CONTENT = frozenset({"script", "style", "title"})


def decode_text(payload: bytes, charset: str | None) -> str:
    """Decode a text part with its declared charset, falling back to UTF-8; never raises."""
    codec = _codec(charset)
    try:
        return payload.decode(codec, "replace")
    except LookupError:  # a binary-to-binary codec such as "zlib" or "rot13"
        return payload.decode("utf-8", "replace")
    except UnicodeError:  # a codec that fails despite "replace" (there was "undefined")
        return payload.decode("utf-8", "replace")


def _codec(charset: str | None) -> str:
    name = (charset or "").strip().strip('"').lower()
    if not name:
        return "utf-8"
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return "utf-8"
    return "utf-8" if info.name in _REFUSED_CODECS else info.name


def clean_text(text: str, max_chars: int) -> tuple[str, bool]:
    """Normalise line ends, drop control characters, cut at ``max_chars``; say if cut."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    if len(text) > max_chars:
        return text[:max_chars], True
    return text, False


@functools.cache
def _cleaner() -> nh3.Cleaner:
    return nh3.Cleaner(
        clean_content_tags=_DROPPED_WITH_CONTENT,
        attribute_filter=_filter_attribute,
        url_schemes=_URL_SCHEMES,
        link_rel=_LINK_REL,
    )


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    # Remote images are tracking beacons; the desk rewrites cid: to the stored attachment.
    if tag == "img" and attribute == "src":
        return value if value.strip().lower().startswith("cid:") else None
    return value


_TAG = re.compile(r"</?[A-Za-z]")


def cut_html(html: str, *, max_chars: int, max_tags: int) -> tuple[str, bool]:
    """``html`` cut to at most ``max_chars`` and before its tag number ``max_tags + 1``; say
    if cut.

    The tag limit bounds the sanitiser's time: html5ever (inside nh3) is quadratic in the
    nesting depth, and 200,000 nested ``<div>`` (1 MB) took three minutes. Depth cannot exceed
    the number of tags; 10,000 nested tags take about 0.3 s. Real mail stays far below, and a
    cut keeps the top, where the new text is.
    """
    cut = len(html) > max_chars
    html = html[:max_chars]
    past_limit = next(itertools.islice(_TAG.finditer(html), max_tags, None), None)
    if past_limit is not None:
        return html[:past_limit.start()], True
    return html, cut


def sanitise_html(html: str) -> str:
    """HTML that is safe to show (still inside a sandboxed frame with a strict CSP)."""
    return _cleaner().clean(html)


_BLOCKS = frozenset({
    "address", "article", "aside", "blockquote", "caption", "center", "dd", "details", "div",
    "dl", "dt", "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hr", "li", "nav", "ol", "p", "pre", "section", "summary", "table", "tr", "ul",
})
_SPACES = re.compile(r"\s+")


class _TextExtractor(HTMLParser):
    """Block elements become line breaks; ``<blockquote>`` lines get a "> " per level."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._line: list[str] = []
        self._quote_depth = 0
        self._line_quote_depth = 0
        self._pre_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self._break()
        elif tag in _BLOCKS:
            self._break()
            if tag == "blockquote":
                self._quote_depth += 1
            elif tag == "pre":
                self._pre_depth += 1
            elif tag == "li":
                self._line.append("- ")
        elif tag in ("td", "th") and self._line:
            self._line.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self._break()
            if tag == "blockquote" and self._quote_depth:
                self._quote_depth -= 1
            elif tag == "pre" and self._pre_depth:
                self._pre_depth -= 1

    def handle_data(self, data: str) -> None:
        if not self._line:
            self._line_quote_depth = self._quote_depth
        if self._pre_depth:
            first, *rest = data.split("\n")
            self._line.append(first)
            for line in rest:
                self._break()
                self._line_quote_depth = self._quote_depth
                self._line.append(line)
        else:
            self._line.append(_SPACES.sub(" ", data))

    def _break(self) -> None:
        text = "".join(self._line).strip()
        self._line = []
        if text or (self.lines and self.lines[-1]):
            self.lines.append("> " * self._line_quote_depth + text if text else "")

    def close(self) -> None:
        super().close()
        self._break()


def html_to_text(sanitised_html: str) -> str:
    """Plain text of HTML that :func:`sanitise_html` produced."""
    extractor = _TextExtractor()
    extractor.feed(sanitised_html)
    extractor.close()
    return "\n".join(extractor.lines).strip()


# --- quoted history and signatures ---------------------------------------------------------

# Reply headers that start quoted history. The "Op/On" forms must contain a time ("09:12") or an
# address, as every client writes them, so that a customer's own sentence ending in a colon is
# not taken for one: a digit alone was not enough ("Op 3 november schreef ik u het volgende:"
# dropped everything the customer wrote below it).
_STAMP = r"(?=.*(?:\d:\d\d|@))"
_REPLY_HEADERS = (
    re.compile(rf"\s*Op\s{_STAMP}.+\sschreef\s.*:\s*", re.I),  # Gmail, Thunderbird (nl)
    re.compile(rf"\s*Op\s{_STAMP}.+\sheeft\s.+\shet volgende geschreven\s*:\s*", re.I),  # Apple
    re.compile(rf"\s*On\s{_STAMP}.+\swrote\s*:\s*", re.I),
    re.compile(r"\s*-{2,}\s*(?:Original Message|Oorspronkelijk bericht|Origineel bericht)"
               r"\s*-{2,}\s*", re.I),
)
_OUTLOOK_FROM = re.compile(r"\s*\*?(?:Van|From)\s*:\s*\*?\s*\S", re.I)
_OUTLOOK_SENT = re.compile(r"\s*\*?(?:Verzonden|Sent|Datum|Date)\s*:", re.I)
_RULE = re.compile(r"\s*[_\-=]{5,}\s*")
_MAX_HEADER_LINE_CHARS = 400  # longer lines are never a reply header (and keep the regexes cheap)
_HEADER_SPAN = 3  # a wrapped "Op ... schreef ...:" header spans up to this many lines


def new_text(text: str) -> str:
    """``text`` without quoted lines, the history under a reply header, and the signature."""
    lines = text.split("\n")
    kept: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith(">"):
            index += 1
            continue
        span = _reply_header_span(lines, index)
        if span:
            following = next((x for x in lines[index + span:] if x.strip()), "")
            if not following.startswith(">"):
                break  # top-posted: everything below is history
            index += span  # bottom-posted: drop the header, the quoted lines go one by one
            continue
        if line.rstrip() == "--":  # RFC 3676 section 4.3 "-- " (trailing space often lost)
            break
        kept.append(line)
        index += 1
    while kept and (not kept[-1].strip() or _RULE.fullmatch(kept[-1])):
        kept.pop()
    return "\n".join(kept).strip()


def _reply_header_span(lines: list[str], index: int) -> int:
    """How many lines from ``index`` form a reply header (0: none)."""
    if _is_outlook_header(lines, index):
        return 1
    joined = ""
    for span in range(1, _HEADER_SPAN + 1):
        if index + span > len(lines):
            break
        joined = f"{joined} {lines[index + span - 1].strip()}" if joined else lines[index]
        if len(joined) > _MAX_HEADER_LINE_CHARS:
            break
        if any(pattern.fullmatch(joined) for pattern in _REPLY_HEADERS):
            return span
    return 0


def _is_outlook_header(lines: list[str], index: int) -> bool:
    """Outlook's "Van:/From:" line followed within four lines by "Verzonden:/Sent:"."""
    line = lines[index]
    if len(line) > _MAX_HEADER_LINE_CHARS or not _OUTLOOK_FROM.match(line):
        return False
    return any(_OUTLOOK_SENT.match(x) for x in lines[index + 1:index + 5])
