"""Typed callback data. Short prefixes, ids only: every id is re-authorized by a core service."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class LoginCb(CallbackData, prefix="lg"):
    action: str  # consent | decline | email | resend | other_email


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
