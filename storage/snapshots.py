"""Rows read past the ORM (``storage.direct``): plain frozen copies, which nothing flushes back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import cast

from sqlalchemy import Table

from core.enums import ModerationStatus, Sex
from storage.models import Patient, full_name

PATIENT_COLUMNS = tuple(column.key for column in cast(Table, Patient.__table__).columns)


@dataclass(frozen=True, slots=True)
class Person:
    """A person of a card file as a read saw them: ``Patient``'s columns, in its order (a test holds
    the two alike)."""

    id: int
    account_id: int
    is_owner: bool
    last_name: str
    first_name: str
    middle_name: str | None
    birth_date: date
    sex: Sex
    oms_policy: str | None
    snils: str | None
    phone: str | None
    status: ModerationStatus
    rejection_reason: str | None
    submitted_at: datetime
    decided_at: datetime | None
    decided_by: int | None
    removed_at: datetime | None

    @property
    def full_name(self) -> str:
        return full_name(self.last_name, self.first_name, self.middle_name)

    @classmethod
    def of(cls, patient: Patient) -> Person:
        return cls(*(getattr(patient, name) for name in PATIENT_COLUMNS))

