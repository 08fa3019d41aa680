"""Names shared by the rules and the database; values are what the database stores."""

from __future__ import annotations

from enum import StrEnum


class AuthMethod(StrEnum):
    EMAIL = "email"
    ESIA = "esia"


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


class ModerationStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class Role(StrEnum):
    PATIENT = "patient"
    MODERATOR = "moderator"
    OPERATOR = "operator"


class SlotStatus(StrEnum):
    FREE = "free"
    BOOKED = "booked"
    HELD = "held"  # offered to a waitlisted patient (R10)
    WITHDRAWN = "withdrawn"  # the clinic took the time out of the schedule (R27)


class AppointmentStatus(StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"


class AppointmentSource(StrEnum):
    PORTAL = "portal"
    EQUEUE = "equeue"
    DOCTOR = "doctor"
    REGISTRY = "registry"
    INFOMAT = "infomat"


class WaitlistStatus(StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    BOOKED = "booked"
    LEFT = "left"
    EXHAUSTED = "exhausted"


class OfferStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    EXPIRED = "expired"
    VOID = "void"  # the slot disappeared or the entry was closed before an answer


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"
