"""The privacy operations together, as the composition root hands them to the web layer
and the privacy worker."""

from __future__ import annotations

from dataclasses import dataclass

from core.services.consent import Consents
from core.services.erasure import Erasures
from core.services.legal_holds import LegalHolds
from core.services.retention import Retention


@dataclass(frozen=True, slots=True, kw_only=True)
class Privacy:
    erasures: Erasures
    retention: Retention
    holds: LegalHolds
    consents: Consents
