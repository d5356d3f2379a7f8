"""Internal notes on a case: what agents tell each other, never shown to the customer.

The rules follow what Zendesk and Zammad do with internal notes:

* a note is never edited: what colleagues read and acted on stays as it was written
  (Zendesk's comments and Zammad's articles cannot be edited either);
* only its author may delete it, and only within ``DELETE_WINDOW`` (ten minutes, Zammad's
  default ``ui_ticket_zoom_article_delete_timeframe``) — long enough to take back a note
  put on the wrong case, short enough that nobody removes what others may have relied on;
  after that the note belongs to the case's record. A supervisor has no override: a note
  is part of the record, not of anyone's workspace.

Who wrote a note is told by ``author_id``: the agent's id for an agent (so the browser
session and an API token of the same agent are one author), else the principal's id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.domain.errors import Conflict, DomainError

DELETE_WINDOW = timedelta(minutes=10)
MAX_TEXT = 4000
MAX_PER_CASE = 200


class NotTheAuthor(DomainError):
    """Someone other than its author asked to delete a note (the web layer says 403)."""


class NoteLocked(Conflict):
    """The note is older than the delete window: it is part of the case's record now."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Note:
    id: str
    case_id: str
    text: str
    author: str  # the author's name as it was when they wrote
    author_id: str
    agent_id: str | None
    created_at: datetime

    def deletable_until(self, window: timedelta = DELETE_WINDOW) -> datetime:
        return self.created_at + window

    def check_delete(self, *, by_id: str, at: datetime,
                     window: timedelta = DELETE_WINDOW) -> None:
        """Raise unless ``by_id`` may delete this note at ``at``."""
        if by_id != self.author_id:
            raise NotTheAuthor("only the author may delete a note")
        if at >= self.deletable_until(window):
            raise NoteLocked(f"a note can be deleted only within "
                             f"{int(window.total_seconds() // 60)} minutes of writing it")
