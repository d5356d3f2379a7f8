"""Sending built messages to a real SMTP server (aiosmtpd, in this test's loop): what arrives
is exactly what we built, and every way a server says no is typed by whether to retry."""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from channels.email.compose import (
    OutgoingAttachment,
    OutgoingMail,
    build_message,
    new_message_id,
    references_for,
    reply_subject,
)
from channels.email.smtp import SendFailed, SmtpEndpoint, send
from tests.support.smtp_sink import SmtpSink, smtp_sink

SUPPORT = "support@example.nl"
JAN = "jan.devries@example.nl"
DATE = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
QUICK_S = 5.0  # a failure that should be immediate must come well within this
EXPECTED_HEADERS = ["content-transfer-encoding", "content-type", "date", "from",
                    "in-reply-to", "message-id", "mime-version", "references", "subject", "to"]


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    async with smtp_sink() as running:
        yield running


def reply_mail(**changes: object) -> OutgoingMail:
    parent = "<CAJx8+Qk-9vRm0dXo4Ue=u2aVQh@mail.gmail.com>"
    values: dict[str, object] = {
        "message_id": new_message_id("example.nl"), "from_address": SUPPORT,
        "from_name": "Klantenservice", "to_address": JAN, "to_name": "Jan de Vries, Sr.",
        "subject": reply_subject("Waar blijft mijn pakket?", "SW-42"),
        "text": "Beste Jan,\n\nHet pakket wordt morgen bezorgd.\n", "date": DATE,
        "in_reply_to": parent,
        "references": references_for(["<root.1@example.nl>", f"<{'x' * 100}@example.com>"],
                                     parent)}
    values.update(changes)
    return OutgoingMail(**values)  # type: ignore[arg-type]


def endpoint(sink: SmtpSink, *, query: str = "", userinfo: str = "", scheme: str = "smtp",
             timeout_s: float = QUICK_S) -> SmtpEndpoint:
    url = f"{scheme}://{userinfo}{sink.host}:{sink.port}{query}"
    return replace(SmtpEndpoint.from_url(url), timeout_s=timeout_s)


async def send_to(sink: SmtpSink, mail: OutgoingMail, *, query: str = "", userinfo: str = "",
                  scheme: str = "smtp", ssl_context: ssl.SSLContext | None = None) -> str:
    return await send(endpoint(sink, query=query, userinfo=userinfo, scheme=scheme),
                      build_message(mail),
                      sender=mail.from_address, recipients=[mail.to_address],
                      ssl_context=ssl_context)


# --- endpoints (pure, but they say how every test below connects) ----------------------------


@pytest.mark.parametrize(("url", "expected"), [
    ("smtp://mail.example.nl", ("mail.example.nl", 25, "opportunistic", None, None)),
    ("smtps://mail.example.nl", ("mail.example.nl", 465, "tls", None, None)),
    ("smtp://u%40x.nl:p%40ss%3Aw0rd@Mail.Example.NL:587?starttls=required",
     ("mail.example.nl", 587, "starttls", "u@x.nl", "p@ss:w0rd")),
    ("smtp://127.0.0.1:2525?starttls=none", ("127.0.0.1", 2525, "none", None, None)),
    ("smtp://[::1]:2525/", ("::1", 2525, "opportunistic", None, None)),
])
def test_smtp_urls(url: str, expected: tuple[object, ...]) -> None:
    found = SmtpEndpoint.from_url(url)
    assert (found.host, found.port, found.security, found.user, found.password) == expected
    assert "w0rd" not in repr(found)


@pytest.mark.parametrize("url", [
    "http://u:geheim@mail.example.nl", "smtp://u:geheim@", "smtps://u:geheim@h?starttls=none",
    "smtp://u:geheim@h?starttls=maybe", "smtp://u:geheim@h:99999", "smtp://u:geheim@h:port",
    "smtp://u:geheim@h:0", "smtp://u:geheim@h/INBOX", "smtp://u:geheim@h#x",
    "smtp://u:geheim@h?tls=1", "smtp://:geheim@h", "smtp://u:geheim@h?starttls",
    "smtp://u:geheim@h?starttls=none&starttls=required",
])
def test_bad_smtp_urls_say_what_is_wrong_without_the_password(url: str) -> None:
    with pytest.raises(ValueError) as raised:
        SmtpEndpoint.from_url(url)
    assert "geheim" not in str(raised.value) and str(raised.value)


# --- sending ---------------------------------------------------------------------------------


async def test_a_built_message_arrives_exactly_as_built(sink: SmtpSink) -> None:
    mail = reply_mail(attachments=(OutgoingAttachment(
        filename="Factuur oktober \u2013 Zoë.pdf", content_type="application/pdf",
        content=b"%PDF-1.4 " * 2000),))
    assert sink.url == f"smtp://127.0.0.1:{sink.port}"

    reply = await send_to(sink, mail)

    assert "queued" in reply
    [received] = await sink.wait_for(1)
    assert received.mail_from == SUPPORT and received.rcpt_tos == [JAN]
    assert "SMTPUTF8" not in received.mail_options and not received.tls
    # multipart/mixed at the top: its parts carry their own transfer encodings
    assert sorted(received.header_names()) == [
        h for h in EXPECTED_HEADERS if h != "content-transfer-encoding"]
    message = received.message
    assert message["Message-ID"] == mail.message_id
    assert message["In-Reply-To"] == mail.in_reply_to
    assert message["References"].split() == list(mail.references)
    assert message["Subject"] == "Re: Waar blijft mijn pakket? [#SW-42]"
    assert message["To"].addresses[0].display_name == "Jan de Vries, Sr."
    # The ids go over the wire as they are: no encoded words for the next hop to mis-match.
    assert f"In-Reply-To: {mail.in_reply_to}" in received.header_lines()
    assert not any("=?" in line for line in received.header_lines()
                   if line.startswith(("Message-ID", "In-Reply-To", "References", " <")))
    body, attachment = message.iter_parts()
    assert body.get_content().replace("\r\n", "\n") == mail.text
    assert attachment.get_filename() == "Factuur oktober \u2013 Zoë.pdf"
    assert attachment.get_content() == b"%PDF-1.4 " * 2000
    await sink.wait_idle()  # the connection was closed


@pytest.mark.parametrize("breaker", ["\r\n", "\n", "\x85", "\u2028"], ids=repr)
async def test_an_injection_attempt_reaches_one_recipient_with_no_extra_header(
        sink: SmtpSink, breaker: str) -> None:
    hostile = f"Vraag{breaker}Bcc: x@evil.example{breaker}X-Extra: 1"
    mail = reply_mail(subject=reply_subject(hostile, "SW-42"),
                      to_name=f"Jan{breaker}Bcc: y@evil.example",
                      from_name="=?utf-8?q?Support=0D=0ABcc:_z@evil.example?=")

    await send_to(sink, mail)

    [received] = await sink.wait_for(1)
    assert received.rcpt_tos == [JAN]
    assert sorted(received.header_names()) == EXPECTED_HEADERS
    assert not any(line.lower().startswith(("bcc", "x-extra")) for line in received.header_lines())
    message = received.message
    assert message["Subject"] == "Re: Vraag Bcc: x@evil.example X-Extra: 1 [#SW-42]"
    assert [a.addr_spec for a in message["To"].addresses] == [JAN]
    assert [a.addr_spec for a in message["From"].addresses] == [SUPPORT]


@pytest.mark.parametrize("recipient", [f"{JAN}\r\nRCPT TO:<x@evil.example>",
                                       f"{JAN}> NOTIFY=NEVER", f"<{JAN}>", ""])
async def test_an_envelope_address_that_could_smuggle_a_command_is_refused(
        sink: SmtpSink, recipient: str) -> None:
    with pytest.raises(SendFailed) as failed:
        await send(endpoint(sink), build_message(reply_mail()), sender=SUPPORT,
                   recipients=[recipient])
    assert failed.value.permanent
    assert sink.messages == [] and sink.open_connections == 0


@pytest.mark.parametrize(("stage", "reply", "permanent"), [
    ("DATA", "451 4.3.0 try again later", False),
    ("DATA", "550 5.7.1 message refused", True),
    ("RCPT", "550 5.1.1 no such user", True),
    ("RCPT", "450 4.2.0 greylisted, come back later", False),
    ("MAIL", "421 4.3.2 shutting down", False),
    ("MAIL", "553 5.7.1 sender not allowed", True),
])
async def test_refusals_are_typed_by_whether_a_retry_can_help(
        sink: SmtpSink, stage: str, reply: str, permanent: bool) -> None:
    sink.fail_next(1, reply, at=stage)  # type: ignore[arg-type]
    mail = reply_mail()

    with pytest.raises(SendFailed) as failed:
        await send_to(sink, mail)

    assert failed.value.permanent is permanent
    assert failed.value.reason.startswith(reply[:3])
    assert sink.messages == []
    await sink.wait_idle()  # closed after a refusal too

    # The next attempt, with the same Message-ID, goes through.
    await send_to(sink, mail)
    [received] = await sink.wait_for(1)
    assert received.message["Message-ID"] == mail.message_id


async def test_fail_next_counts_deliveries(sink: SmtpSink) -> None:
    sink.fail_next(2, "451 4.3.0 try again later")
    mail = reply_mail()
    for _ in range(2):
        with pytest.raises(SendFailed) as failed:
            await send_to(sink, mail)
        assert not failed.value.permanent
    await send_to(sink, mail)
    assert len(await sink.wait_for(1)) == 1


async def test_a_closed_port_is_a_quick_temporary_failure() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago and has no listener
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    closed = SmtpEndpoint(host="127.0.0.1", port=port, security="opportunistic", timeout_s=30)

    async with asyncio.timeout(QUICK_S):
        with pytest.raises(SendFailed) as failed:
            await send(closed, build_message(reply_mail()), sender=SUPPORT, recipients=[JAN])

    assert not failed.value.permanent
    assert "SMTPConnectError" in failed.value.reason


async def test_a_server_that_never_answers_times_out_as_temporary() -> None:
    release = asyncio.Event()
    connections: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)
        await release.wait()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(SendFailed) as failed:
            await send(SmtpEndpoint(host="127.0.0.1", port=port, security="none",
                                    timeout_s=0.2),
                       build_message(reply_mail()), sender=SUPPORT, recipients=[JAN])
    finally:
        release.set()
        for writer in connections:
            writer.close()
        server.close()
        await server.wait_closed()
    assert not failed.value.permanent
    assert "Timeout" in failed.value.reason


async def test_starttls_required_but_not_offered_is_refused(sink: SmtpSink) -> None:
    with pytest.raises(SendFailed) as failed:
        await send_to(sink, reply_mail(), query="?starttls=required")
    assert not failed.value.permanent and "STARTTLS" in failed.value.reason
    assert sink.messages == []


async def test_international_addresses() -> None:
    async with smtp_sink() as sink:
        await send_to(sink, reply_mail(to_address="jan@exämple.nl"))
        await send_to(sink, reply_mail(to_address="zoë@example.nl", to_name="Zoë"))
        ascii_domain, utf8_local = await sink.wait_for(2)
    # An IDN domain needs no SMTPUTF8 (RFC 5890 A-label); a non-ASCII local part does.
    assert ascii_domain.rcpt_tos == ["jan@xn--exmple-cua.nl"]
    assert "SMTPUTF8" not in ascii_domain.mail_options
    assert utf8_local.rcpt_tos == ["zoë@example.nl"]
    assert "SMTPUTF8" in utf8_local.mail_options
    assert "To: Zoë <zoë@example.nl>".encode() in utf8_local.raw


# --- SMTP AUTH (plain text is allowed by the sink on loopback only) -------------------------


async def test_auth_with_user_and_password() -> None:
    async with smtp_sink(credentials={"support@example.nl": "p@ss:w0rd"}) as sink:
        await send_to(sink, reply_mail(), query="?starttls=none",
                      userinfo="support%40example.nl:p%40ss%3Aw0rd@")
        [received] = await sink.wait_for(1)
    assert received.authenticated_as == "support@example.nl"


async def test_a_wrong_password_is_permanent_and_never_shown() -> None:
    async with smtp_sink(credentials={"support": "geheim"}) as sink:
        with pytest.raises(SendFailed) as failed:
            await send_to(sink, reply_mail(), query="?starttls=none",
                          userinfo="support:verkeerd-wachtwoord@")
        assert sink.messages == [] and sink.logins
    assert failed.value.permanent and failed.value.reason.startswith("535")
    assert "verkeerd-wachtwoord" not in failed.value.reason
    assert "verkeerd-wachtwoord" not in str(failed.value)


async def test_no_password_in_clear_when_starttls_was_only_opportunistic() -> None:
    # A server that offers no STARTTLS (or a man in the middle who strips it) gets no
    # password unless the URL says starttls=none.
    async with smtp_sink(credentials={"support": "geheim"}) as sink:
        with pytest.raises(SendFailed) as failed:
            await send_to(sink, reply_mail(), userinfo="support:geheim@")
        assert sink.logins == [] and sink.messages == []
    assert not failed.value.permanent and "STARTTLS" in failed.value.reason
    assert "geheim" not in failed.value.reason


async def test_a_sink_requiring_auth_refuses_an_anonymous_sender() -> None:
    async with smtp_sink(credentials={"support": "geheim"}) as sink:
        with pytest.raises(SendFailed) as failed:
            await send_to(sink, reply_mail())
    assert failed.value.permanent and failed.value.reason.startswith("530")


async def test_the_sink_closes_a_client_still_connected_and_leaves_no_task() -> None:
    async with smtp_sink() as sink:
        reader, writer = await asyncio.open_connection(sink.host, sink.port)
        assert (await reader.readline()).startswith(b"220 ")
        assert sink.open_connections == 1
    assert await reader.read() == b""  # the sink hung up
    writer.close()
    await writer.wait_closed()
    assert asyncio.all_tasks() == {asyncio.current_task()}


# --- TLS, with a certificate made for 127.0.0.1 ----------------------------------------------


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    from tests.conftest import unavailable

    root = tmp_path_factory.mktemp("smtp-tls")
    found = Certificate(cert=root / "cert.pem", key=root / "key.pem")
    openssl = shutil.which("openssl")
    if openssl is None:
        unavailable("openssl", FileNotFoundError("openssl is not on PATH"))
        raise AssertionError("unreachable")
    subprocess.run(  # noqa: S603 - fixed arguments
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(found.key), "-out", str(found.cert)],
        check=True, capture_output=True, timeout=60)
    return found


async def test_opportunistic_starttls_is_used_when_offered(certificate: Certificate) -> None:
    async with smtp_sink(tls_context=certificate.server()) as sink:
        await send_to(sink, reply_mail(), ssl_context=certificate.client())
        await send_to(sink, reply_mail(), query="?starttls=required",
                      ssl_context=certificate.client())
        received = await sink.wait_for(2)
    assert [r.tls for r in received] == [True, True]


async def test_implicit_tls(certificate: Certificate) -> None:
    async with smtp_sink(tls_context=certificate.server(), implicit_tls=True) as sink:
        await send_to(sink, reply_mail(), scheme="smtps", ssl_context=certificate.client())
        [received] = await sink.wait_for(1)
    assert received.tls and received.rcpt_tos == [JAN]


async def test_the_password_goes_over_opportunistic_starttls(certificate: Certificate) -> None:
    async with smtp_sink(credentials={"support": "geheim"},
                         tls_context=certificate.server()) as sink:
        await send_to(sink, reply_mail(), userinfo="support:geheim@",
                      ssl_context=certificate.client())
        [received] = await sink.wait_for(1)
    assert received.tls and received.authenticated_as == "support"


@pytest.mark.parametrize(("scheme", "implicit"), [("smtp", False), ("smtps", True)])
async def test_a_certificate_nobody_vouched_for_is_a_temporary_failure(
        certificate: Certificate, scheme: str, implicit: bool) -> None:
    async with smtp_sink(tls_context=certificate.server(), implicit_tls=implicit) as sink:
        with pytest.raises(SendFailed) as failed:
            await send_to(sink, reply_mail(), scheme=scheme)  # the system's trust store
        assert sink.messages == []
    assert not failed.value.permanent
    assert "certificate" in failed.value.reason.lower()
