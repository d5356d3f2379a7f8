"""Settings: parsed once, typed, frozen; the only code that reads the environment.

Sources, highest priority first: keyword arguments (tests), ``SWITCHBOARD_*`` environment
variables, then the TOML file named by ``SWITCHBOARD_CONFIG``. Connection URLs may carry
passwords, so they are ``SecretStr`` and never show in a repr or a log line.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/switchboard.db"
MIB = 1024 * 1024


class MailboxSettings(BaseModel):
    """One IMAP mailbox to take mail from (``[[mailboxes]]`` in the settings file).

    Give ``url`` (``imap://user:pass@host:port/INBOX``, ``imaps://`` for TLS) or the parts.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$",
                      description="Short id: shown to agents, usable in routing rules.")
    url: SecretStr | None = None
    host: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    security: Literal["none", "starttls", "tls"] = "tls"
    user: str | None = None
    password: SecretStr | None = None
    folder: str = "INBOX"
    address: str | None = Field(
        default=None, description="The mailbox's own address: replies on its cases come "
        "from it, and mail from it is never taken in (no loops).")
    queue: str | None = None
    case_type: Literal["question", "complaint", "request"] | None = None
    tags: tuple[str, ...] = ()
    acknowledge: bool = Field(
        default=False, description="Send an automatic acknowledgement with the case "
        "reference when a message opens a new case.")
    move_to: str | None = Field(
        default=None, description="Move taken messages to this folder instead of marking "
        "them seen.")
    poll_interval_s: float = Field(
        default=60.0, gt=0, description="How often to look for mail when the server has "
        "no IDLE.")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_", frozen=True, extra="forbid")

    database_url: SecretStr = Field(
        default=SecretStr(DEFAULT_DATABASE_URL),
        description="SQLAlchemy URL; sqlite:/// and postgresql:// are given their async drivers.",
    )
    redis_url: SecretStr | None = Field(
        default=None, description="Redis URL; unset runs the event bus in-process."
    )
    redis_stream: str = Field(
        default="switchboard:events", min_length=1, max_length=100,
        description="Redis stream that carries the event pipeline (one per installation).")
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=0, le=65535)
    default_region: str = Field(
        default="NL", description="Region for phone numbers written without a country code."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "json"
    api_max_body_bytes: int = Field(default=1_048_576, ge=1024)
    bus_max_deliveries: int = Field(default=5, ge=1)
    bus_reclaim_idle_s: float = Field(default=30.0, gt=0)
    outbox_batch_size: int = Field(default=500, ge=1)
    drain_timeout_s: float = Field(default=10.0, ge=0)
    trusted_proxies: tuple[str, ...] = Field(
        default=(), description="Addresses or networks of the reverse proxies in front "
        "(e.g. [\"10.0.0.0/8\"]): only from them are X-Forwarded-For / -Proto / -Host "
        "believed, which gives rate limits the real client and cookies their Secure flag.")
    mailbox_lease_s: float = Field(
        default=30.0, ge=1.0, le=3600.0, description="Each IMAP mailbox is polled by one "
        "mail-intake process at a time, under a lease renewed every third of this; when "
        "that process dies, another takes over within this many seconds.")
    serve_workers: str = Field(
        default="all", pattern=r"^(all|none|[a-z-]+(,[a-z-]+)*)$",
        description="Which workers `switchboard serve` runs beside the web server: all (one "
        "process does everything), none (a web process of a scaled-out set, with workers "
        "started separately by `switchboard worker NAME`), or a comma-separated list.")
    session_ttl_hours: float = Field(
        default=12.0, gt=0, le=24 * 30, description="A browser login lasts this long "
        "(then the agent logs in again); logging out ends it at once.")
    metrics_port: int | None = Field(
        default=None, ge=0, le=65535, description="A second, small HTTP listener on this "
        "port (every process, workers too) answering /metrics, /healthz and /readyz without "
        "authentication: for Prometheus and Kubernetes probes, never exposed publicly. "
        "Unset: no such listener.")
    metrics_host: str = Field(
        default="127.0.0.1", description="Where the metrics listener listens (0.0.0.0 in a "
        "container, so Prometheus and the kubelet reach it).")
    metrics_token: SecretStr | None = Field(
        default=None, description="Bearer token that opens GET /metrics on the main HTTP "
        "port of a web process (for a scraper that can reach only that port). Unset: "
        "/metrics there answers 404.")

    imap_url: SecretStr | None = Field(
        default=None, description="One mailbox by URL, taken in as mailbox \"default\": "
        "imap://user:pass@host:port/INBOX (imaps:// for TLS).")
    smtp_url: SecretStr | None = Field(
        default=None, description="Where replies are sent: smtp://[user:pass@]host:port "
        "(STARTTLS when offered; ?starttls=required), smtps:// for TLS.")
    mail_from: str | None = Field(
        default=None, description="Sender of replies and acknowledgements, e.g. "
        "\"Klantenservice <support@example.nl>\"; also the domain of our Message-IDs.")
    mailboxes: tuple[MailboxSettings, ...] = ()
    mail_acknowledge: bool = Field(
        default=False, description="Acknowledge new cases in the SWITCHBOARD_IMAP_URL mailbox.")
    mail_max_bytes: int = Field(default=25 * MIB, ge=64 * 1024,
                                description="Largest message kept (raw bytes included).")
    twilio_account_sid: str | None = Field(default=None, description="Twilio account SID.")
    twilio_auth_token: SecretStr | None = Field(
        default=None, description="Twilio auth token: checks every webhook's signature.")
    public_url: str | None = Field(
        default=None, description="The base URL Twilio calls (as Twilio sees it, e.g. "
        "https://switchboard.example.nl behind a TLS proxy); webhook signatures cover it.")
    twilio_caller_id: str | None = Field(
        default=None, description="The number customers see when an agent calls them "
        "(a Twilio number of the account), E.164.")
    twilio_api_url: str = Field(
        default="https://api.twilio.com", description="Twilio's REST API (a local fake in "
        "tests).")
    twilio_hold_music_url: str | None = Field(
        default=None, description="Music callers hear while they wait (an MP3 URL); "
        "silence with announcements when unset.")
    cti_secret: SecretStr | None = Field(
        default=None, description="Shared secret for HMAC-signed CTI events from a PBX "
        "(POST /api/cti/events with X-Switchboard-Signature: sha256=<hex>).")
    chat_allowed_origins: tuple[str, ...] = Field(
        default=(), description="Sites whose pages may embed the chat widget, e.g. "
        "https://www.example.nl (its own pages are always allowed; \"*\" allows any).")
    mail_ack_per_sender_per_hour: int = Field(
        default=3, ge=0, description="At most this many acknowledgements to one address an "
        "hour: a loop breaker for auto-responders that do not say they are one.")
    survey_enabled: bool = Field(
        default=True, description="Ask customers how we did after a case is resolved: an "
        "e-mailed link, a question at the end of a chat, or after a call.")
    survey_kind: Literal["csat", "nps", "both"] = Field(
        default="csat", description="What a survey asks: csat (satisfied? 1-5), nps "
        "(recommend us? 0-10) or both; always with room for a comment.")
    survey_min_days_between: int = Field(
        default=30, ge=0, le=3650, description="Ask one customer at most once in this many "
        "days, on any channel (the per-customer frequency cap).")
    survey_valid_days: int = Field(
        default=14, ge=1, le=365, description="How long a survey can be answered.")

    # Retention (docs/security.md, "Privacy operations"): how long each kind of data is
    # kept; unset keeps it for ever. Enforced by the privacy worker.
    retention_raw_mail_days: int | None = Field(
        default=None, ge=1, le=36500, description="Delete the original bytes of e-mail "
        "(and of returned and quarantined mail) this many days after it arrived; the text, "
        "HTML view and attachments stay with the contact.")
    retention_recordings_days: int | None = Field(
        default=None, ge=1, le=36500, description="Remove the links to call recordings "
        "and voicemails this many days after the call.")
    retention_chat_transcripts_days: int | None = Field(
        default=None, ge=1, le=36500, description="Remove what was said in chats this "
        "many days after it was said (the lines' senders and times stay for reports).")
    retention_closed_cases_days: int | None = Field(
        default=None, ge=1, le=36500, description="Remove the content of cases (their "
        "contacts' text and files, notes, subject) this many days after they were closed, "
        "or resolved and left alone.")
    retention_web_forms_days: int | None = Field(
        default=None, ge=1, le=36500, description="Remove what was typed into web forms "
        "(and uploaded) this many days after it was sent.")
    retention_inactive_customers_days: int | None = Field(
        default=None, ge=1, le=36500, description="Erase customers with no contact for "
        "this many days (and no open case or legal hold). Off unless set.")
    retention_interval_s: float = Field(
        default=3600.0, ge=1.0, le=7 * 86400, description="How often the privacy worker "
        "applies the retention terms.")
    retention_batch_size: int = Field(
        default=500, ge=10, le=10_000, description="Rows removed per transaction, so a "
        "large backlog never holds one long transaction.")

    @field_validator("database_url", mode="after")
    @classmethod
    def _async_driver(cls, url: SecretStr) -> SecretStr:
        return SecretStr(with_async_driver(url.get_secret_value()))

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network") from None
        return value

    @field_validator("metrics_token")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("use at least 16 random characters (e.g. openssl rand -hex 32)")
        return value

    def secret_values(self) -> list[str]:
        """Every secret this configuration holds (tokens, and passwords also inside URLs),
        so log output can be scrubbed of them whatever a library prints at DEBUG."""
        found: list[SecretStr | None] = [
            self.database_url, self.redis_url, self.imap_url, self.smtp_url,
            self.twilio_auth_token, self.cti_secret, self.metrics_token]
        for mailbox in self.mailboxes:
            found += [mailbox.url, mailbox.password]
        values: set[str] = set()
        for secret in found:
            if secret is None:
                continue
            text = secret.get_secret_value()
            if "://" in text:
                password = urlsplit(text).password
                values.update({password, unquote(password)} if password else set())
            else:
                values.add(text)
        return sorted(v for v in values if len(v) >= 4)

    @field_validator("redis_url", "imap_url", "smtp_url", "mail_from", "twilio_account_sid",
                     "twilio_auth_token", "public_url", "twilio_hold_music_url",
                     "twilio_caller_id", "cti_secret", "metrics_token", "metrics_port",
                     mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value in ("", None) else value

    @field_validator("retention_raw_mail_days", "retention_recordings_days",
                     "retention_chat_transcripts_days", "retention_closed_cases_days",
                     "retention_web_forms_days", "retention_inactive_customers_days",
                     mode="before")
    @classmethod
    def _no_term(cls, value: object) -> object:
        return None if value in ("", None) else value

    @field_validator("default_region")
    @classmethod
    def _region_upper(cls, value: str) -> str:
        return value.upper()

    @property
    def all_mailboxes(self) -> tuple[MailboxSettings, ...]:
        """The configured mailboxes, plus ``default`` when ``SWITCHBOARD_IMAP_URL`` is set."""
        if self.imap_url is None:
            return self.mailboxes
        return (MailboxSettings(name="default", url=self.imap_url,
                                acknowledge=self.mail_acknowledge),
                *self.mailboxes)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.get_secret_value().startswith("sqlite")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get("SWITCHBOARD_CONFIG")
        if config_file:
            path = Path(config_file)
            if not path.is_file():
                raise FileNotFoundError(f"SWITCHBOARD_CONFIG names {path}, which is not a file")
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)


def with_async_driver(url: str) -> str:
    """Accept the URLs people write and give them the async driver SQLAlchemy needs."""
    for plain, driver in (
        ("sqlite://", "sqlite+aiosqlite://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain):]
    return url


def redacted(url: str) -> str:
    """A URL safe to log: the password, if any, replaced."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in credentials else f"{scheme}://{user}@{host}"
