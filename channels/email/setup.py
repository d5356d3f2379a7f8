"""The e-mail channel as the settings describe it, checked once at start-up: a wrong URL or
sender address stops the service with a clear message instead of failing on the first mail.
"""

from __future__ import annotations

from dataclasses import dataclass

from channels.email.imap import ImapEndpoint
from channels.email.intake import IntakeSettings, MailIntake
from channels.email.queueing import SenderIdentity
from channels.email.smtp import SmtpEndpoint
from core.config import MailboxSettings, Settings
from core.domain.clock import Clock
from core.ports import UnitOfWorkFactory
from core.services.ingest import ContactIngestion

_IMAP_PORTS = {"none": 143, "starttls": 143, "tls": 993}


@dataclass(frozen=True, slots=True, kw_only=True)
class EmailChannel:
    sender: SenderIdentity | None
    smtp: SmtpEndpoint | None
    mailboxes: tuple[tuple[MailboxSettings, ImapEndpoint], ...]
    intake_settings: IntakeSettings

    @property
    def can_send(self) -> bool:
        return self.sender is not None and self.smtp is not None

    @property
    def mailbox_addresses(self) -> dict[str, str | None]:
        return {mailbox.name: mailbox.address for mailbox, _ in self.mailboxes}

    def intake(self, source: str, *, uow: UnitOfWorkFactory, ingestion: ContactIngestion,
               clock: Clock) -> MailIntake | None:
        """The intake of the mailbox ``source`` (``imap:<name>``) names, if configured."""
        for mailbox, _ in self.mailboxes:
            if f"imap:{mailbox.name}" == source:
                return MailIntake(mailbox=mailbox, settings=self.intake_settings, uow=uow,
                                  ingestion=ingestion, clock=clock)
        return None

    @classmethod
    def from_settings(cls, settings: Settings) -> EmailChannel:
        sender = SenderIdentity.parse(settings.mail_from) if settings.mail_from else None
        smtp = (SmtpEndpoint.from_url(settings.smtp_url.get_secret_value())
                if settings.smtp_url else None)
        mailboxes = tuple((m, imap_endpoint(m)) for m in settings.all_mailboxes)
        names = [m.name for m, _ in mailboxes]
        if len(set(names)) != len(names):
            raise ValueError(f"mailbox names must differ: {', '.join(sorted(names))}")
        own = {m.address.lower() for m, _ in mailboxes if m.address}
        if sender is not None:
            own.add(sender.address.lower())
        return cls(sender=sender, smtp=smtp, mailboxes=mailboxes, intake_settings=IntakeSettings(
            sender=sender, own_addresses=frozenset(own), max_bytes=settings.mail_max_bytes,
            ack_per_sender_per_hour=settings.mail_ack_per_sender_per_hour,
            organisation=(sender.name if sender and sender.name else "Klantenservice")))


def imap_endpoint(mailbox: MailboxSettings) -> ImapEndpoint:
    if mailbox.url is not None:
        try:
            return ImapEndpoint.from_url(mailbox.url.get_secret_value())
        except ValueError as err:
            raise ValueError(f"mailbox {mailbox.name}: {err}") from None
    missing = [n for n in ("host", "user", "password") if getattr(mailbox, n) is None]
    if missing:
        raise ValueError(f"mailbox {mailbox.name}: give url, or host, user and password "
                         f"(missing: {', '.join(missing)})")
    assert mailbox.host is not None and mailbox.user is not None
    assert mailbox.password is not None
    return ImapEndpoint(host=mailbox.host, port=mailbox.port or _IMAP_PORTS[mailbox.security],
                        security=mailbox.security, user=mailbox.user,
                        password=mailbox.password.get_secret_value(), folder=mailbox.folder)
