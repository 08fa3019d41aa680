"""Typed callback data. Short prefixes, ids only: every id is re-authorized by a core service.

A client may send any callback data, so each field is bounded by its type and range: data that no
button of ours could carry fails to unpack, matches no handler, and is answered as a stale button.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import AfterValidator, Field

# A row id (0: none chosen yet); the databases' integer keys are 32-bit.
Id = Annotated[int, Field(ge=0, le=2**31 - 1)]
Page = Annotated[int, Field(ge=0, le=999)]


def _day(value: int) -> int:
    """0 (no day chosen) or a real date, YYYYMMDD, of this century."""
    if value != 0:
        date(value // 10000, value // 100 % 100, value % 100)  # ValueError if no such day
        if not 20000101 <= value <= 20991231:
            raise ValueError("day out of range")
    return value


Day = Annotated[int, AfterValidator(_day)]


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
    value: Annotated[str, Field(max_length=8)] = ""


class CardAction(StrEnum):
    LIST = "ls"
    OPEN = "op"
    ADD = "ad"
    FIX = "fx"
    REMOVE = "rm"
    REMOVE_OK = "ro"


class CardCb(CallbackData, prefix="cf"):
    action: CardAction
    patient_id: Id = 0


class ModAction(StrEnum):
    CONFIRM = "c"
    REJECT = "r"
    OPEN = "o"


class ModCb(CallbackData, prefix="md"):
    action: ModAction
    patient_id: Id


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
    patient_id: Id = 0
    specialty_id: Id = 0
    doctor_id: Id = 0
    day: Day = 0  # YYYYMMDD in the clinic's time zone
    slot_id: Id = 0
    page: Page = 0


class VisitAction(StrEnum):
    ASK = "a"
    CANCEL = "x"
    KEEP = "k"
    ICS = "i"


class VisitCb(CallbackData, prefix="vi"):
    action: VisitAction
    appointment_id: Id
    back_doctor: Id = 0  # came from the schedule view: return there
    back_day: Day = 0
    back_patient: Id = 0


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
    patient_id: Id = 0
    doctor_id: Id = 0
    entry_id: Id = 0


class OfferAction(StrEnum):
    CONFIRM = "c"
    DECLINE_ASK = "d"
    DECLINE = "dd"
    KEEP = "k"


class OfferCb(CallbackData, prefix="of"):
    action: OfferAction
    offer_id: Id


class RuleField(StrEnum):
    CUTOFF = "cutoff"
    OFFER = "offer"
    WAITLIST = "waitlist"


class RulesCb(CallbackData, prefix="ru"):
    field: RuleField
    organization_id: Id = 0
    enable: bool = False


class PrivacyAction(StrEnum):
    DATA = "d"  # «Мои данные»
    DELETE_ASK = "x"
    DELETE = "xx"
    KEEP = "k"


class PrivacyCb(CallbackData, prefix="pv"):
    action: PrivacyAction
    visits: Page = 0  # the upcoming visits the patient saw listed and agreed to cancel
