"""The composition root: the one place that builds engines, clients and services.

Nothing is built at import time. ``build`` owns every resource it creates and releases
them in reverse order on exit; tests call the same function with their own settings.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

from channels.chat.service import ChatService, Transcripts
from channels.email.replies import EmailReplies
from channels.email.setup import EmailChannel
from channels.email.survey_mail import SurveyMailer
from channels.voice.bridge import CallBridge
from channels.voice.control import CallControl
from channels.voice.cti import CtiEvents
from channels.voice.outbound import ClickToCall, TwilioAccount
from channels.voice.references import phone_menu
from channels.voice.service import VoiceService
from channels.voice.signature import TwilioSignatures
from channels.voice.verification import CodeMail, PhoneVerification
from channels.webforms import catalogue as form_catalogue
from channels.webforms.submissions import Confirmations, FormSubmissions
from core.bus.inprocess import InProcessBus
from core.bus.push import InProcessPush, RedisPush
from core.bus.redis_streams import RedisStreamsBus
from core.config import Settings, redacted
from core.domain.clock import Clock, SystemClock
from core.domain.surveys import SurveyKind
from core.ports import EventBus, Push, UnitOfWork
from core.services import queue_references
from core.services.access import Access
from core.services.agents import CORE_QUEUE_REFERENCES, AgentAdmin
from core.services.cases import CaseUpdates
from core.services.identity_links import IdentityLinks
from core.services.ingest import ContactIngestion
from core.services.merges import CustomerMerges
from core.services.notes import CaseNotes
from core.services.profiles import CustomerProfiles
from core.services.queries import Queries
from core.services.surveys import SurveyPolicy, Surveys
from core.storage.engine import build_engine
from core.storage.uow import SqlUnitOfWork
from routing.configuration import ConfigurationLoader
from routing.desk import AgentDesk
from routing.dispatcher import Dispatcher
from routing.router import CaseRouter
from routing.rules_admin import RulesAdmin
from routing.sla_clocks import SlaTimer
from workers.metrics import Metrics
from workers.privacy import build_privacy, event_history
from workers.routing_workers import GROUPS
from workers.services import Services, Wakeups
from workers.surveys import SURVEYS_GROUP

log = logging.getLogger(__name__)

# Every consumer group is declared by every process at start-up, so no process can publish
# before a group exists and leave it without those events.
CONSUMER_GROUPS: tuple[str, ...] = (*GROUPS, SURVEYS_GROUP)


def _redis(settings: Settings) -> redis.Redis:
    assert settings.redis_url is not None
    return redis.Redis.from_url(
        settings.redis_url.get_secret_value(),
        retry=Retry(ExponentialBackoff(cap=2.0, base=0.05), retries=5),
        health_check_interval=15,
    )


def build_push(settings: Settings) -> Push:
    return InProcessPush() if settings.redis_url is None else RedisPush(_redis(settings))


def build_bus(settings: Settings) -> EventBus:
    if settings.redis_url is None:
        return InProcessBus(max_deliveries=settings.bus_max_deliveries)
    client = _redis(settings)
    return RedisStreamsBus(client, stream=settings.redis_stream,
                           max_deliveries=settings.bus_max_deliveries,
                           reclaim_idle_s=settings.bus_reclaim_idle_s)


def _twilio_account(settings: Settings) -> TwilioAccount | None:
    if not (settings.twilio_account_sid and settings.twilio_auth_token and settings.public_url):
        return None
    return TwilioAccount(account_sid=settings.twilio_account_sid,
                         auth_token=settings.twilio_auth_token.get_secret_value(),
                         public_url=settings.public_url, caller_id=settings.twilio_caller_id,
                         api_url=settings.twilio_api_url)


@asynccontextmanager
async def build(settings: Settings, *, clock: Clock | None = None,
                groups: tuple[str, ...] = CONSUMER_GROUPS) -> AsyncIterator[Services]:
    clock = clock or SystemClock()
    email = EmailChannel.from_settings(settings)  # before anything opens: fail fast
    url = settings.database_url.get_secret_value()
    log.info("storage: %s; bus: %s", redacted(url),
             redacted(settings.redis_url.get_secret_value()) if settings.redis_url
             else "in-process")
    engine = build_engine(url)
    bus = build_bus(settings)
    push = build_push(settings)
    # Its own client: erasure reads the stream in long chunks, apart from the consumers.
    history_client = _redis(settings) if settings.redis_url is not None else None
    try:
        await bus.declare_groups(groups)
        signal = asyncio.Event()

        def uow() -> UnitOfWork:
            return SqlUnitOfWork(engine, clock, on_events_committed=signal.set)

        def read_uow() -> UnitOfWork:
            return SqlUnitOfWork(engine, clock, read_only=True)

        region = settings.default_region
        loader = ConfigurationLoader()
        wakeups = Wakeups()
        ingestion = ContactIngestion(uow, clock, default_region=region)
        desk = AgentDesk(uow, clock, read_uow=read_uow)
        profiles = CustomerProfiles(uow, clock)
        surveys = Surveys(
            uow=uow, read_uow=read_uow, clock=clock, policy=SurveyPolicy(
                enabled=settings.survey_enabled, kind=SurveyKind(settings.survey_kind),
                min_days_between=settings.survey_min_days_between,
                valid_for=timedelta(days=settings.survey_valid_days)),
            mailer=SurveyMailer(sender=email.sender, can_send=email.can_send,
                                public_url=settings.public_url))
        yield Services(
            settings=settings, clock=clock, engine=engine, bus=bus, uow=uow, read_uow=read_uow,
            outbox_signal=signal,
            ingestion=ingestion,
            merges=CustomerMerges(uow, clock),
            profiles=profiles,
            case_updates=CaseUpdates(uow, clock),
            notes=CaseNotes(uow, read_uow, clock),
            queries=Queries(read_uow, default_region=region),
            access=Access(uow, read_uow, clock, session_ttl=timedelta(
                hours=settings.session_ttl_hours)),
            agents=AgentAdmin(uow, read_uow, clock, queue_references=(
                *CORE_QUEUE_REFERENCES, phone_menu,
                queue_references.documents({form_catalogue.KEY: "the web forms"}))),
            instance=f"{socket.gethostname()}-{os.getpid()}",
            push=push,
            loader=loader,
            router=CaseRouter(loader),
            dispatcher=Dispatcher(uow, clock, read_uow=read_uow),
            desk=desk,
            sla_timer=SlaTimer(uow, clock),
            rules_admin=RulesAdmin(uow, read_uow, clock),
            wakeups=wakeups,
            email=email,
            email_replies=EmailReplies(
                uow=uow, ingestion=ingestion, clock=clock, sender=email.sender,
                mailbox_addresses=email.mailbox_addresses, can_send=email.can_send,
                wake=wakeups.mail),
            forms=FormSubmissions(uow=uow, ingestion=ingestion, clock=clock,
                                  confirmations=Confirmations(
                                      sender=email.sender, can_send=email.can_send,
                                      per_address_per_hour=settings.mail_ack_per_sender_per_hour,
                                      wake=wakeups.mail)),
            chat=ChatService(uow=uow, ingestion=ingestion, clock=clock, push=push,
                             loader=loader, transcripts=Transcripts(
                                 sender=email.sender, can_send=email.can_send,
                                 wake=wakeups.mail)),
            voice=VoiceService(uow=uow, read_uow=read_uow, ingestion=ingestion, clock=clock,
                               loader=loader, profiles=profiles, default_region=region,
                               verification=PhoneVerification(
                                   links=IdentityLinks(uow, clock), clock=clock,
                                   mail=CodeMail(sender=email.sender, can_send=email.can_send,
                                                 wake=wakeups.mail)),
                               surveys=surveys),
            cti=CtiEvents(uow=uow, ingestion=ingestion, clock=clock, default_region=region),
            calls=ClickToCall(account=_twilio_account(settings), uow=uow, ingestion=ingestion,
                              clock=clock, default_region=region),
            bridge=CallBridge(account=_twilio_account(settings), uow=uow, read_uow=read_uow,
                              clock=clock, desk=desk),
            call_control=CallControl(account=_twilio_account(settings), read_uow=read_uow),
            surveys=surveys,
            twilio_signatures=(
                TwilioSignatures(settings.twilio_auth_token.get_secret_value(),
                                 settings.public_url)
                if settings.twilio_auth_token and settings.public_url else None),
            privacy=build_privacy(settings, uow=uow, read_uow=read_uow, clock=clock,
                                  history=event_history(settings, history_client),
                                  instance=f"{socket.gethostname()}-{os.getpid()}"),
            metrics=Metrics(),
        )
    finally:
        if history_client is not None:
            await history_client.aclose()
        await push.close()
        await bus.close()
        await engine.dispose()
