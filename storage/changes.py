"""What a write transaction changed that this process's in-memory views must hear of.

Kept on the session (``session.info``) or the ``DirectTransaction``: the repositories' conditional
UPDATEs note the slots they changed, and a flush hook notes rows changed through the ORM (card-file
people; slots an import edits row by row). ``Database.write`` and ``direct_write`` hand it to the
listeners once the commit is done, and never for a transaction that rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session

from core.enums import SlotStatus
from storage.models import Patient, Slot

_KEY = "changes"


@dataclass(frozen=True)
class SlotChange:
    """A slot's status as the transaction left it."""

    slot_id: int
    doctor_id: int
    starts_at: datetime
    status: SlotStatus


@dataclass
class Changes:
    slots: list[SlotChange] = field(default_factory=list)
    slots_in_bulk: bool = False  # slot rows edited through the ORM: views of free time start over
    card_files: set[int] = field(default_factory=set)  # accounts whose people were added or changed


class _Transaction(Protocol):
    """A session, or a ``storage.direct.DirectTransaction``."""

    @property
    def info(self) -> dict[Any, Any]: ...


def changes_of(transaction: _Transaction) -> Changes:
    changes: Changes = transaction.info.setdefault(_KEY, Changes())
    return changes


class WriteSession(Session):
    """The session of ``Database.write()``: each flush notes what it changes."""


@event.listens_for(WriteSession, "before_flush")
def _note_flushed_rows(session: Session, _context: Any, _instances: Any) -> None:
    rows = (*session.new, *session.dirty, *session.deleted)
    changes = changes_of(session)
    changes.card_files.update(row.account_id for row in rows if isinstance(row, Patient))
    if any(isinstance(row, Slot) for row in rows):
        changes.slots_in_bulk = True
