"""A phone call through Twilio, webhook by webhook: recognise the caller, walk the menu,
serve self-service, put the caller in the queue (or take a callback or voicemail) and log
the call on the customer's timeline.

Every webhook may arrive twice or late (Twilio retries): a call is stored once per CallSid,
each (CallSid, status) callback is applied once, and the call's state only moves forward.
Signatures are checked before any of this runs (``channels.voice.signature``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from twilio.twiml.voice_response import VoiceResponse

from channels.voice import twiml
from channels.voice.menu import DEMO_MENU, Language, Menu, Option, Route
from channels.voice.verification import LINK_CODE_NODE, LINK_NUMBER_NODE, PhoneVerification
from core.domain.audit import SELF_SERVICE
from core.domain.calls import Call, CallOutcome, CallStatus
from core.domain.channels import Channel, Direction
from core.domain.clock import Clock
from core.domain.commands import IngestContact, Party
from core.domain.contact import Case, CaseStatus, CaseType, Priority
from core.domain.customer import Customer
from core.domain.errors import DomainError
from core.domain.events import ConversationEnded
from core.domain.workforce import Role
from core.identity.normalise import normalise_phone
from core.ports import UnitOfWork, UnitOfWorkFactory
from core.services.ingest import AlsoInTransaction, ContactIngestion, IngestResult
from core.services.profiles import CustomerProfiles, ProfileChanges
from core.services.surveys import Surveys
from core.services.withdrawal import withdraw_waiting_work
from routing.configuration import ConfigurationLoader

MENU_KEY = "ivr"
COMPLAINT_NODE = "_open_complaint"
PREFERENCE_NODE = "_preferred_channel"
_PREFERENCES = {"1": Channel.EMAIL, "2": Channel.PHONE}
_PRIORITIES = {"low": Priority.LOW, "normal": Priority.NORMAL, "high": Priority.HIGH,
               "urgent": Priority.URGENT}
_STATUS_WORDS = {
    "nl": {CaseStatus.NEW: "ontvangen", CaseStatus.OPEN: "in behandeling",
           CaseStatus.PENDING: "wacht op uw reactie", CaseStatus.RESOLVED: "opgelost",
           CaseStatus.CLOSED: "gesloten"},
    "en": {CaseStatus.NEW: "received", CaseStatus.OPEN: "being handled",
           CaseStatus.PENDING: "waiting for your reply", CaseStatus.RESOLVED: "resolved",
           CaseStatus.CLOSED: "closed"},
}
_TYPE_WORDS = {"nl": {CaseType.QUESTION: "vraag", CaseType.COMPLAINT: "klacht",
                      CaseType.REQUEST: "verzoek"},
               "en": {CaseType.QUESTION: "question", CaseType.COMPLAINT: "complaint",
                      CaseType.REQUEST: "request"}}
_LINES = {
    "connect": ("Een moment, u wordt doorverbonden.", "One moment, we are putting you through."),
    "position": ("U bent nummer {n} in de wachtrij.", "You are number {n} in the queue."),
    "callback_offer": ("Toets 1 als u liever wordt teruggebeld.",
                       "Press 1 if you would rather be called back."),
    "callback": ("Dank u. We bellen u terug op dit nummer.",
                 "Thank you. We will call you back on this number."),
    "no_cases": ("Er staan geen vragen of klachten van u open.",
                 "You have no open questions or complaints."),
    "case": ("Uw {type} met nummer {number} is {status}.",
             "Your {type} number {number} is {status}."),
    "unknown_caller": ("We herkennen uw telefoonnummer niet; een medewerker helpt u verder.",
                       "We do not recognise your number; an agent will help you."),
    "open_complaint": ("U heeft een openstaande klacht. Toets 1 om doorverbonden te worden met "
                       "degene die die behandelt, of wacht op het menu.",
                       "You have an open complaint. Press 1 to be put through to the person "
                       "handling it, or wait for the menu."),
    "preference_ask": ("Toets 1 als we u voortaan het liefst per e-mail benaderen, toets 2 "
                       "voor telefoon.", "Press 1 if you prefer us to contact you by e-mail, "
                       "press 2 for phone."),
    "preference_saved": ("Uw voorkeur is opgeslagen: {channel}.",
                         "Your preference is saved: {channel}."),
    "survey_ask": ("Hoe tevreden bent u over dit gesprek? Toets een cijfer van 1, heel "
                   "ontevreden, tot 5, heel tevreden.", "How satisfied are you with this "
                   "call? Press a number from 1, very dissatisfied, to 5, very satisfied."),
    "survey_thanks": ("Dank u wel voor uw antwoord. Tot ziens.",
                      "Thank you for your answer. Goodbye."),
    "goodbye": ("Dank u wel voor het bellen. Tot ziens.", "Thank you for calling. Goodbye."),
    "voicemail_thanks": ("Dank u, we bellen u terug.", "Thank you, we will call you back."),
    "sorry": ("Er is een storing. Spreek na de toon uw naam en nummer in, dan bellen we u "
              "terug.", "We have a technical problem. Please leave your name and number "
              "after the tone and we will call you back."),
}


def line(key: str, language: Language, **values: object) -> str:
    nl, en = _LINES[key]
    return (en if language == "en" else nl).format(**values)


@dataclass(frozen=True, slots=True)
class Caller:
    customer: Customer | None
    open_cases: list[Case]

    def name(self) -> str | None:
        return self.customer.display_name if self.customer else None


class VoiceService:
    def __init__(self, *, uow: UnitOfWorkFactory, read_uow: UnitOfWorkFactory,
                 ingestion: ContactIngestion, clock: Clock, loader: ConfigurationLoader,
                 profiles: CustomerProfiles, default_region: str,
                 verification: PhoneVerification, surveys: Surveys | None = None) -> None:
        self._profiles = profiles
        self._verification = verification
        self._surveys = surveys
        self._uow = uow
        self._read_uow = read_uow  # lookups never wait for (or hold) the write lock
        self._ingestion = ingestion
        self._clock = clock
        self._loader = loader
        self._region = default_region

    # --- webhooks --------------------------------------------------------------------

    async def incoming(self, p: Mapping[str, str]) -> str:
        call, caller, menu = await self._start(p)
        language: Language = "en" if call.language == "en" else "nl"
        response = VoiceResponse()
        name = caller.name()
        twiml.say(response, menu, language,
                  menu.greeting(language).format(name=f", {name}" if name else ""))
        if not await self._open_now():
            return self._voicemail(response, menu, language, call.sid)
        complaint = next((c for c in caller.open_cases if c.type is CaseType.COMPLAINT), None)
        if complaint is not None:
            gather = twiml.gather(response, menu, language, hints=[],
                                  action=twiml.url("menu", node=COMPLAINT_NODE, lang=language,
                                                   case=complaint.id))
            twiml.say(gather, menu, language, line("open_complaint", language))
            return twiml.xml(response)
        return self._menu(response, menu, language, "root", attempt=0)

    async def menu_step(self, p: Mapping[str, str], *, node: str, language: Language,
                        attempt: int, case_id: str | None) -> str:
        menu = await self.menu_definition()
        sid = p.get("CallSid", "")
        response = VoiceResponse()
        digits, speech = p.get("Digits"), p.get("SpeechResult")
        if node == PREFERENCE_NODE:
            await self._save_preference(response, menu, language, sid, digits)
            return self._menu(response, menu, language, "root", attempt=0)
        if node in (LINK_NUMBER_NODE, LINK_CODE_NODE):
            return await self._link_number(response, menu, language, node, sid, p)
        if node == COMPLAINT_NODE:
            if digits == "1" and case_id:
                return await self._route(response, menu, language, sid, p, Route(
                    case_type="complaint", topic="open_complaint"), path="open_complaint",
                    case_id=case_id)
            return self._menu(response, menu, language, "root", attempt=0)
        option = menu.choose(node, digits=digits, speech=speech)
        if option is None:
            if attempt >= menu.retries:
                return await self._route(response, menu, language, sid, p, menu.agent_route,
                                         path="no_choice")
            if digits or speech:
                twiml.say(response, menu, language, menu.invalid(language))
            return self._menu(response, menu, language, node, attempt=attempt + 1)
        return await self._option(response, menu, language, node, option, sid, p)

    async def wait(self, p: Mapping[str, str], *, language: Language, menu_hold: str) -> str:
        menu = await self.menu_definition()
        response = VoiceResponse()
        position = p.get("QueuePosition")
        if position and position.isdigit():
            twiml.say(response, menu, language, line("position", language, n=int(position)))
        gather = response.gather(num_digits=1, timeout=1, method="POST",
                                 action=twiml.url("callback", lang=language))
        twiml.say(gather, menu, language, line("callback_offer", language))
        if menu_hold:
            response.play(menu_hold)
        else:
            response.pause(length=10)
        return twiml.xml(response)

    async def callback(self, p: Mapping[str, str], *, language: Language) -> str:
        menu = await self.menu_definition()
        response = VoiceResponse()
        if p.get("Digits") != "1":
            return twiml.xml(response)  # back to the queue's wait music
        async with self._uow() as uow:
            call = await uow.calls.get(p.get("CallSid", ""))
            if call is not None and call.case_id:
                call.outcome = CallOutcome.CALLBACK
                await uow.calls.save(call)
                case = await uow.cases.get(call.case_id)
                if case is not None and "terugbellen" not in case.tags:
                    case.tags = [*case.tags, "terugbellen"]
                    await uow.cases.save(case)
                await uow.commit()
        twiml.say(response, menu, language, line("callback", language))
        response.leave()
        return twiml.xml(response)

    async def status(self, p: Mapping[str, str]) -> None:
        """Status callbacks: applied once per (CallSid, status), only ever forward."""
        sid, raw = p.get("CallSid", ""), p.get("CallStatus", "")
        try:
            status = CallStatus(raw)
        except ValueError:
            return
        async with self._uow() as uow:
            call = await uow.calls.get(sid)
            if call is None or not await uow.calls.first_event(sid, f"status:{status.value}"):
                return
            if not call.advance(status):
                await uow.commit()  # recorded, but late: it changes nothing
                return
            now = self._clock.now()
            # "in-progress" means our TwiML answered; answered_at is when an agent did.
            if status.final:
                call.ended_at = now
                duration = p.get("CallDuration", "")
                call.duration_s = int(duration) if duration.isdigit() else None
                call.outcome = call.outcome or _outcome(call)
                if call.outcome is CallOutcome.ABANDONED and call.case_id:
                    uow.outbox.add(await withdraw_waiting_work(
                        uow, call.case_id, reason="caller hung up", now=now))
                if call.answered_at is not None and call.case_id:
                    uow.outbox.add([_conversation_ended(call.case_id, now, "call ended")])
            await uow.calls.save(call)
            await uow.commit()
        if status.final:
            await self._log_call(call)

    async def recording(self, p: Mapping[str, str], *, language: Language) -> str:
        """A voicemail: a case to call the customer back, with the recording's link."""
        menu = await self.menu_definition()
        sid, recording = p.get("CallSid", ""), p.get("RecordingUrl", "")
        async with self._uow() as uow:
            call = await uow.calls.get(sid)
        if call is not None and recording:
            result = await self._ingest(call, Route(case_type="request",
                                                    tags=("voicemail", "terugbellen"),
                                                    topic="voicemail"),
                                        extra=(("recording_url", recording),))
            async with self._uow() as uow:
                stored = await uow.calls.get(sid)
                if stored is not None:
                    stored.contact_id, stored.case_id = result
                    stored.outcome, stored.recording_url = CallOutcome.VOICEMAIL, recording
                    await uow.calls.save(stored)
                    await uow.commit()
        response = VoiceResponse()
        twiml.say(response, menu, language, line("voicemail_thanks", language))
        response.hangup()
        return twiml.xml(response)

    async def connect(self, p: Mapping[str, str], *, caller_id: str) -> str:
        """Click-to-call: the agent answered their leg; now dial the customer."""
        async with self._read_uow() as uow:
            call = await uow.calls.get(p.get("CallSid", ""))
        response = VoiceResponse()
        if call is None or call.direction != "outbound":
            response.hangup()
            return twiml.xml(response)
        dial = response.dial(caller_id=caller_id, answer_on_bridge=True)
        dial.number(call.to_number)
        return twiml.xml(response)

    async def after_call(self, p: Mapping[str, str]) -> str:
        """The agent hung up and the caller is still on the line: ask the satisfaction
        question (one key, 1 to 5) when this customer is due one, else say goodbye."""
        response = VoiceResponse()
        async with self._uow() as uow:
            call = await uow.calls.get(p.get("CallSid", ""))
            if call is not None and call.case_id:  # the agent's part is over: wrap-up
                uow.outbox.add([_conversation_ended(call.case_id, self._clock.now(),
                                                    "agent hung up")])
                await uow.commit()
        surveys = self._surveys
        if call is not None and call.customer_id and surveys is not None \
                and await surveys.phone_survey_due(call.customer_id):
            invitation = await surveys.start(
                customer_id=call.customer_id, channel=Channel.PHONE, reference=call.sid,
                case_id=call.case_id, contact_id=call.contact_id, language=call.language)
            if invitation is not None:
                menu = await self.menu_definition()
                language: Language = "en" if call.language == "en" else "nl"
                gather = response.gather(input="dtmf", num_digits=1, timeout=menu.timeout_s,
                                         method="POST",
                                         action=twiml.url("survey", lang=language))
                twiml.say(gather, menu, language, line("survey_ask", language))
                twiml.say(response, menu, language, line("goodbye", language))
        response.hangup()
        return twiml.xml(response)

    async def survey_answer(self, p: Mapping[str, str], *, language: Language) -> str:
        response = VoiceResponse()
        menu = await self.menu_definition()
        digits = p.get("Digits", "")
        surveys = self._surveys
        invitation = (await surveys.invitation_for_call(p.get("CallSid", ""))
                      if surveys is not None else None)
        if surveys is not None and invitation is not None and digits in set("12345"):
            with contextlib.suppress(DomainError):  # answered already, or expired
                await surveys.record_answer(invitation.id, channel=Channel.PHONE,
                                            score=int(digits), language=language)
            twiml.say(response, menu, language, line("survey_thanks", language))
        else:
            twiml.say(response, menu, language, line("goodbye", language))
        response.hangup()
        return twiml.xml(response)

    @staticmethod
    def fallback(language: Language = "nl") -> str:
        """Says something sensible with no database: a voicemail the platform keeps."""
        response = VoiceResponse()
        voice = DEMO_MENU.voices[language]
        response.say(line("sorry", language), voice=voice.voice, language=voice.language)
        response.record(max_length=120, play_beep=True)
        response.hangup()
        return twiml.xml(response)

    async def menu_definition(self) -> Menu:
        async with self._read_uow() as uow:
            stored = await uow.routing.get_document(MENU_KEY)
        if stored is not None:
            try:
                return Menu.model_validate(stored.document)
            except ValueError:
                pass  # validated on save; an older shape falls back to the demo menu
        return DEMO_MENU

    # --- inside ----------------------------------------------------------------------

    async def _start(self, p: Mapping[str, str]) -> tuple[Call, Caller, Menu]:
        menu = await self.menu_definition()
        number = normalise_phone(p.get("From", ""), self._region)
        async with self._read_uow() as uow:
            caller = await self._identify(uow, number.normalized)
        async with self._uow() as uow:
            language = caller.customer.language if caller.customer and \
                caller.customer.language in ("nl", "en") else "nl"
            call = Call(sid=p.get("CallSid", ""), direction="inbound",
                        from_number=number.normalized or p.get("From", "")[:64],
                        to_number=p.get("To", "")[:64], language=language or "nl",
                        customer_id=caller.customer.id if caller.customer else None,
                        started_at=self._clock.now())
            if not await uow.calls.add(call):
                call = await uow.calls.get(call.sid) or call  # a retried webhook
            await uow.commit()
        return call, caller, menu

    async def _identify(self, uow: UnitOfWork, phone: str | None) -> Caller:
        if not phone:
            return Caller(customer=None, open_cases=[])
        found = await uow.customers.search(email=None, phone=phone, text=None, limit=2)
        if len(found) != 1:  # nobody, or a number two customers share: no guessing
            return Caller(customer=None, open_cases=[])
        return Caller(customer=found[0],
                      open_cases=await uow.cases.open_for_customer(found[0].id))

    async def _open_now(self) -> bool:
        async with self._read_uow() as uow:
            config = await self._loader.load(uow)
        return config.routing_calendar.is_open(self._clock.now())

    def _menu(self, response: VoiceResponse, menu: Menu, language: Language, node: str, *,
              attempt: int) -> str:
        definition = menu.nodes[node]
        gather = twiml.gather(response, menu, language,
                              action=twiml.url("menu", node=node, lang=language, attempt=attempt),
                              hints=[k for o in definition.options for k in o.keywords])
        twiml.say(gather, menu, language, definition.prompt(language))
        for option in definition.options:
            twiml.say(gather, menu, language, option.label(language))
        return twiml.xml(response)

    async def _option(self, response: VoiceResponse, menu: Menu, language: Language,
                      node: str, option: Option, sid: str, p: Mapping[str, str]) -> str:
        await self._remember(sid, f"{node}:{option.key}")
        if option.language is not None:
            other: Language = "en" if language == "nl" else "nl"
            await self._set_language(sid, other)
            return self._menu(response, menu, other, "root", attempt=0)
        if option.goto is not None:
            return self._menu(response, menu, language, option.goto, attempt=0)
        if option.self_service == "preferred_channel":
            return await self._ask_preference(response, menu, language, sid)
        if option.self_service == "link_number":
            return self._verification.ask_number(response, menu, language)
        if option.self_service == "case_status":
            await self._case_status(response, menu, language, sid)
            return self._menu(response, menu, language, "root", attempt=0)
        assert option.route is not None
        return await self._route(response, menu, language, sid, p, option.route,
                                 path=option.route.topic or option.key)

    async def _ask_preference(self, response: VoiceResponse, menu: Menu, language: Language,
                              sid: str) -> str:
        async with self._read_uow() as uow:
            call = await uow.calls.get(sid)
        if call is None or call.customer_id is None:
            twiml.say(response, menu, language, line("unknown_caller", language))
            return self._menu(response, menu, language, "root", attempt=0)
        gather = twiml.gather(response, menu, language, hints=[],
                              action=twiml.url("menu", node=PREFERENCE_NODE, lang=language))
        twiml.say(gather, menu, language, line("preference_ask", language))
        return twiml.xml(response)

    async def _save_preference(self, response: VoiceResponse, menu: Menu, language: Language,
                               sid: str, digits: str | None) -> None:
        """Self-service without an agent, recorded like any profile edit (who, how)."""
        chosen = _PREFERENCES.get(digits or "")
        async with self._read_uow() as uow:
            call = await uow.calls.get(sid)
        if chosen is None or call is None or call.customer_id is None:
            twiml.say(response, menu, language, menu.invalid(language))
            return
        await self._profiles.update(
            call.customer_id, ProfileChanges(values={"preferred_channel": chosen.value}),
            role=Role.AGENT, actor=SELF_SERVICE, by=f"caller {call.from_number}",
            via="phone self-service", contact_id=call.contact_id)
        word = {"nl": {Channel.EMAIL: "e-mail", Channel.PHONE: "telefoon"},
                "en": {Channel.EMAIL: "e-mail", Channel.PHONE: "phone"}}[language][chosen]
        twiml.say(response, menu, language, line("preference_saved", language, channel=word))

    async def _link_number(self, response: VoiceResponse, menu: Menu, language: Language,
                           node: str, sid: str, p: Mapping[str, str]) -> str:
        async with self._read_uow() as uow:
            call = await uow.calls.get(sid)
        if call is None:  # a step for a call we never saw start: treat it as new
            call, _, _ = await self._start(p)
        digits = p.get("Digits", "")
        if not digits.strip("#*"):
            return self._menu(response, menu, language, "root", attempt=0)
        if node == LINK_NUMBER_NODE:
            if await self._verification.number_entered(response, menu, language, sid=sid,
                                                       phone=call.from_number, digits=digits):
                return twiml.xml(response)
            return self._menu(response, menu, language, "root", attempt=0)
        step = await self._verification.code_entered(response, menu, language, sid=sid,
                                                     phone=call.from_number, digits=digits)
        if step.asking_again:
            return twiml.xml(response)
        if step.linked_customer_id is None:
            return self._menu(response, menu, language, "root", attempt=0)
        async with self._uow() as uow:  # the rest of this call knows who is calling
            stored = await uow.calls.get(sid)
            if stored is not None:
                stored.customer_id = step.linked_customer_id
                stored.outcome = stored.outcome or CallOutcome.SELF_SERVICE
                await uow.calls.save(stored)
                await uow.commit()
        return self._menu(response, menu, language, "root", attempt=0)

    async def _case_status(self, response: VoiceResponse, menu: Menu, language: Language,
                           sid: str) -> None:
        async with self._uow() as uow:
            call = await uow.calls.get(sid)
            customer_id = call.customer_id if call else None
            cases = await uow.cases.open_for_customer(customer_id) if customer_id else []
            if call is not None:
                call.outcome = call.outcome or CallOutcome.SELF_SERVICE
                await uow.calls.save(call)
                await uow.commit()
        if customer_id is None:
            twiml.say(response, menu, language, line("unknown_caller", language))
            return
        if not cases:
            twiml.say(response, menu, language, line("no_cases", language))
        for case in sorted(cases, key=lambda c: c.created_at, reverse=True)[:3]:
            twiml.say(response, menu, language, line(
                "case", language, type=_TYPE_WORDS[language][case.type],
                number=" ".join(str(case.number)), status=_STATUS_WORDS[language][case.status]))

    async def _route(self, response: VoiceResponse, menu: Menu, language: Language, sid: str,
                     p: Mapping[str, str], route: Route, *, path: str,
                     case_id: str | None = None) -> str:
        async with self._uow() as uow:
            call = await uow.calls.get(sid)
        if call is None:  # a menu step for a call we never saw start: treat it as new
            call, _, _ = await self._start(p)
        now = self._clock.now()

        async def link_call(uow: UnitOfWork, result: IngestResult) -> None:
            # In the contact's own transaction: by the time routing offers the case (and
            # the bridge looks for the call), the call already names it.
            stored = await uow.calls.get(sid)
            if stored is not None:
                stored.contact_id, stored.case_id = result.contact_id, result.case_id
                stored.enqueued_at = stored.enqueued_at or now
                if path not in stored.path:
                    stored.path.append(path)
                await uow.calls.save(stored)

        await self._ingest(call, route, case_id=case_id, also=link_call)
        twiml.say(response, menu, language, line("connect", language))
        response.enqueue(route.queue or "general", wait_url=twiml.url("wait", lang=language),
                         wait_url_method="POST")
        return twiml.xml(response)

    async def _ingest(self, call: Call, route: Route, *, case_id: str | None = None,
                      extra: tuple[tuple[str, str], ...] = (),
                      also: AlsoInTransaction | None = None) -> tuple[str, str | None]:
        result = await self._ingestion.ingest(IngestContact(
            channel=Channel.PHONE, direction=Direction.INBOUND, external_id=call.sid,
            party=caller_party(call), occurred_at=call.started_at,
            subject=None, summary=f"Telefoon: {route.topic or 'menu'}",
            from_address=call.from_number,
            metadata=(("call_sid", call.sid), ("ivr_choice", route.topic or ""),
                      ("language", call.language), ("menu_path", " > ".join(call.path)),
                      *extra),
            case_id=case_id, case_type=CaseType(route.case_type),
            priority=_PRIORITIES[route.priority] if route.priority else None,
            queue_id=route.queue, tags=route.tags), also=also)
        return result.contact_id, result.case_id

    async def _log_call(self, call: Call) -> None:
        """Every call is on the timeline: a routed call has its contact; update it, or
        log a call that ended in the menu (self-service, hung up) without a case."""
        facts = {"call_status": call.status.value,
                 "outcome": call.outcome.value if call.outcome else "",
                 "duration_s": str(call.duration_s or 0), "menu_path": " > ".join(call.path)}
        if call.enqueued_at and call.ended_at:
            waited_until = call.answered_at or call.ended_at
            facts["wait_s"] = str(int((waited_until - call.enqueued_at).total_seconds()))
        if call.answered_at and call.ended_at:
            facts["talk_s"] = str(int((call.ended_at - call.answered_at).total_seconds()))
        if call.recording_url:
            facts["recording_url"] = call.recording_url
        if call.contact_id is not None:
            async with self._uow() as uow:
                await uow.contacts.update_metadata(call.contact_id, facts)
                await uow.commit()
            return
        result = await self._ingestion.ingest(IngestContact(
            channel=Channel.PHONE, direction=Direction.INBOUND, external_id=call.sid,
            party=caller_party(call), occurred_at=call.started_at,
            summary="Telefoon zonder doorverbinden", from_address=call.from_number,
            metadata=(("call_sid", call.sid), *facts.items()), open_case=False))
        async with self._uow() as uow:
            stored = await uow.calls.get(call.sid)
            if stored is not None:
                stored.contact_id = result.contact_id
                await uow.calls.save(stored)
                await uow.commit()

    async def _remember(self, sid: str, step: str) -> None:
        async with self._uow() as uow:
            call = await uow.calls.get(sid)
            if call is not None:
                call.path.append(step)
                await uow.calls.save(call)
                await uow.commit()

    async def _set_language(self, sid: str, language: Language) -> None:
        async with self._uow() as uow:
            call = await uow.calls.get(sid)
            if call is not None:
                call.language = language
                await uow.calls.save(call)
                await uow.commit()

    def _voicemail(self, response: VoiceResponse, menu: Menu, language: Language,
                   sid: str) -> str:
        twiml.say(response, menu, language, menu.closed(language))
        response.record(action=twiml.url("recording", lang=language), method="POST",
                        max_length=120, play_beep=True, finish_on_key="#")
        return twiml.xml(response)


def _conversation_ended(case_id: str, at: datetime, reason: str) -> ConversationEnded:
    return ConversationEnded(case_id=case_id, channel=Channel.PHONE.value, ended_at=at,
                             reason=reason)


def caller_party(call: Call) -> Party:
    """Who called: their number, or for a withheld number an identity for this call only,
    never matched to anyone."""
    number = call.from_number if call.direction == "inbound" else call.to_number
    if number.startswith("+"):
        return Party(phone=number)
    return Party(visitor_id=f"call:{call.sid}")


def _outcome(call: Call) -> CallOutcome:
    if call.answered_at is not None and call.enqueued_at is not None:
        return CallOutcome.ANSWERED
    return CallOutcome.ABANDONED if call.enqueued_at is not None else CallOutcome.SELF_SERVICE
