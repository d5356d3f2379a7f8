"""The schema, as SQLAlchemy Core tables. Alembic migrations are generated from it.

Hot lookups and their indexes:
- identifier → customer: ``ix_identifiers_match`` (kind, normalized) covers the match query,
  so a million customers cost one index probe per identifier;
- a customer's timeline: ``ix_contacts_timeline`` (customer_id, occurred_at, id) serves the
  keyset pagination newest-first;
- idempotent ingestion: the unique (channel, external_id) on contacts.
"""

from __future__ import annotations

import sqlalchemy as sa

from core.storage.types import JSONDoc, UTCDateTime

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = sa.String(40)

customers = sa.Table(
    "customers", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("display_name", sa.String(300)),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("organisation", JSONDoc),
    sa.Column("household", JSONDoc),
    sa.Column("segment", sa.String(50)),
    sa.Column("value", sa.Float),
    sa.Column("language", sa.String(10)),
    sa.Column("preferred_channel", sa.String(20)),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("merged_into", ID),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)
sa.Index("ix_customers_display_name", sa.func.lower(customers.c.display_name))

identifiers = sa.Table(
    "identifiers", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("customer_id", ID, sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("value", sa.String(320), nullable=False),
    sa.Column("normalized", sa.String(320)),
    sa.Column("skeleton", sa.String(320)),
    sa.Column("verified", sa.Boolean, nullable=False),
    sa.Column("claimed", sa.Boolean, nullable=False),
    sa.Column("source", sa.String(20)),
    sa.Column("first_seen_at", UTCDateTime, nullable=False),
    sa.Column("last_seen_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("customer_id", "kind", "normalized", name="uq_identifiers_per_customer"),
)
sa.Index("ix_identifiers_match", identifiers.c.kind, identifiers.c.normalized,
         identifiers.c.customer_id)
sa.Index("ix_identifiers_customer", identifiers.c.customer_id)
sa.Index("ix_identifiers_skeleton", identifiers.c.skeleton)

entitlements = sa.Table(
    "entitlements", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("customer_id", ID, sa.ForeignKey("customers.id"), nullable=False, index=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("reference", sa.String(200)),
    sa.Column("valid_from", sa.Date),
    sa.Column("valid_until", sa.Date),
)

cases = sa.Table(
    "cases", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("number", sa.BigInteger, nullable=False, unique=True),
    sa.Column("customer_id", ID, sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("type", sa.String(20), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("priority", sa.SmallInteger, nullable=False),
    sa.Column("subject", sa.String(500)),
    sa.Column("owner_agent_id", ID),
    sa.Column("queue_id", ID),
    sa.Column("tags", JSONDoc, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("first_response_due_at", UTCDateTime),
    sa.Column("resolution_due_at", UTCDateTime),
    sa.Column("resolved_at", UTCDateTime),
    sa.Column("closed_at", UTCDateTime),
    sa.Column("classification", JSONDoc),
    sa.Column("language", sa.String(10)),
    sa.Column("first_responded_at", UTCDateTime),
    # Set when erasure or a retention term removed the content (core/domain/privacy.py).
    sa.Column("redacted_at", UTCDateTime),
)
sa.Index("ix_cases_customer", cases.c.customer_id, cases.c.status)
sa.Index("ix_cases_listing", cases.c.status, cases.c.queue_id, cases.c.created_at, cases.c.id)

contacts = sa.Table(
    "contacts", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("external_id", sa.String(300), nullable=False),
    sa.Column("direction", sa.String(10), nullable=False),
    sa.Column("customer_id", ID, sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("case_id", ID, sa.ForeignKey("cases.id")),
    sa.Column("occurred_at", UTCDateTime, nullable=False),
    sa.Column("received_at", UTCDateTime, nullable=False),
    sa.Column("from_name", sa.String(300)),
    sa.Column("from_address", sa.String(320)),
    sa.Column("subject", sa.String(1000)),
    sa.Column("summary", sa.Text),
    sa.Column("body", sa.Text),
    sa.Column("transcript", sa.Text),
    sa.Column("attachments", JSONDoc, nullable=False),
    sa.Column("raw_ref", sa.String(200)),
    # Channel facts routing may use: receiving mailbox, form id, IVR choice.
    sa.Column("metadata", JSONDoc, nullable=False, server_default="{}"),
    # Set when erasure or a retention term removed the content (core/domain/privacy.py).
    sa.Column("redacted_at", UTCDateTime),
    sa.UniqueConstraint("channel", "external_id", name="uq_contacts_channel_external_id"),
)
sa.Index("ix_contacts_timeline", contacts.c.customer_id, contacts.c.occurred_at, contacts.c.id)
sa.Index("ix_contacts_case", contacts.c.case_id)
# Is this stored original still anyone's? (releasing blobs after erasure and retention)
sa.Index("ix_contacts_raw_ref", contacts.c.raw_ref)

possible_duplicates = sa.Table(
    "possible_duplicates", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("customer_id", ID, nullable=False),
    sa.Column("other_customer_id", ID, nullable=False),
    # The pair in a canonical order, so A~B and B~A are flagged once.
    sa.Column("pair_low", ID, nullable=False),
    sa.Column("pair_high", ID, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("contact_id", ID),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("dismissed", sa.Boolean, nullable=False),
    sa.UniqueConstraint("pair_low", "pair_high", name="uq_possible_duplicates_pair"),
)
sa.Index("ix_possible_duplicates_high", possible_duplicates.c.pair_high)

merges = sa.Table(
    "merges", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("survivor_id", ID, nullable=False, index=True),
    sa.Column("merged_id", ID, nullable=False, index=True),
    sa.Column("moved_identifier_ids", JSONDoc, nullable=False),
    sa.Column("moved_contact_ids", JSONDoc, nullable=False),
    sa.Column("moved_case_ids", JSONDoc, nullable=False),
    sa.Column("merged_by", sa.String(200), nullable=False),
    sa.Column("merged_at", UTCDateTime, nullable=False),
    sa.Column("undone_at", UTCDateTime),
    sa.Column("undone_by", sa.String(200)),
)

# Internal notes on a case (core/domain/notes.py): never edited; the author may delete one
# within a few minutes. Read per case in order: ix_case_notes_case.
case_notes = sa.Table(
    "case_notes", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("case_id", ID, sa.ForeignKey("cases.id"), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("author", sa.String(200), nullable=False),
    sa.Column("author_id", ID, nullable=False),
    sa.Column("agent_id", ID),
    sa.Column("created_at", UTCDateTime, nullable=False),
)
sa.Index("ix_case_notes_case", case_notes.c.case_id, case_notes.c.created_at, case_notes.c.id)

teams = sa.Table(
    "teams", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
)

queues = sa.Table(
    "queues", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("team_id", ID, sa.ForeignKey("teams.id")),
    sa.Column("description", sa.Text),
    sa.Column("archived_at", UTCDateTime),  # removed: kept for history (migration 0014)
)

agents = sa.Table(
    "agents", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("username", sa.String(100), nullable=False, unique=True),
    sa.Column("tier", sa.SmallInteger, nullable=False),
    sa.Column("team_ids", JSONDoc, nullable=False),
    sa.Column("skills", JSONDoc, nullable=False),
    sa.Column("capacity", JSONDoc, nullable=False),
    sa.Column("presence", sa.String(30), nullable=False),
    sa.Column("presence_since", UTCDateTime, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("queue_ids", JSONDoc, nullable=False, server_default="[]"),
    sa.Column("phone", sa.String(32)),
)

users = sa.Table(
    "users", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("username", sa.String(100), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("agent_id", ID, sa.ForeignKey("agents.id")),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

api_tokens = sa.Table(
    "api_tokens", metadata,
    sa.Column("id", ID, primary_key=True),
    # SHA-256 of a 256-bit random token: a slow hash adds nothing for that much entropy.
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("principal_id", ID, nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("agent_id", ID, sa.ForeignKey("agents.id")),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime),
)

counters = sa.Table(
    "counters", metadata,
    sa.Column("name", sa.String(50), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

outbox = sa.Table(
    "outbox", metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("id", ID, nullable=False, unique=True),
    sa.Column("topic", sa.String(100), nullable=False),
    sa.Column("payload", JSONDoc, nullable=False),
    sa.Column("occurred_at", UTCDateTime, nullable=False),
    sa.Column("published_at", UTCDateTime),
)
sa.Index("ix_outbox_unpublished", outbox.c.seq, sqlite_where=outbox.c.published_at.is_(None),
         postgresql_where=outbox.c.published_at.is_(None))

inbox = sa.Table(
    "inbox", metadata,
    sa.Column("consumer_group", sa.String(100), primary_key=True),
    sa.Column("envelope_id", ID, primary_key=True),
    sa.Column("processed_at", UTCDateTime, nullable=False),
)

# PostgreSQL hands out case numbers from a sequence (no row lock held until commit);
# SQLite, which serialises writers anyway, counts in ``counters``.
case_number_seq = sa.Sequence("case_number_seq", metadata=metadata, start=1001)


# --- routing -------------------------------------------------------------------------

# Supervisor-editable configuration documents (keyword lists, routing policy, calendars,
# SLA policies), each validated by its domain type before it is stored.
config_documents = sa.Table(
    "config_documents", metadata,
    sa.Column("key", sa.String(100), primary_key=True),
    sa.Column("document", JSONDoc, nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("updated_by", sa.String(200), nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

rule_set_versions = sa.Table(
    "rule_set_versions", metadata,
    sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("document", JSONDoc, nullable=False),
    sa.Column("author", sa.String(200), nullable=False),
    sa.Column("comment", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

# Every publish and rollback, newest last: the active version is the last row's.
rule_set_activations = sa.Table(
    "rule_set_activations", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("version", sa.Integer, sa.ForeignKey("rule_set_versions.number"),
              nullable=False),
    sa.Column("action", sa.String(20), nullable=False),
    sa.Column("by", sa.String(200), nullable=False),
    sa.Column("comment", sa.Text, nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
)

# The facts a decision saw and the trace it produced: what makes routing explainable and
# replayable (simulation re-evaluates a draft against these very facts).
routing_decisions = sa.Table(
    "routing_decisions", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("case_id", ID, nullable=False, index=True),
    sa.Column("contact_id", ID, nullable=False),
    sa.Column("work_item_id", ID),
    sa.Column("rule_set_version", sa.Integer),
    sa.Column("facts", JSONDoc, nullable=False),
    sa.Column("classification", JSONDoc, nullable=False),
    sa.Column("outcome", JSONDoc, nullable=False),
    sa.Column("decided_at", UTCDateTime, nullable=False),
)
sa.Index("ix_routing_decisions_recent", routing_decisions.c.decided_at, routing_decisions.c.id)

work_items = sa.Table(
    "work_items", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("case_id", ID, nullable=False, index=True),
    sa.Column("contact_id", ID, nullable=False),
    sa.Column("customer_id", ID, nullable=False),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("queue_id", ID, nullable=False),
    sa.Column("priority", sa.SmallInteger, nullable=False),
    sa.Column("skills", JSONDoc, nullable=False),
    sa.Column("tier", sa.SmallInteger, nullable=False),
    sa.Column("preferred_agent_ids", JSONDoc, nullable=False),
    sa.Column("preferred_team_id", ID),
    sa.Column("excluded_agent_ids", JSONDoc, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("enqueued_at", UTCDateTime, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("assigned_agent_id", ID),
    sa.Column("offer_id", ID),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    # Wrap-up (migration 0012): when it was handled, how it ended, what came of it.
    sa.Column("kind", sa.String(20), nullable=False, server_default="contact"),
    sa.Column("accepted_at", UTCDateTime),
    sa.Column("conversation_ended_at", UTCDateTime),
    sa.Column("wrap_up_due_at", UTCDateTime),
    sa.Column("completed_at", UTCDateTime),
    sa.Column("disposition", sa.String(40)),
    sa.Column("outcome", sa.String(20)),
    sa.Column("callback_at", UTCDateTime),
)
sa.Index("ix_work_items_customer", work_items.c.customer_id, work_items.c.created_at)
sa.Index("ix_work_items_waiting", work_items.c.status, work_items.c.queue_id,
         work_items.c.enqueued_at)
sa.Index("ix_work_items_wrap_up_due", work_items.c.status, work_items.c.wrap_up_due_at)

offers = sa.Table(
    "offers", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("work_item_id", ID, nullable=False, index=True),
    sa.Column("agent_id", ID, nullable=False),
    sa.Column("case_id", ID, nullable=False),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("answered_at", UTCDateTime),
    sa.Column("trace", JSONDoc, nullable=False),
)
sa.Index("ix_offers_pending", offers.c.status, offers.c.expires_at)
sa.Index("ix_offers_agent", offers.c.agent_id, offers.c.status)

# Which agents take work from which queue; agents.queue_ids is the same list, this table
# indexes it so a dispatcher reads only the agents of the queues in hand.
agent_queues = sa.Table(
    "agent_queues", metadata,
    sa.Column("queue_id", ID, primary_key=True),
    sa.Column("agent_id", ID, sa.ForeignKey("agents.id"), primary_key=True),
)

agent_loads = sa.Table(
    "agent_loads", metadata,
    sa.Column("agent_id", ID, sa.ForeignKey("agents.id"), primary_key=True),
    sa.Column("load", JSONDoc, nullable=False),
    sa.Column("idle_since", UTCDateTime, nullable=False),
    sa.Column("missed_offers", sa.Integer, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)

sla_clocks = sa.Table(
    "sla_clocks", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("case_id", ID, nullable=False, index=True),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("policy_id", sa.String(100), nullable=False),
    sa.Column("calendar_id", sa.String(100), nullable=False),
    sa.Column("target_s", sa.Integer, nullable=False),
    sa.Column("warn_at_fraction", sa.Float, nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("consumed_s", sa.Float, nullable=False),
    sa.Column("running_since", UTCDateTime),
    sa.Column("paused_at", UTCDateTime),
    sa.Column("stopped_at", UTCDateTime),
    sa.Column("due_at", UTCDateTime),
    sa.Column("warn_at", UTCDateTime),
    sa.Column("warned", sa.Boolean, nullable=False),
    sa.Column("breached", sa.Boolean, nullable=False),
    # The earliest moment this clock needs attention (warn, then due); NULL when it needs
    # none. The SLA worker sleeps until the smallest one.
    sa.Column("next_deadline", UTCDateTime),
)
sa.Index("ix_sla_clocks_deadline", sla_clocks.c.next_deadline)


# Content-addressed bytes: raw originals and attachments. The key is "sha256:<hex>".
blobs = sa.Table(
    "blobs", metadata,
    sa.Column("key", sa.String(80), primary_key=True),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

# How far a polling adapter has read a source: IMAP (UIDVALIDITY, UID) per mailbox.
channel_cursors = sa.Table(
    "channel_cursors", metadata,
    sa.Column("source", sa.String(200), primary_key=True),
    sa.Column("validity", sa.BigInteger, nullable=False),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

quarantine = sa.Table(
    "quarantine", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("source", sa.String(200), nullable=False),
    sa.Column("item_ref", sa.String(200), nullable=False),
    sa.Column("raw_ref", sa.String(80)),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("first_failed_at", UTCDateTime, nullable=False),
    sa.Column("last_failed_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("source", "item_ref", name="uq_quarantine_item"),
)
sa.Index("ix_quarantine_listing", quarantine.c.status, quarantine.c.last_failed_at)

# Message ids (ours and the customers') and where they belong: threads replies onto cases.
message_refs = sa.Table(
    "message_refs", metadata,
    sa.Column("channel", sa.String(20), primary_key=True),
    sa.Column("message_id", sa.String(1000), primary_key=True),
    sa.Column("contact_id", ID, primary_key=True),
    sa.Column("case_id", ID),
    sa.Column("customer_id", ID, nullable=False),
    sa.Column("direction", sa.String(10), nullable=False),
)
sa.Index("ix_message_refs_case", message_refs.c.case_id)

outbound_messages = sa.Table(
    "outbound_messages", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("contact_id", ID, nullable=False, unique=True),
    sa.Column("case_id", ID),
    sa.Column("message_id", sa.String(1000), nullable=False, unique=True),
    sa.Column("recipient", sa.String(320), nullable=False),
    sa.Column("envelope", JSONDoc, nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", UTCDateTime, nullable=False),
    # A sender holds a message while it talks to the server, so two senders never send it
    # at once; a sender that dies lets the hold lapse and the message is sent again.
    sa.Column("held_until", UTCDateTime),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("sent_at", UTCDateTime),
)
sa.Index("ix_outbound_messages_due", outbound_messages.c.state,
         outbound_messages.c.next_attempt_at)
sa.Index("ix_outbound_messages_recipient", outbound_messages.c.recipient,
         outbound_messages.c.kind, outbound_messages.c.created_at)


chat_conversations = sa.Table(
    "chat_conversations", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("visitor_id", sa.String(64), nullable=False, index=True),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("language", sa.String(10), nullable=False),
    sa.Column("name", sa.String(300)),
    sa.Column("claimed_email", sa.String(320)),
    sa.Column("topic", sa.String(200)),
    sa.Column("customer_id", ID),
    sa.Column("contact_id", ID),
    sa.Column("case_id", ID, index=True),
    sa.Column("agent_id", ID),
    sa.Column("last_seq", sa.Integer, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("ended_at", UTCDateTime),
)

chat_messages = sa.Table(
    "chat_messages", metadata,
    sa.Column("conversation_id", ID, primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("sender", sa.String(10), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("client_msg_id", sa.String(64)),
    sa.Column("agent_id", ID),
    sa.Column("event", sa.String(40)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("conversation_id", "client_msg_id", name="uq_chat_messages_client_id"),
)


calls = sa.Table(
    "calls", metadata,
    sa.Column("sid", sa.String(64), primary_key=True),
    sa.Column("direction", sa.String(10), nullable=False),
    sa.Column("from_number", sa.String(64), nullable=False),
    sa.Column("to_number", sa.String(64), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("language", sa.String(10), nullable=False),
    sa.Column("customer_id", ID),
    sa.Column("contact_id", ID),
    sa.Column("case_id", ID),
    sa.Column("path", JSONDoc, nullable=False),
    sa.Column("outcome", sa.String(20)),
    sa.Column("recording_url", sa.String(500)),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("enqueued_at", UTCDateTime),
    sa.Column("answered_at", UTCDateTime),
    sa.Column("ended_at", UTCDateTime),
    sa.Column("duration_s", sa.Integer),
)

# Each (call, status) callback is applied once, however often the platform retries it.
call_events = sa.Table(
    "call_events", metadata,
    sa.Column("sid", sa.String(64), primary_key=True),
    sa.Column("event", sa.String(40), primary_key=True),
    sa.Column("received_at", UTCDateTime, nullable=False),
)

# A browser login. The cookie holds a 256-bit random token; only its SHA-256 is stored, so a
# leaked database cannot be replayed as sessions. Revoking is setting revoked_at.
web_sessions = sa.Table(
    "web_sessions", metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", ID, sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime),
)

# A caller proving that a customer number is theirs: a one-time code sent to the address on
# file for that customer, typed back on the phone. Only the code's hash is kept.
phone_verifications = sa.Table(
    "phone_verifications", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("call_sid", sa.String(64), nullable=False, index=True),
    sa.Column("customer_id", ID, sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("phone", sa.String(64), nullable=False),
    sa.Column("code_hash", sa.String(64), nullable=False),
    sa.Column("sent_to", sa.String(320), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("verified_at", UTCDateTime),
)


# --- satisfaction surveys --------------------------------------------------------------

# One survey offered to one customer about one contact, on one channel. The e-mailed link
# carries a 256-bit random token; only its SHA-256 is kept. Reports join CSAT on contact_id
# and case_id (the contact rated and its case).
survey_invitations = sa.Table(
    "survey_invitations", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("customer_id", ID, sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("case_id", ID),
    sa.Column("contact_id", ID),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),
    sa.Column("language", sa.String(10), nullable=False),
    # The channel's handle: chat conversation id, call sid, or the mail's Message-ID.
    sa.Column("reference", sa.String(1000)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("answered_at", UTCDateTime),
)
sa.Index("ix_survey_invitations_customer", survey_invitations.c.customer_id,
         survey_invitations.c.created_at)
sa.Index("ix_survey_invitations_case", survey_invitations.c.case_id)
sa.Index("ix_survey_invitations_reference", survey_invitations.c.channel,
         survey_invitations.c.reference)

# The answer to an invitation (at most one), with what it rates copied onto it.
survey_responses = sa.Table(
    "survey_responses", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("invitation_id", ID, sa.ForeignKey("survey_invitations.id"), nullable=False,
              unique=True),
    sa.Column("customer_id", ID, nullable=False),
    sa.Column("case_id", ID),
    sa.Column("contact_id", ID),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),
    sa.Column("score", sa.SmallInteger),  # CSAT 1-5
    sa.Column("nps", sa.SmallInteger),  # 0-10
    sa.Column("comment", sa.Text),
    sa.Column("language", sa.String(10), nullable=False),
    sa.Column("answered_at", UTCDateTime, nullable=False),
)
sa.Index("ix_survey_responses_contact", survey_responses.c.contact_id)
sa.Index("ix_survey_responses_case", survey_responses.c.case_id)
sa.Index("ix_survey_responses_customer", survey_responses.c.customer_id,
         survey_responses.c.answered_at)
sa.Index("ix_survey_responses_answered", survey_responses.c.answered_at,
         survey_responses.c.id)

# Per customer: when they were last asked (the frequency cap, claimed by one conditional
# UPDATE, so two resolutions at once cannot both ask) and whether they opted out.
survey_subjects = sa.Table(
    "survey_subjects", metadata,
    sa.Column("customer_id", ID, sa.ForeignKey("customers.id"), primary_key=True),
    sa.Column("last_invited_at", UTCDateTime),
    sa.Column("opted_out_at", UTCDateTime),
    sa.Column("opted_out_via", sa.String(40)),
)

# Work only one process may do at a time (polling one IMAP mailbox): whoever holds the row
# renews it; a holder that dies stops renewing and another takes over after expires_at.
leases = sa.Table(
    "leases", metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("holder", sa.String(200), nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
)

# The audit log (core/domain/audit.py): append-only. The adapter has no update or delete;
# triggers (migration 0010) refuse UPDATE and DELETE as well, and TRUNCATE on PostgreSQL.
audit_log = sa.Table(
    "audit_log", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor_id", ID),
    sa.Column("actor_name", sa.String(300), nullable=False),
    sa.Column("actor_role", sa.String(20)),
    sa.Column("action", sa.String(60), nullable=False),
    sa.Column("subject_kind", sa.String(40), nullable=False),
    sa.Column("subject_id", sa.String(200)),
    sa.Column("customer_id", ID),
    sa.Column("contact_id", ID),
    sa.Column("request_id", sa.String(64)),
    sa.Column("details", JSONDoc, nullable=False),
)
sa.Index("ix_audit_log_at", audit_log.c.at, audit_log.c.id)
sa.Index("ix_audit_log_customer", audit_log.c.customer_id, audit_log.c.at)
sa.Index("ix_audit_log_actor", audit_log.c.actor_id, audit_log.c.at)
sa.Index("ix_audit_log_subject", audit_log.c.subject_kind, audit_log.c.subject_id)

# --- privacy (core/domain/privacy.py) ----------------------------------------------------

# A customer's data, or one case's, kept whatever erasure or retention would remove.
# Released holds stay, with who released them and why.
legal_holds = sa.Table(
    "legal_holds", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("customer_id", ID, sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("case_id", ID, sa.ForeignKey("cases.id")),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("placed_by", sa.String(200), nullable=False),
    sa.Column("placed_at", UTCDateTime, nullable=False),
    sa.Column("released_by", sa.String(200)),
    sa.Column("released_at", UTCDateTime),
    sa.Column("release_reason", sa.Text),
)
sa.Index("ix_legal_holds_customer", legal_holds.c.customer_id, legal_holds.c.released_at)
sa.Index("ix_legal_holds_case", legal_holds.c.case_id)

# An erasure in progress or done: the step it is at and how far into it, so whoever picks
# it up next (a retried request, the privacy worker after a crash) continues from there.
erasure_requests = sa.Table(
    "erasure_requests", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("customer_id", ID, sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("customer_ids", JSONDoc, nullable=False),
    sa.Column("requested_by", sa.String(200), nullable=False),
    sa.Column("requested_at", UTCDateTime, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("step", sa.String(20), nullable=False),
    sa.Column("cursor", sa.String(200)),
    # The customer's addresses and numbers while the erasure runs; emptied when it is done.
    sa.Column("match", JSONDoc, nullable=False),
    sa.Column("counts", JSONDoc, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("completed_at", UTCDateTime),
    # A customer is erased once: a second request finds the first (and continues it).
    sa.UniqueConstraint("customer_id", name="uq_erasure_requests_customer_id"),
)
sa.Index("ix_erasure_requests_open", erasure_requests.c.completed_at)

# Per customer and channel: consent withdrawn (or given again), when, by whom, how.
contact_consents = sa.Table(
    "contact_consents", metadata,
    sa.Column("customer_id", ID, sa.ForeignKey("customers.id"), primary_key=True),
    sa.Column("channel", sa.String(20), primary_key=True),
    sa.Column("granted", sa.Boolean, nullable=False),
    sa.Column("changed_at", UTCDateTime, nullable=False),
    sa.Column("changed_by", sa.String(200), nullable=False),
    sa.Column("via", sa.String(40), nullable=False),
)

# Blobs whose last known reference was removed: deleted once no contact, quarantined item
# or queued mail refers to them any more (blobs are shared by content, so check first).
released_blobs = sa.Table(
    "released_blobs", metadata,
    sa.Column("key", sa.String(80), primary_key=True),
    sa.Column("released_at", UTCDateTime, nullable=False),
)
