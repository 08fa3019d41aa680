"""ORM models: the database is the source of truth for every state the bot shows."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core.enums import (
    AppointmentSource,
    AppointmentStatus,
    AuthMethod,
    ModerationStatus,
    OfferStatus,
    OutboxStatus,
    SlotStatus,
    WaitlistStatus,
)
from core.enums import Sex as SexEnum
from storage.types import UTCDateTime, str_enum

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


# --- people and log-in -------------------------------------------------------------------------


class TelegramUser(Base):
    """A Telegram user who talked to the bot; consent is theirs before any account exists."""

    __tablename__ = "telegram_users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    consent_version: Mapped[str | None] = mapped_column(String(32))
    consent_at: Mapped[datetime | None]
    unreachable_at: Mapped[datetime | None]  # the user blocked the bot (403)
    created_at: Mapped[datetime]


class Account(Base):
    """A portal account (учетная запись): one per e-mail address or ESIA subject."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    auth_method: Mapped[AuthMethod] = mapped_column(str_enum(AuthMethod))
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    esia_subject: Mapped[str | None] = mapped_column(String(128), unique=True)
    consent_version: Mapped[str | None] = mapped_column(String(32))
    consent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime]


class LoginCode(Base):
    __tablename__ = "login_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    email: Mapped[str] = mapped_column(String(254))
    code_hash: Mapped[str] = mapped_column(String(128))
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class EsiaLoginState(Base):
    """The one-time ``state`` of an OpenID Connect log-in; used once, then dead."""

    __tablename__ = "esia_login_states"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    nonce: Mapped[str] = mapped_column(String(64))
    # PKCE (RFC 7636): sent with the code, so a code stolen from another log-in is worth nothing.
    # None only for a log-in begun before this column existed.
    code_verifier: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class Patient(Base):
    """A person in an account's card file (картотека); each one is moderated separately (R4)."""

    __tablename__ = "patients"
    __table_args__ = (
        # One owner per account, whatever the concurrency: the database says no to a second one.
        Index("uq_patients_one_owner", "account_id", unique=True,
              sqlite_where=text("is_owner"), postgresql_where=text("is_owner")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    is_owner: Mapped[bool] = mapped_column(Boolean, default=False)
    last_name: Mapped[str] = mapped_column(String(60))
    first_name: Mapped[str] = mapped_column(String(60))
    middle_name: Mapped[str | None] = mapped_column(String(60))
    birth_date: Mapped[date] = mapped_column(Date)
    sex: Mapped[SexEnum] = mapped_column(str_enum(SexEnum))
    oms_policy: Mapped[str | None] = mapped_column(String(16), index=True)
    snils: Mapped[str | None] = mapped_column(String(11), index=True)
    phone: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[ModerationStatus] = mapped_column(str_enum(ModerationStatus))
    rejection_reason: Mapped[str | None] = mapped_column(String(500))
    submitted_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[int | None] = mapped_column(BigInteger)
    removed_at: Mapped[datetime | None]

    @property
    def full_name(self) -> str:
        return full_name(self.last_name, self.first_name, self.middle_name)


def full_name(last_name: str, first_name: str, middle_name: str | None) -> str:
    return " ".join(p for p in (last_name, first_name, middle_name) if p)


# --- clinics and schedules ---------------------------------------------------------------------


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))
    phone: Mapped[str | None] = mapped_column(String(32))
    timezone: Mapped[str] = mapped_column(String(64))
    waitlist_enabled: Mapped[bool] = mapped_column(Boolean, default=False)


class Specialty(Base):
    __tablename__ = "specialties"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))


class Doctor(Base):
    __tablename__ = "doctors"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    specialty_id: Mapped[int] = mapped_column(ForeignKey("specialties.id"), index=True)
    cabinet: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Slot(Base):
    __tablename__ = "slots"
    __table_args__ = (Index("ix_slots_doctor_status_start", "doctor_id", "status", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[SlotStatus] = mapped_column(str_enum(SlotStatus))


class Appointment(Base):
    """A booking (запись на прием). Portal ones have a patient and the account that made them;
    ones imported from a clinic system carry the patient's identity numbers instead (R22)."""

    __tablename__ = "appointments"
    __table_args__ = (
        # R7: the database itself refuses a second active booking of one slot.
        Index(
            "uq_appointments_active_slot",
            "slot_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        # A patient's active, future appointments (one per doctor, R7's rule; the card file). With
        # the start in it, SQLite's planner takes it over status + start, which would read every
        # patient's future appointments.
        Index("ix_appointments_patient_status_starts", "patient_id", "status", "starts_at"),
        Index("ix_appointments_status_starts", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"))
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id"))
    starts_at: Mapped[datetime]  # copied from the slot: lists and reminders sort and scan by it
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patients.id"))
    made_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    source: Mapped[AppointmentSource] = mapped_column(str_enum(AppointmentSource))
    patient_oms: Mapped[str | None] = mapped_column(String(16), index=True)
    patient_snils: Mapped[str | None] = mapped_column(String(11), index=True)
    status: Mapped[AppointmentStatus] = mapped_column(str_enum(AppointmentStatus))
    created_at: Mapped[datetime]
    cancelled_at: Mapped[datetime | None]
    cancelled_by: Mapped[str | None] = mapped_column(String(32))
    reminded_day_at: Mapped[datetime | None]
    reminded_soon_at: Mapped[datetime | None]


# --- waitlist ----------------------------------------------------------------------------------


class WaitlistEntry(Base):
    __tablename__ = "waitlist_entries"
    __table_args__ = (
        Index("ix_waitlist_match", "status", "organization_id", "specialty_id", "queued_at"),
        Index("ix_waitlist_patient", "patient_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    specialty_id: Mapped[int] = mapped_column(ForeignKey("specialties.id"))
    doctor_id: Mapped[int | None] = mapped_column(ForeignKey("doctors.id"))  # None: any doctor (R9)
    status: Mapped[WaitlistStatus] = mapped_column(str_enum(WaitlistStatus))
    offers_used: Mapped[int] = mapped_column(Integer, default=0)
    queued_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class Offer(Base):
    __tablename__ = "offers"
    __table_args__ = (
        Index(
            "uq_offers_pending_slot",
            "slot_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_offers_status_expires", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("waitlist_entries.id"), index=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id"))
    status: Mapped[OfferStatus] = mapped_column(str_enum(OfferStatus))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]


# --- system ------------------------------------------------------------------------------------


class SystemRule(Base):
    """Operator-set rules (R25): cancel cutoff, offer time. Read on each use, so changes apply at once."""

    __tablename__ = "system_rules"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime]
    updated_by: Mapped[int | None] = mapped_column(BigInteger)


class OutboxMessage(Base):
    """A message owed to a chat, written in the same transaction as the change it reports."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]]
    status: Mapped[OutboxStatus] = mapped_column(str_enum(OutboxStatus))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    last_error: Mapped[str | None] = mapped_column(String(300))


class AuditEntry(Base):
    """Who did what and when. Ids and action names only: no names, SNILS, policies or e-mails."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor_telegram_id: Mapped[int | None] = mapped_column(BigInteger)
    account_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ConversationState(Base):
    """Where a chat is in a conversation (aiogram's FSM state and form data), so that a half-filled
    form survives a restart or a deploy. Keyed by aiogram's storage key (bot, chat, user)."""

    __tablename__ = "conversation_states"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(100))
    data: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class ProcessedUpdate(Base):
    """A Telegram update an instance took on: Telegram redelivers an update whose webhook call failed
    or timed out, and the redelivery must not act a second time. Kept a day (long past any redelivery)."""

    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    instance: Mapped[str] = mapped_column(String(100))
    claimed_at: Mapped[datetime] = mapped_column(index=True)  # renewed while the handler runs
    done_at: Mapped[datetime | None]
