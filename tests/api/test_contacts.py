"""The generic contact API and the unified record, through a real HTTP server, on SQLite
and PostgreSQL."""

from __future__ import annotations

from typing import Any

from core.domain.workforce import Role
from tests.conftest import Api


async def post_contact(api: Api, body: dict[str, Any], role: Role = Role.AGENT) -> Any:
    return await api.client.post("/api/contacts", json=body, headers=api.headers(role))


async def get_json(api: Api, path: str, role: Role = Role.AGENT) -> Any:
    response = await api.client.get(path, headers=api.headers(role))
    assert response.status == 200, await response.text()
    return await response.json()


EMAIL = {"channel": "email", "external_id": "<m1@mail.example>",
         "from": {"email": "Jan.Jansen@Example.NL", "name": "Jan Jansen"},
         "subject": "Vraag over mijn abonnement", "body": "Hoe zeg ik op?"}
CALL = {"channel": "phone", "external_id": "CA-0001",
        "from": {"email": "jan.jansen@example.nl", "phone": "06 12345678"},
        "summary": "Belde over opzeggen"}


async def test_email_then_phone_contact_give_one_customer_with_both_identifiers(api: Api):
    first = await post_contact(api, EMAIL)
    assert first.status == 202, await first.text()
    second = await post_contact(api, CALL)
    assert second.status == 202, await second.text()
    a, b = await first.json(), await second.json()
    assert a["customer_id"] == b["customer_id"]

    customer = await get_json(api, f"/api/customers/{a['customer_id']}")
    keys = {(i["kind"], i["normalized"]) for i in customer["identifiers"]}
    assert keys == {("email", "jan.jansen@example.nl"), ("phone", "+31612345678")}
    # The original spelling is kept beside the matching key.
    assert "Jan.Jansen@Example.NL" in {i["value"] for i in customer["identifiers"]}
    assert [c["channel"] for c in customer["timeline"]["items"]] == ["phone", "email"]
    assert customer["display_name"] == "Jan Jansen"
    assert len(customer["open_cases"]) == 2


async def test_the_same_external_id_again_adds_nothing(api: Api):
    first = await (await post_contact(api, EMAIL)).json()
    again = await post_contact(api, {**EMAIL, "subject": "changed on retry"})
    assert again.status == 200
    body = await again.json()
    assert body["duplicate"] is True
    assert (body["contact_id"], body["customer_id"], body["case_id"]) == (
        first["contact_id"], first["customer_id"], first["case_id"])
    customer = await get_json(api, f"/api/customers/{first['customer_id']}")
    assert len(customer["timeline"]["items"]) == 1
    assert customer["timeline"]["items"][0]["subject"] == EMAIL["subject"]
    cases = await get_json(api, f"/api/cases?customer={first['customer_id']}")
    assert len(cases["items"]) == 1


async def test_a_contact_carrying_two_customers_identifiers_flags_a_possible_duplicate(api: Api):
    by_mail = await (await post_contact(api, EMAIL)).json()
    by_phone = await (await post_contact(api, {
        "channel": "phone", "external_id": "CA-1", "from": {"phone": "+31 6 87654321"}})).json()
    assert by_mail["customer_id"] != by_phone["customer_id"]
    both = await (await post_contact(api, {
        "channel": "webform", "external_id": "form-1",
        "from": {"email": "jan.jansen@example.nl", "phone": "0687654321"}})).json()
    assert both["customer_id"] == by_mail["customer_id"]  # e-mail outweighs phone
    dups = await get_json(api, f"/api/customers/{by_mail['customer_id']}/duplicates")
    assert [d["other_customer_id"] for d in dups["items"]] == [by_phone["customer_id"]]
    assert "+31687654321" in dups["items"][0]["reason"]
    # The phone stays with the customer who had it: no silent merge.
    phone_owner = await get_json(api, f"/api/customers/{by_phone['customer_id']}")
    assert [i["normalized"] for i in phone_owner["identifiers"]] == ["+31687654321"]


async def test_an_invalid_phone_is_kept_flagged_and_never_matches(api: Api):
    one = await (await post_contact(api, {
        "channel": "phone", "external_id": "CA-x1", "from": {"phone": "12"}})).json()
    two = await (await post_contact(api, {
        "channel": "phone", "external_id": "CA-x2", "from": {"phone": "12"}})).json()
    assert one["customer_id"] != two["customer_id"]
    customer = await get_json(api, f"/api/customers/{one['customer_id']}")
    assert [(i["value"], i["valid"]) for i in customer["identifiers"]] == [("12", False)]


async def test_unverified_claim_never_links_to_the_existing_customer(api: Api):
    owner = await (await post_contact(api, EMAIL)).json()
    chat = await (await post_contact(api, {
        "channel": "chat", "external_id": "conv-1",
        "from": {"visitor_id": "v-123", "claimed_email": "jan.jansen@example.nl"}})).json()
    assert chat["customer_id"] != owner["customer_id"]
    dups = await get_json(api, f"/api/customers/{chat['customer_id']}/duplicates")
    assert [d["other_customer_id"] for d in dups["items"]] == [owner["customer_id"]]


async def test_search_by_email_phone_and_text(api: Api):
    created = await (await post_contact(api, CALL)).json()
    for query in ("email=JAN.JANSEN%40example.nl", "phone=%2B31612345678",
                  "phone=06-12345678", "q=jansen"):
        found = await get_json(api, f"/api/customers?{query}")
        assert [c["id"] for c in found["items"]] == [created["customer_id"]], query
    nobody = await get_json(api, "/api/customers?email=someone.else%40example.nl")
    assert nobody["items"] == []


async def test_timeline_pages_newest_first(api: Api):
    ids = []
    for n in range(5):
        body = await (await post_contact(api, {
            "channel": "email", "external_id": f"<t{n}@x>", "from": {"email": "t@example.com"},
            "occurred_at": f"2026-01-0{n + 1}T10:00:00+01:00"})).json()
        ids.append(body["contact_id"])
    customer_id = body["customer_id"]
    seen, cursor = [], None
    while True:
        path = f"/api/customers/{customer_id}/timeline?limit=2"
        page = await get_json(api, path + (f"&cursor={cursor}" if cursor else ""))
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))


async def test_merge_and_undo(api: Api):
    a = await (await post_contact(api, EMAIL)).json()
    b = await (await post_contact(api, {
        "channel": "phone", "external_id": "CA-9", "from": {"phone": "+31201234567"}})).json()
    denied = await api.client.post(f"/api/customers/{a['customer_id']}/merge",
                                   json={"other_id": b["customer_id"]},
                                   headers=api.headers(Role.AGENT))
    assert denied.status == 403
    merged = await api.client.post(f"/api/customers/{a['customer_id']}/merge",
                                   json={"other_id": b["customer_id"]},
                                   headers=api.headers(Role.SUPERVISOR))
    assert merged.status == 200, await merged.text()
    merge = await merged.json()
    survivor = await get_json(api, f"/api/customers/{a['customer_id']}")
    assert {i["normalized"] for i in survivor["identifiers"]} == {
        "jan.jansen@example.nl", "+31201234567"}
    assert len(survivor["timeline"]["items"]) == 2
    tombstone = await get_json(api, f"/api/customers/{b['customer_id']}")
    assert (tombstone["status"], tombstone["merged_into"]) == ("merged", a["customer_id"])
    # A new call from the merged number now reaches the survivor.
    call = await (await post_contact(api, {
        "channel": "phone", "external_id": "CA-10", "from": {"phone": "020 123 4567"}})).json()
    assert call["customer_id"] == a["customer_id"]

    undone = await api.client.post(f"/api/merges/{merge['id']}/undo",
                                   headers=api.headers(Role.SUPERVISOR))
    assert undone.status == 200, await undone.text()
    restored = await get_json(api, f"/api/customers/{b['customer_id']}")
    assert restored["status"] == "active"
    assert [i["normalized"] for i in restored["identifiers"]] == ["+31201234567"]
    assert [c["external_id"] for c in restored["timeline"]["items"]] == ["CA-9"]
    again = await api.client.post(f"/api/merges/{merge['id']}/undo",
                                  headers=api.headers(Role.SUPERVISOR))
    assert again.status == 409


async def test_case_lifecycle_through_patch(api: Api):
    created = await (await post_contact(api, EMAIL)).json()
    path = f"/api/cases/{created['case_id']}"
    case = await get_json(api, path)
    assert (case["status"], case["type"], case["reference"][:3]) == ("new", "question", "SW-")
    assert [c["id"] for c in case["contacts"]] == [created["contact_id"]]
    for status in ("open", "pending", "resolved"):
        response = await api.client.patch(path, json={"status": status},
                                          headers=api.headers(Role.AGENT))
        assert response.status == 200, await response.text()
    response = await api.client.patch(path, json={"type": "complaint", "priority": "high",
                                                   "tags": ["vip", "billing"]},
                                      headers=api.headers(Role.AGENT))
    updated = await response.json()
    assert (updated["type"], updated["priority"], updated["tags"]) == (
        "complaint", "high", ["billing", "vip"])
    closed = await api.client.patch(path, json={"status": "closed"},
                                    headers=api.headers(Role.AGENT))
    assert closed.status == 200
    reopen = await api.client.patch(path, json={"status": "open"},
                                    headers=api.headers(Role.AGENT))
    assert reopen.status == 409
    assert "closed" in (await reopen.json())["error"]["message"]
    listed = await get_json(api, "/api/cases?status=closed")
    assert [c["id"] for c in listed["items"]] == [created["case_id"]]


async def test_a_reply_on_a_resolved_case_reopens_it(api: Api):
    created = await (await post_contact(api, EMAIL)).json()
    path = f"/api/cases/{created['case_id']}"
    await api.client.patch(path, json={"status": "resolved"}, headers=api.headers(Role.AGENT))
    reply = await post_contact(api, {**EMAIL, "external_id": "<m2@mail.example>",
                                     "case_id": created["case_id"]})
    assert reply.status == 202
    assert (await get_json(api, path))["status"] == "open"


async def test_a_contact_cannot_join_another_customers_case(api: Api):
    victim = await (await post_contact(api, EMAIL)).json()
    response = await post_contact(api, {
        "channel": "email", "external_id": "<evil@x>", "from": {"email": "evil@example.com"},
        "case_id": victim["case_id"]})
    assert response.status == 422
    assert "case_id" in (await response.json())["error"]["fields"]


async def test_profile_edits_with_per_field_roles(api: Api):
    created = await (await post_contact(api, EMAIL)).json()
    path = f"/api/customers/{created['customer_id']}"
    denied = await api.client.patch(path, json={"segment": "gold"},
                                    headers=api.headers(Role.AGENT))
    assert denied.status == 403
    assert "segment" in (await denied.json())["error"]["message"]
    edit = await api.client.patch(path, json={
        "display_name": "Jan P. Jansen", "language": "nl", "preferred_channel": "phone",
        "kind": "organisation", "organisation": {"name": "Jansen BV",
                                                 "registration_number": "12345678"}},
        headers=api.headers(Role.AGENT))
    assert edit.status == 200, await edit.text()
    tier = await api.client.patch(path, json={"segment": "gold", "value": 12500.0},
                                  headers=api.headers(Role.SUPERVISOR))
    assert tier.status == 200
    customer = await get_json(api, path)
    assert (customer["display_name"], customer["segment"], customer["value"],
            customer["organisation"]["name"], customer["preferred_channel"]) == (
        "Jan P. Jansen", "gold", 12500.0, "Jansen BV", "phone")
