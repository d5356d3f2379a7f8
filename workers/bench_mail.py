"""``switchboard bench mail``: messages taken in per second from a real Dovecot mailbox.

It starts a private Dovecot (or uses ``--imap-url``), appends ``--messages`` realistic
messages (Dutch and English, plain and HTML with an attachment, replies, a few customers
writing several times), then measures one mailbox pass of the real poller end to end —
fetch in batches, parse, match the customer, file on a case, store raw bytes and
attachments, mark ``\\Seen``, move the cursor — into a fresh SQLite file (or
``--database-url``). Beside it, measured the same way on the same messages, the raw limits:
parsing alone, and IMAP fetching alone.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path

from channels.email.imap import ImapEndpoint, MailboxSession
from channels.email.intake import MailIntake
from channels.email.parsing import parse_message
from channels.email.poller import BATCH, MailboxPoller
from core.config import MailboxSettings, Settings
from core.storage import migrate
from core.storage.engine import build_engine
from workers import bootstrap
from workers.dovecot import Dovecot

SUBJECTS = ("Vraag over mijn factuur", "Klacht over de bezorging", "Adreswijziging",
            "Question about my order", "Refund request", "Storing internet")
BODIES = ("Beste klantenservice,\n\nOp mijn factuur van oktober staat een bedrag dat ik niet "
          "herken. Kunt u dit nakijken?\n\nMet vriendelijke groet,\n{name}",
          "Hello,\n\nMy order has not arrived yet although it was promised for Monday. "
          "Could you tell me where it is?\n\nKind regards,\n{name}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--messages", type=int, default=2000,
                        help="mail: messages appended to the mailbox and taken in")
    parser.add_argument("--imap-url", default=None,
                        help="mail: an existing, empty mailbox to use instead of a private "
                             "Dovecot (it is filled)")


def messages(count: int, rng: random.Random) -> list[bytes]:
    found: list[bytes] = []
    for n in range(count):
        customer = rng.randrange(max(1, count // 4))
        name = f"Klant {customer}"
        message = EmailMessage(policy=SMTP)
        message["From"] = f"{name} <klant{customer}@example.nl>"
        message["To"] = "support@example.nl"
        message["Subject"] = f"{rng.choice(SUBJECTS)} {n}"
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = f"<bench.{n}.{rng.getrandbits(64):x}@example.nl>"
        text = rng.choice(BODIES).format(name=name)
        if n % 5 == 0:
            text += "\n\nOp 20 november 2026 schreef Klantenservice:\n> Dank voor uw bericht."
        message.set_content(text)
        if n % 3 == 0:
            message.add_alternative(f"<p>{text}</p><img src='https://tracker.example/x.png'>",
                                    subtype="html")
        if n % 10 == 0:
            message.add_attachment(rng.randbytes(20_000), maintype="application",
                                   subtype="pdf", filename=f"factuur-{n}.pdf")
        found.append(message.as_bytes())
    return found


async def _fill(endpoint: ImapEndpoint, raws: list[bytes]) -> None:
    async with MailboxSession(endpoint) as session:
        for raw in raws:
            await session.append(raw)


async def _fetch_only(endpoint: ImapEndpoint) -> tuple[int, float]:
    async with MailboxSession(endpoint) as session:
        started = time.perf_counter()
        last, fetched = 0, 0
        while uids := await session.uids_after(last, limit=BATCH):
            fetched += len(await session.fetch(uids))
            last = max(uids)
        return fetched, time.perf_counter() - started


async def _intake(endpoint: ImapEndpoint, database_url: str | None) -> tuple[int, float]:
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        engine = build_engine(url)
        try:
            await migrate.upgrade(engine)
        finally:
            await engine.dispose()
        mailbox = MailboxSettings(name="bench", host=endpoint.host, port=endpoint.port,
                                  security=endpoint.security, user=endpoint.user,
                                  password=endpoint.password,
                                  folder=endpoint.folder)
        settings = Settings(database_url=url, redis_url=None, mailboxes=(mailbox,),
                            log_level="WARNING")
        async with bootstrap.build(settings) as services:
            intake = MailIntake(mailbox=mailbox, settings=services.email.intake_settings,
                                uow=services.uow, ingestion=services.ingestion,
                                clock=services.clock)
            poller = MailboxPoller(mailbox=mailbox, endpoint=endpoint, intake=intake,
                                   uow=services.uow)
            async with MailboxSession(endpoint) as session:
                started = time.perf_counter()
                handled = await poller.drain(session)
                return handled, time.perf_counter() - started


async def run(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    raws = messages(args.messages, rng)
    size = sum(len(r) for r in raws) / len(raws)
    server: Dovecot | None = None
    if args.imap_url:
        endpoint = ImapEndpoint.from_url(args.imap_url)
    else:
        server = Dovecot()
        await asyncio.to_thread(server.start)
        endpoint = server.add_user("bench")
    try:
        await _fill(endpoint, raws)
        started = time.perf_counter()
        for raw in raws:
            parse_message(raw)
        parse_s = time.perf_counter() - started
        fetched, fetch_s = await _fetch_only(endpoint)
        handled, intake_s = await _intake(endpoint, args.database_url)
    finally:
        if server is not None:
            await asyncio.to_thread(server.stop)
    target = "SQLite (temporary file)" if args.database_url is None else "the given database"
    print("\n".join([
        f"$ switchboard bench mail --messages {args.messages}",
        f"mailbox: {'private Dovecot on 127.0.0.1' if server else 'the given IMAP URL'}, "
        f"{len(raws)} messages, {size / 1024:.1f} KiB on average",
        f"  taken in end to end: {handled / intake_s:.0f} messages/s "
        f"({handled} in {intake_s:.2f} s: fetch, parse, match, file, store, \\Seen, "
        f"cursor) into {target}",
        f"  raw limits: parsing alone {len(raws) / parse_s:.0f} messages/s; "
        f"IMAP fetch alone {fetched / fetch_s:.0f} messages/s (batches of {BATCH})",
    ]))
    return 0
