"""The full screen-pop on a real agent WebSocket, on SQLite and PostgreSQL.

Marieke (gold, EUR 1,250) has a phone call on her record and an open complaint whose
first-response target ran out, and writes again — from her address, with a phone number that
another customer holds (a possible duplicate) and an address typed into a form (a claim).
The offer that reaches the agent must carry all of it, with the script for the queue and
the knowledge the contact points to, and the times to measure the pop by.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.domain.channels import Channel, Direction
from core.domain.commands import IngestContact, Party
from core.domain.surveys import SurveyKind
from routing.scripts import DEMO_KNOWLEDGE, DEMO_SCRIPTS
from tests.support.centre import Centre, available, receive, running_centre

# A Tuesday morning in office hours, Europe/Amsterdam (10:30 local).
START = datetime(2026, 11, 17, 9, 30, tzinfo=UTC)
RULES: dict[str, Any] = {
    "default_queue": "q_general",
    "rules": [
        {"id": "complaints", "name": "Complaints to 2nd line",
         "condition": 'classification == "complaint"',
         "actions": {"queue": "q_complaints", "tier": 2, "skills": {"complaints": 3},
                     "tags": ["klacht"]}, "stop": True},
    ],
}
OTHERS_PHONE = "+31612345678"


@pytest.fixture
async def centre(database_url: str) -> AsyncIterator[Centre]:
    async with running_centre(database_url, START,
                              queues=("q_general", "q_complaints", "q_billing")) as running:
        yield running


async def setup(centre: Centre) -> None:
    await centre.publish(RULES)
    for path, body in (("/api/scripts", DEMO_SCRIPTS), ("/api/knowledge", DEMO_KNOWLEDGE)):
        saved = await centre.client.put(path, headers=centre.supervisor, json=body)
        assert saved.status == 200, await saved.text()


async def ingest(centre: Centre, external_id: str, channel: Channel, party: Party,
                 summary: str) -> str:
    """A contact that opens no case (so nothing is routed): history on the record."""
    result = await centre.services.ingestion.ingest(IngestContact(
        channel=channel, direction=Direction.INBOUND, external_id=external_id, party=party,
        summary=summary, open_case=False))
    return result.customer_id


async def test_the_offer_pops_the_whole_picture(centre: Centre) -> None:
    await setup(centre)
    _, chris_headers = await centre.agent("Chris", tier=2, skills={"complaints": 4},
                                          queues=["q_complaints"])
    _, anna_headers = await centre.agent("Anna", tier=1, skills={"nl": 5},
                                         queues=["q_general"])

    # A call on her record made her a customer; a supervisor set her segment and value.
    marieke = await ingest(centre, "call-1", Channel.PHONE,
                           Party(name="Marieke Jansen", email="marieke@example.nl",
                                 phone="+31687654321"), "Belde over haar bestelling")
    patched = await centre.client.patch(f"/api/customers/{marieke}", headers=centre.supervisor,
                                        json={"segment": "gold", "value": 1250,
                                              "language": "nl", "preferred_channel": "email"})
    assert patched.status == 200, await patched.text()
    opted_out = await centre.client.put(f"/api/customers/{marieke}/surveys/opt-out",
                                        headers=centre.supervisor, json={"opted_out": True})
    assert opted_out.status == 200, await opted_out.text()

    # Her complaint: taken by Chris, left open; its SLA clocks keep counting.
    centre.clock.advance(timedelta(minutes=10))
    complaint = await centre.contact(
        channel="email", external_id="<klacht@example.nl>",
        **{"from": {"email": "marieke@example.nl"}}, subject="Klacht over de levering",
        body="Ik ben zeer ontevreden. Dit is schandalig!")
    assert complaint["customer_id"] == marieke
    chris = await available(centre, chris_headers)
    first = await receive(chris, "offer")
    assert first["case"]["id"] == complaint["case_id"]
    assert first["screen_pop"]["script"]["id"] == "klacht"
    assert first["screen_pop"]["script"]["text"].startswith(
        "Goedendag Marieke, u spreekt met Chris.")
    assert "klachtenprocedure" in [k["id"] for k in first["screen_pop"]["knowledge"]]
    await chris.send_json({"type": "accept", "offer_id": first["offer_id"]})
    await receive(chris, "accepted")
    await chris.send_json({"type": "wrap_up", "case_id": complaint["case_id"],
                           "disposition": "answered", "outcome": "open"})
    await receive(chris, "wrapped_up")
    await chris.close()

    # Someone else holds a phone number.
    other = await ingest(centre, "call-2", Channel.PHONE, Party(phone=OTHERS_PHONE),
                         "Onbekende beller")
    assert other != marieke

    # Five business hours after the complaint its first-response target (1 h for a gold
    # customer's complaint) is long gone. She writes again.
    centre.clock.advance(timedelta(hours=5))
    anna = await available(centre, anna_headers)
    question = await centre.contact(
        channel="email", external_id="<pakket@example.nl>",
        **{"from": {"email": "marieke@example.nl", "phone": OTHERS_PHONE,
                    "claimed_email": "mjansen@example.com"}},
        subject="Waar blijft mijn pakket?",
        body="Ik heb vorige week besteld, maar het pakket is nog niet bezorgd.")
    assert question["customer_id"] == marieke
    offer = await receive(anna, "offer")
    await anna.close()

    assert offer["case"]["id"] == question["case_id"]
    assert offer["contact"]["subject"] == "Waar blijft mijn pakket?"
    decided = datetime.fromisoformat(offer["decided_at"])
    assert decided <= datetime.fromisoformat(offer["sent_at"]) == centre.clock.now()
    pop = offer["screen_pop"]

    # Who: name, segment and value, preferences with the consent on record.
    assert pop["customer"]["display_name"] == "Marieke Jansen"
    assert (pop["segment"], pop["value"]) == ("gold", 1250)
    assert pop["preferences"] == {"channel": "email", "language": "nl", "consent": {
        "surveys": False, "surveys_opted_out_at": START.isoformat(),
        "surveys_opted_out_via": "api (supervisor)"}}

    # Identifiers, each with what makes it uncertain.
    uncertainty = {i["value"]: i["uncertainty"] for i in pop["identifiers"]}
    assert uncertainty == {"marieke@example.nl": ["possible_duplicate"],
                           "+31687654321": [], "mjansen@example.com": ["claimed"]}
    assert [i["uncertain"] for i in pop["identifiers"]] == \
        [bool(uncertainty[i["value"]]) for i in pop["identifiers"]]

    # Warnings: the claim, the possible duplicate, the other complaint and its breach.
    codes = [(w["code"], w.get("identifier_id") or w.get("customer_id") or w.get("case_id"))
             for w in pop["warnings"]]
    claim_id = next(i["id"] for i in pop["identifiers"] if i["claimed"])
    assert codes == [("uncertain_identity", claim_id), ("possible_duplicate", other),
                     ("open_complaint", complaint["case_id"]),
                     ("sla_breached", complaint["case_id"])]
    assert all(isinstance(w["message"], str) and w["message"] for w in pop["warnings"])
    assert [d["other_customer_id"] for d in pop["possible_duplicates"]] == [other]

    # Open cases with status and SLA clocks; the complaint highlighted.
    cases = {c["id"]: c for c in pop["open_cases"]}
    old, new = cases[complaint["case_id"]], cases[question["case_id"]]
    assert (old["type"], old["status"], old["highlight"], old["current"]) == \
        ("complaint", "open", True, False)
    assert (new["highlight"], new["current"]) == (False, True)
    old_clocks = {k["kind"]: k for k in old["sla"]}
    assert old_clocks["first_response"]["state"] == "breached"
    assert old_clocks["first_response"]["breached"] is True
    assert old_clocks["resolution"]["state"] in ("running", "warning")
    assert old_clocks["first_response"]["policy_id"] == "sla_complaint_gold"
    assert {k["state"] for k in new["sla"]} == {"running"}
    assert all(datetime.fromisoformat(k["due_at"]) > centre.clock.now() for k in new["sla"])

    # The last contact on every channel, and the newest overall.
    assert [(c["channel"], c["subject"] or c["summary"]) for c in pop["last_contacts"]] == [
        ("email", "Waar blijft mijn pakket?"), ("phone", "Belde over haar bestelling")]
    assert [c["subject"] or c["summary"] for c in pop["timeline"]] == [
        "Waar blijft mijn pakket?", "Klacht over de levering", "Belde over haar bestelling"]

    # This contact's classification, the script for its queue and what the text points to.
    assert pop["classification"]["case_type"] == offer["case"]["type"] == "question"
    assert pop["classification"]["language"] == "nl"
    script = pop["script"]
    assert (script["id"], script["language"]) == ("welkom", "nl")
    assert script["text"].startswith("Goedendag Marieke, u spreekt met Anna van de "
                                     "klantenservice.")
    knowledge = {k["id"]: k for k in pop["knowledge"]}
    assert "levering-vertraagd" in knowledge
    assert set(knowledge["levering-vertraagd"]["matched"]) >= {"text:pakket", "text:bezorgd"}


async def test_a_customer_with_nothing_to_warn_about_pops_without_warnings(
        centre: Centre) -> None:
    await centre.publish(RULES)  # no scripts or knowledge saved: none suggested
    _, headers = await centre.agent("Anna", tier=1, skills={}, queues=["q_general"])
    anna = await available(centre, headers)
    long = "Wanneer zijn jullie open? " + "Ik wacht al heel lang. " * 400
    sent = await centre.contact(channel="chat", external_id="chat-1",
                                **{"from": {"visitor_id": "vis_1", "name": "Piet"}},
                                subject="Openingstijden", transcript=long)
    offer = await receive(anna, "offer")
    await anna.close()
    pop = offer["screen_pop"]
    assert offer["case"]["id"] == sent["case_id"]
    # The contact on offer in full; in the history only its start.
    assert offer["contact"]["transcript"] == long
    [history] = pop["timeline"]
    assert (history["transcript"], history["truncated"]) == (long[:2000], True)
    assert pop["warnings"] == [] and pop["possible_duplicates"] == []
    assert pop["satisfaction"] is None  # never asked
    assert (pop["script"], pop["knowledge"]) == (None, [])
    assert [c["current"] for c in pop["open_cases"]] == [True]
    assert [c["channel"] for c in pop["last_contacts"]] == ["chat"]
    assert pop["preferences"]["consent"] == {"surveys": True, "surveys_opted_out_at": None,
                                             "surveys_opted_out_via": None}


async def test_a_transferred_case_pops_with_what_the_first_agent_noted(
        centre: Centre) -> None:
    await centre.publish(RULES)
    _, anna_headers = await centre.agent("Anna", tier=1, skills={}, queues=["q_general"])
    _, bram_headers = await centre.agent("Bram", tier=1, skills={}, queues=["q_general"])
    anna = await available(centre, anna_headers)
    sent = await centre.contact(channel="email", external_id="<factuur@example.nl>",
                                **{"from": {"email": "piet@example.nl"}},
                                subject="Factuur klopt niet")
    offer = await receive(anna, "offer")
    assert offer["screen_pop"]["notes"] == []
    await anna.send_json({"type": "accept", "offer_id": offer["offer_id"]})
    await receive(anna, "accepted")
    notes = f"/api/cases/{sent['case_id']}/notes"
    for text in ("Factuur 2026-118 gecontroleerd.", "<b>Bedrag</b> klopt niet; naar Bram."):
        assert (await centre.client.post(notes, headers=anna_headers,
                                         json={"text": text})).status == 201
        centre.clock.advance(timedelta(seconds=1))
    # Piet rated an earlier contact: the pop shows his latest answer, comment and all.
    surveys = centre.services.surveys
    asked = await surveys.start(customer_id=sent["customer_id"], channel=Channel.EMAIL,
                                contact_id=sent["contact_id"], case_id=sent["case_id"],
                                kind=SurveyKind.BOTH)
    assert asked is not None
    await surveys.record_answer(asked.id, channel=Channel.EMAIL, score=2, nps=3,
                                comment="<i>Te traag</i>", language="nl")
    # Bram is there before the case comes back (nothing waits for him to miss meanwhile).
    bram = await available(centre, bram_headers)
    await anna.send_json({"type": "transfer", "case_id": sent["case_id"], "queue": "q_general"})
    await receive(anna, "transferred")
    await anna.close()

    again = await receive(bram, "offer")
    await bram.close()
    assert again["case"]["id"] == sent["case_id"]
    assert [(n["text"], n["author"]) for n in again["screen_pop"]["notes"]] == [
        ("<b>Bedrag</b> klopt niet; naar Bram.", "Anna"),
        ("Factuur 2026-118 gecontroleerd.", "Anna")]
    rated = again["screen_pop"]["satisfaction"]
    assert (rated["score"], rated["nps"], rated["comment"], rated["channel"]) == (
        2, 3, "<i>Te traag</i>", "email")
