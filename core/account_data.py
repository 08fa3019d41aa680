"""Everything stored about an account, as «Мои данные» shows it (152-FZ, art. 14): plain records,
and the same as JSON for the file the patient takes away."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from core.enums import (
    AppointmentSource,
    AppointmentStatus,
    AuthMethod,
    ModerationStatus,
    OfferStatus,
    Sex,
    WaitlistStatus,
)
from storage.models import full_name


@dataclass(frozen=True)
class PersonRecord:
    id: int
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
    removed_at: datetime | None  # taken out of the card file; the row was kept until now

    @property
    def full_name(self) -> str:
        return full_name(self.last_name, self.first_name, self.middle_name)


@dataclass(frozen=True)
class VisitRecord:
    id: int
    patient_id: int | None
    doctor: str
    specialty: str
    organization: str
    timezone: str
    starts_at: datetime
    source: AppointmentSource
    status: AppointmentStatus
    created_at: datetime
    cancelled_at: datetime | None


@dataclass(frozen=True)
class OfferRecord:
    id: int
    slot_starts_at: datetime | None
    status: OfferStatus
    created_at: datetime
    expires_at: datetime
    answered_at: datetime | None


@dataclass(frozen=True)
class QueueRecord:
    id: int
    patient_id: int
    specialty: str
    organization: str
    doctor: str | None  # None: any doctor of the specialty (R9)
    status: WaitlistStatus
    offers_used: int
    queued_at: datetime
    closed_at: datetime | None
    offers: tuple[OfferRecord, ...]


@dataclass(frozen=True)
class ChatRecord:
    telegram_id: int
    chat_id: int
    consent_version: str | None
    consent_at: datetime | None
    created_at: datetime
    unreachable_at: datetime | None


@dataclass(frozen=True)
class AccountData:
    account_id: int
    auth_method: AuthMethod
    email: str | None  # whole: it is the patient's own data
    esia_subject: str | None
    consent_version: str | None
    consent_at: datetime | None
    created_at: datetime
    last_login_at: datetime
    people: tuple[PersonRecord, ...]
    visits: tuple[VisitRecord, ...]
    queue: tuple[QueueRecord, ...]
    chats: tuple[ChatRecord, ...]

    def person(self, patient_id: int | None) -> PersonRecord | None:
        return next((p for p in self.people if p.id == patient_id), None)

    def as_json(self) -> dict[str, Any]:
        plain = _plain(asdict(self))
        assert isinstance(plain, dict)
        return plain


def _plain(value: Any) -> Any:
    """Dates as ISO 8601 (UTC for times), enums as their stored values."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value
