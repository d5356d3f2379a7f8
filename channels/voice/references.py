"""Where the phone menu in effect sends callers to a queue, so a queue it names is not
removed under it (core.services.queue_references). The menu in effect is the one saved,
else the demo menu the service falls back to."""

from __future__ import annotations

import contextlib

from pydantic import ValidationError

from channels.voice.menu import DEMO_MENU, Menu
from channels.voice.service import MENU_KEY
from core.ports import UnitOfWork
from core.services.queue_references import mentions


async def phone_menu(uow: UnitOfWork, queue_id: str) -> list[str]:
    stored = await uow.routing.get_document(MENU_KEY)
    menu = DEMO_MENU
    if stored is not None:
        # An older shape that no longer validates: the service falls back to the demo too.
        with contextlib.suppress(ValidationError):
            menu = Menu.model_validate(stored.document)
    places = mentions(menu.model_dump(mode="json"), queue_id)
    return [f"the phone menu ({'; '.join(places)})"] if places else []
