"""Everything a process needs, built once by the composition root and passed down."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from channels.chat.service import ChatService
from channels.email.replies import EmailReplies
from channels.email.setup import EmailChannel
from channels.voice.bridge import CallBridge
from channels.voice.control import CallControl
from channels.voice.cti import CtiEvents
from channels.voice.outbound import ClickToCall
from channels.voice.service import VoiceService
from channels.voice.signature import TwilioSignatures
from channels.webforms.submissions import FormSubmissions
from core.config import Settings
from core.domain.clock import Clock
from core.ports import EventBus, Push, UnitOfWorkFactory
from core.services.access import Access
from core.services.agents import AgentAdmin
from core.services.cases import CaseUpdates
from core.services.ingest import ContactIngestion
from core.services.merges import CustomerMerges
from core.services.notes import CaseNotes
from core.services.privacy import Privacy
from core.services.profiles import CustomerProfiles
from core.services.queries import Queries
from core.services.surveys import Surveys
from routing.configuration import ConfigurationLoader
from routing.desk import AgentDesk
from routing.dispatcher import Dispatcher
from routing.router import CaseRouter
from routing.rules_admin import RulesAdmin
from routing.sla_clocks import SlaTimer
from workers.metrics import Metrics


@dataclass(frozen=True, slots=True)
class Wakeups:
    """Set by whatever may change a loop's answer, so the loop runs now, not on a timer."""

    dispatch: asyncio.Event = field(default_factory=asyncio.Event)
    offers: asyncio.Event = field(default_factory=asyncio.Event)
    sla: asyncio.Event = field(default_factory=asyncio.Event)
    mail: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(frozen=True, slots=True, kw_only=True)
class Services:
    settings: Settings
    clock: Clock
    engine: AsyncEngine
    bus: EventBus
    uow: UnitOfWorkFactory
    read_uow: UnitOfWorkFactory
    # Set after every commit that queued events, so the relay publishes without polling.
    outbox_signal: asyncio.Event
    ingestion: ContactIngestion
    merges: CustomerMerges
    profiles: CustomerProfiles
    case_updates: CaseUpdates
    notes: CaseNotes
    queries: Queries
    access: Access
    agents: AgentAdmin
    instance: str  # this process's consumer name
    push: Push
    loader: ConfigurationLoader
    router: CaseRouter
    dispatcher: Dispatcher
    desk: AgentDesk
    sla_timer: SlaTimer
    rules_admin: RulesAdmin
    wakeups: Wakeups
    email: EmailChannel
    email_replies: EmailReplies
    forms: FormSubmissions
    chat: ChatService
    voice: VoiceService
    cti: CtiEvents
    calls: ClickToCall
    bridge: CallBridge
    call_control: CallControl
    surveys: Surveys
    twilio_signatures: TwilioSignatures | None
    privacy: Privacy  # erasure, retention, legal holds, consent
    metrics: Metrics  # this process's Prometheus registry (workers/metrics.py)

    async def readiness(self, timeout_s: float) -> dict[str, str]:
        checks: dict[str, str] = {}
        for name, probe in (("database", self._ping_database), ("bus", self.bus.ping)):
            try:
                async with asyncio.timeout(timeout_s):
                    await probe()
                checks[name] = "ok"
            except TimeoutError:
                checks[name] = f"no answer within {timeout_s:g} s"
            except Exception as err:  # noqa: BLE001 - any failure means "not ready"
                checks[name] = f"unreachable ({type(err).__name__})"
        return checks

    async def _ping_database(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))
