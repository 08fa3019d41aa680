"""Typed callback data. Short prefixes, ids only: every id is re-authorized by a core service."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class LoginAction(StrEnum):
    CONSENT = "consent"
    DECLINE = "decline"
    WITHDRAW = "withdraw"
    EMAIL = "email"
    RESEND = "resend"
    ESIA = "esia"


class LoginCb(CallbackData, prefix="lg"):
    action: LoginAction


class PersonAction(StrEnum):
    SEX = "sx"
    SKIP = "sk"
    SUBMIT = "ok"
    RESTART = "rs"
    CANCEL = "cn"


class PersonCb(CallbackData, prefix="pf"):
    action: PersonAction
    value: str = ""


class CardAction(StrEnum):
    LIST = "ls"
    OPEN = "op"
    ADD = "ad"
    FIX = "fx"
    REMOVE = "rm"
    REMOVE_OK = "ro"


class CardCb(CallbackData, prefix="cf"):
    action: CardAction
    patient_id: int = 0


class ModAction(StrEnum):
    CONFIRM = "c"
    REJECT = "r"
    OPEN = "o"


class ModCb(CallbackData, prefix="md"):
    action: ModAction
    patient_id: int


class BookStep(StrEnum):
    PEOPLE = "pp"
    PERSON = "p"
    SPECIALTY = "s"
    DOCTOR = "d"
    DAY = "t"
    SLOT = "c"
    CONFIRM = "ok"
    DAY_VIEW = "dv"


class BookCb(CallbackData, prefix="bk"):
    """Where the patient is in «Запись к врачу»; every id is checked again by the services."""

    step: BookStep
    patient_id: int = 0
    specialty_id: int = 0
    doctor_id: int = 0
    day: int = 0  # YYYYMMDD in the clinic's time zone
    slot_id: int = 0
    page: int = 0


class VisitAction(StrEnum):
    ASK = "a"
    CANCEL = "x"
    KEEP = "k"
    ICS = "i"


class VisitCb(CallbackData, prefix="vi"):
    action: VisitAction
    appointment_id: int
    back_doctor: int = 0  # came from the schedule view: return there
    back_day: int = 0
    back_patient: int = 0


class QueueAction(StrEnum):
    START = "s"  # «Встать в очередь» on a doctor without free time
    THIS_DOCTOR = "d"
    ANY_DOCTOR = "a"
    CONFIRM_DOCTOR = "cd"
    CONFIRM_ANY = "ca"
    LEAVE_ASK = "l"
    LEAVE = "lo"


class QueueCb(CallbackData, prefix="q"):
    action: QueueAction
    patient_id: int = 0
    doctor_id: int = 0
    entry_id: int = 0


class OfferAction(StrEnum):
    CONFIRM = "c"
    DECLINE_ASK = "d"
    DECLINE = "dd"
    KEEP = "k"


class OfferCb(CallbackData, prefix="of"):
    action: OfferAction
    offer_id: int


class RuleField(StrEnum):
    CUTOFF = "cutoff"
    OFFER = "offer"
    WAITLIST = "waitlist"


class RulesCb(CallbackData, prefix="ru"):
    field: RuleField
    organization_id: int = 0
    enable: bool = False
