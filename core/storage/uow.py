"""The SQL unit of work: one connection, one transaction, rolled back unless committed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core.domain.clock import Clock
from core.ports import (
    AccessRepository,
    AuditLog,
    BlobStore,
    CallRepository,
    CaseRepository,
    ChannelCursors,
    ChatRepository,
    ContactRepository,
    CustomerRepository,
    IdentityRecords,
    Inbox,
    LeaseRepository,
    MessageRefs,
    NoteRepository,
    OutboundMessages,
    Outbox,
    PrivacyRecords,
    QuarantineRecords,
    Redactions,
    ReportQueries,
    RetentionQueries,
    RoutingRecords,
    SlaRepository,
    SurveyRepository,
    VerificationRepository,
    WallboardQueries,
    WorkforceRepository,
    WorkRepository,
)
from core.storage.audit import SqlAuditLog
from core.storage.calls import SqlCalls
from core.storage.chat import SqlChat
from core.storage.contacts import SqlCases, SqlContacts
from core.storage.customers import SqlCustomers
from core.storage.engine import WRITE
from core.storage.identity_records import SqlIdentityRecords
from core.storage.leases import SqlLeases
from core.storage.messaging import (
    SqlBlobs,
    SqlChannelCursors,
    SqlMessageRefs,
    SqlOutboundMessages,
    SqlQuarantine,
)
from core.storage.notes import SqlNotes
from core.storage.outbox import OutboxWriter, SqlInbox
from core.storage.privacy import SqlPrivacy
from core.storage.redaction import SqlRedactions
from core.storage.reports import SqlReports
from core.storage.retention import SqlRetention
from core.storage.routing import SqlRoutingRecords
from core.storage.sla import SqlSla
from core.storage.surveys import SqlSurveys
from core.storage.verifications import SqlVerifications
from core.storage.wallboard import SqlWallboard
from core.storage.work import SqlWork
from core.storage.workforce import SqlAccess, SqlWorkforce


class SqlUnitOfWork:
    def __init__(self, engine: AsyncEngine, clock: Clock, *,
                 on_events_committed: Callable[[], None] | None = None,
                 read_only: bool = False) -> None:
        self._engine = engine
        # A read-only unit of work uses a deferred transaction that never takes SQLite's
        # write lock, so reads run beside the writer (WAL).
        self._read_only = read_only
        self._clock = clock
        self._on_events_committed = on_events_committed
        self._conn: AsyncConnection | None = None
        self._outbox = OutboxWriter(clock)
        self.outbox: Outbox = self._outbox

    @property
    def connection(self) -> AsyncConnection:
        if self._conn is None:
            raise RuntimeError("the unit of work is not open")
        return self._conn

    async def __aenter__(self) -> Self:
        conn = await self._engine.connect()
        if conn.dialect.name == "sqlite" and not self._read_only:
            conn = await conn.execution_options(**WRITE)
        self._conn = conn
        await conn.begin()
        self.customers: CustomerRepository = SqlCustomers(conn)
        self.contacts: ContactRepository = SqlContacts(conn)
        self.cases: CaseRepository = SqlCases(conn)
        self.identity: IdentityRecords = SqlIdentityRecords(conn)
        self.workforce: WorkforceRepository = SqlWorkforce(conn)
        self.access: AccessRepository = SqlAccess(conn)
        self.routing: RoutingRecords = SqlRoutingRecords(conn)
        self.work: WorkRepository = SqlWork(conn)
        self.sla: SlaRepository = SqlSla(conn)
        self.inbox: Inbox = SqlInbox(conn, self._clock)
        self.blobs: BlobStore = SqlBlobs(conn, self._clock)
        self.channel_cursors: ChannelCursors = SqlChannelCursors(conn, self._clock)
        self.quarantine: QuarantineRecords = SqlQuarantine(conn, self._clock)
        self.message_refs: MessageRefs = SqlMessageRefs(conn)
        self.outbound: OutboundMessages = SqlOutboundMessages(conn)
        self.chat: ChatRepository = SqlChat(conn)
        self.calls: CallRepository = SqlCalls(conn, self._clock)
        self.reports: ReportQueries = SqlReports(conn)
        self.wallboard: WallboardQueries = SqlWallboard(conn)
        self.verifications: VerificationRepository = SqlVerifications(conn)
        self.leases: LeaseRepository = SqlLeases(conn)
        self.surveys: SurveyRepository = SqlSurveys(conn)
        self.notes: NoteRepository = SqlNotes(conn)
        self.audit: AuditLog = SqlAuditLog(conn)
        self.privacy: PrivacyRecords = SqlPrivacy(conn)
        self.redactions: Redactions = SqlRedactions(conn)
        self.retention: RetentionQueries = SqlRetention(conn)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            if conn.in_transaction():
                await conn.rollback()
        finally:
            await conn.close()

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        async with self.connection.begin_nested():
            yield

    async def commit(self) -> None:
        conn = self.connection
        flushed = await self._outbox.flush(conn)
        await conn.commit()
        if flushed and self._on_events_committed is not None:
            self._on_events_committed()
