from __future__ import annotations

from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.keyboards.callbacks import LoginCb
from bot.texts import common, login
from core.enums import Role
from core.identity import Identity


def consent() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=login.BTN_AGREE, callback_data=LoginCb(action="consent").pack()),
        InlineKeyboardButton(text=login.BTN_DISAGREE, callback_data=LoginCb(action="decline").pack()),
    ]])


def login_methods(esia_enabled: bool) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton(text=login.BTN_EMAIL, callback_data=LoginCb(action="email").pack())]]
    if esia_enabled:
        rows.append([InlineKeyboardButton(text=login.BTN_ESIA, callback_data=LoginCb(action="esia").pack())])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def esia_link(url: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=login.BTN_OPEN_ESIA, url=url)]])


def code_sent() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=login.BTN_RESEND, callback_data=LoginCb(action="resend").pack()),
        InlineKeyboardButton(text=login.BTN_OTHER_EMAIL, callback_data=LoginCb(action="email").pack()),
    ]])


def main_menu(identity: Identity) -> ReplyKeyboardMarkup:
    rows = [[KeyboardButton(text=common.BTN_BOOK), KeyboardButton(text=common.BTN_CARDFILE)],
            [KeyboardButton(text=common.BTN_HELP)]]
    staff = []
    if Role.MODERATOR in identity.roles:
        staff.append(KeyboardButton(text=common.BTN_MODERATION))
    if Role.OPERATOR in identity.roles:
        staff.append(KeyboardButton(text=common.BTN_RULES))
    if staff:
        rows.append(staff)
    return ReplyKeyboardMarkup(keyboard=rows, resize_keyboard=True, is_persistent=True)


def withdraw() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=login.BTN_WITHDRAW, callback_data=LoginCb(action="withdraw").pack())]])


def no_menu() -> ReplyKeyboardRemove:
    return ReplyKeyboardRemove()
