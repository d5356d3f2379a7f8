"""Turning what a channel saw of a person into normalised identifiers to match on."""

from __future__ import annotations

from core.domain.channels import Channel
from core.domain.commands import Party
from core.domain.customer import IdentifierKind
from core.identity.normalise import normalise
from core.identity.resolver import Observed


def observed_identifiers(party: Party, channel: Channel, default_region: str) -> list[Observed]:
    observed: list[Observed] = []
    for kind, raw, claimed in (
        (IdentifierKind.CRM, party.crm_id, False),
        (IdentifierKind.EMAIL, party.email, False),
        (IdentifierKind.PHONE, party.phone, False),
        (IdentifierKind.CHAT_VISITOR, party.visitor_id, False),
        (IdentifierKind.EMAIL, party.claimed_email, True),
    ):
        if raw is None or not raw.strip():
            continue
        identifier = normalise(kind, raw, default_region=default_region)
        observed.append(Observed(identifier=identifier, claimed=claimed))
    return observed
