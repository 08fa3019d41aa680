from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.keyboards.callbacks import LoginAction, LoginCb, PrivacyAction, PrivacyCb
from bot.texts import login
from bot.texts import privacy as texts


def screen(logged_in: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    if logged_in:
        builder.button(text=texts.BTN_MY_DATA, callback_data=PrivacyCb(action=PrivacyAction.DATA))
        builder.button(text=texts.BTN_DELETE, callback_data=PrivacyCb(action=PrivacyAction.DELETE_ASK))
    builder.button(text=login.BTN_WITHDRAW, callback_data=LoginCb(action=LoginAction.WITHDRAW))
    builder.adjust(1)
    return builder.as_markup()


def confirm_delete(visits: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=texts.BTN_DELETE_AND_CANCEL if visits else texts.BTN_DELETE,
                   callback_data=PrivacyCb(action=PrivacyAction.DELETE, visits=visits))
    builder.button(text=texts.BTN_KEEP, callback_data=PrivacyCb(action=PrivacyAction.KEEP))
    builder.adjust(1)
    return builder.as_markup()
