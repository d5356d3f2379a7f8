"""Mail server URLs and the dedupe key."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from channels.email.dedupe import dedupe_key
from channels.email.imap import ImapEndpoint
from channels.email.setup import EmailChannel
from channels.email.smtp import SmtpEndpoint
from core.config import MailboxSettings, Settings


@pytest.mark.parametrize(("url", "expected"), [
    ("imap://support:geheim@imap.example.nl/INBOX",
     ("imap.example.nl", 143, "none", "support", "geheim", "INBOX")),
    ("imaps://support%40example.nl:p%40ss%3Aw0rd@imap.example.nl:1993/Klachten%20map",
     ("imap.example.nl", 1993, "tls", "support@example.nl", "p@ss:w0rd", "Klachten map")),
    ("imap://u:p@127.0.0.1:1143?starttls=1", ("127.0.0.1", 1143, "starttls", "u", "p", "INBOX")),
])
def test_imap_urls(url: str, expected: tuple[object, ...]) -> None:
    e = ImapEndpoint.from_url(url)
    assert (e.host, e.port, e.security, e.user, e.password, e.folder) == expected
    assert f"'{e.password}'" not in repr(e) and "password" not in repr(e)


@pytest.mark.parametrize("url", ["pop3://u:p@host/", "imap://host/INBOX", "imap://u:p@/INBOX",
                                 "imaps://u:p@host/?starttls=1", "imap://u:p@host:99999/"])
def test_bad_imap_urls_say_what_is_wrong_without_the_password(url: str) -> None:
    with pytest.raises(ValueError) as raised:
        ImapEndpoint.from_url(url)
    assert ":p@" not in str(raised.value)


@pytest.mark.parametrize(("url", "expected"), [
    ("smtp://mail.example.nl", ("mail.example.nl", 25, "opportunistic", None, None)),
    ("smtp://u:geheim@mail.example.nl:587?starttls=required",
     ("mail.example.nl", 587, "starttls", "u", "geheim")),
    ("smtps://u%40x.nl:p@mail.example.nl", ("mail.example.nl", 465, "tls", "u@x.nl", "p")),
    ("smtp://127.0.0.1:2525?starttls=none", ("127.0.0.1", 2525, "none", None, None)),
])
def test_smtp_urls(url: str, expected: tuple[object, ...]) -> None:
    e = SmtpEndpoint.from_url(url)
    assert (e.host, e.port, e.security, e.user, e.password) == expected
    assert "geheim" not in repr(e)


@pytest.mark.parametrize("url", ["http://mail.example.nl", "smtp://", "smtps://h?starttls=none",
                                 "smtp://h?starttls=maybe"])
def test_bad_smtp_urls(url: str) -> None:
    with pytest.raises(ValueError):
        SmtpEndpoint.from_url(url)


def test_the_environment_mailbox_and_configured_ones_are_checked_at_start() -> None:
    channel = EmailChannel.from_settings(Settings(
        imap_url=SecretStr("imap://u:p@imap.example.nl/INBOX"),
        mail_from="Klantenservice <support@example.nl>",
        smtp_url=SecretStr("smtp://mail.example.nl"),
        mailboxes=(MailboxSettings(name="klachten", host="imap.example.nl", user="k",
                                   password=SecretStr("p"), address="Klachten@Example.nl"),)))
    assert [m.name for m, _ in channel.mailboxes] == ["default", "klachten"]
    assert channel.mailboxes[1][1].port == 993
    assert channel.can_send
    assert channel.intake_settings.own_addresses == {"support@example.nl",
                                                     "klachten@example.nl"}

    with pytest.raises(ValueError, match="mailbox klachten: give url"):
        EmailChannel.from_settings(Settings(mailboxes=(MailboxSettings(name="klachten"),)))
    with pytest.raises(ValueError, match="one address"):
        EmailChannel.from_settings(Settings(mail_from="a@b.nl, c@d.nl"))
    with pytest.raises(ValueError, match="must differ"):
        EmailChannel.from_settings(Settings(mailboxes=(
            MailboxSettings(name="a", url=SecretStr("imap://u:p@h/")),
            MailboxSettings(name="a", url=SecretStr("imap://u:p@h/")))))


MESSAGE = (b"From: jan@example.nl\r\nTo: support@example.nl\r\nSubject: Vraag\r\n"
           b"Message-ID: <1@example.nl>\r\n\r\nHallo\r\n")


def test_the_dedupe_key_ignores_delivery_trace_but_not_content() -> None:
    delivered_twice = (b"Received: from mx2 by imap; Mon, 23 Nov 2026\r\n"
                       b"Delivered-To: klachten@example.nl\r\nX-Spam-Score: 1.2\r\n" + MESSAGE)
    assert dedupe_key(MESSAGE, "<1@example.nl>") == dedupe_key(delivered_twice,
                                                               "<1@example.nl>")
    assert dedupe_key(MESSAGE, "<1@example.nl>") != dedupe_key(
        MESSAGE.replace(b"Hallo", b"Hoi"), "<1@example.nl>")
    assert dedupe_key(MESSAGE, "<1@example.nl>") != dedupe_key(MESSAGE, "<2@example.nl>")
    assert dedupe_key(MESSAGE, None) == dedupe_key(MESSAGE.replace(b"\r\n", b"\n"), None)
