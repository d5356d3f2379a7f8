"""Where form definitions live: one configuration document, ``forms``, revisioned like the
routing configuration (who changed it, when, and no lost updates)."""

from __future__ import annotations

from datetime import datetime

from pydantic import ValidationError

from channels.webforms.definitions import FormDef
from core.domain.errors import InvalidInput
from core.ports import UnitOfWork

KEY = "forms"


async def forms(uow: UnitOfWork) -> dict[str, FormDef]:
    stored = await uow.routing.get_document(KEY)
    if stored is None or not isinstance(stored.document, dict):
        return {}
    found: dict[str, FormDef] = {}
    for form_id, document in stored.document.items():
        try:
            found[form_id] = FormDef.model_validate(document)
        except ValidationError:
            continue  # stored by an older version: skipped, never served half-valid
    return found


def parse(document: object) -> FormDef:
    try:
        return FormDef.model_validate(document)
    except ValidationError as err:
        raise InvalidInput({".".join(str(p) for p in e["loc"]) or "form": e["msg"]
                            for e in err.errors(include_url=False)}) from err


async def save(uow: UnitOfWork, form: FormDef, *, by: str, at: datetime) -> None:
    stored = await uow.routing.get_document(KEY)
    document = dict(stored.document) if stored and isinstance(stored.document, dict) else {}
    document[form.id] = form.model_dump(mode="json")
    await uow.routing.put_document(KEY, document,
                                   expected_revision=stored.revision if stored else None,
                                   by=by, at=at)
