from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove
from aiogram.utils.keyboard import InlineKeyboardBuilder, ReplyKeyboardBuilder

from bot.keyboards.callbacks import LoginAction, LoginCb
from bot.texts import common, login
from core.enums import Role
from core.identity import Identity


def consent() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=login.BTN_AGREE, callback_data=LoginCb(action=LoginAction.CONSENT))
    builder.button(text=login.BTN_DISAGREE, callback_data=LoginCb(action=LoginAction.DECLINE))
    return builder.as_markup()


def login_methods(esia_enabled: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=login.BTN_EMAIL, callback_data=LoginCb(action=LoginAction.EMAIL))
    if esia_enabled:
        builder.button(text=login.BTN_ESIA, callback_data=LoginCb(action=LoginAction.ESIA))
    builder.adjust(1)
    return builder.as_markup()


def esia_link(url: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=login.BTN_OPEN_ESIA, url=url)
    return builder.as_markup()


def code_sent() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=login.BTN_RESEND, callback_data=LoginCb(action=LoginAction.RESEND))
    builder.button(text=login.BTN_OTHER_EMAIL, callback_data=LoginCb(action=LoginAction.EMAIL))
    return builder.as_markup()


def main_menu(identity: Identity) -> ReplyKeyboardMarkup:
    builder = ReplyKeyboardBuilder()
    builder.button(text=common.BTN_BOOK)
    builder.button(text=common.BTN_CARDFILE)
    builder.button(text=common.BTN_HELP)
    if Role.MODERATOR in identity.roles:
        builder.button(text=common.BTN_MODERATION)
    if Role.OPERATOR in identity.roles:
        builder.button(text=common.BTN_RULES)
    builder.adjust(2, 1, 2)
    return builder.as_markup(resize_keyboard=True, is_persistent=True)


def no_menu() -> ReplyKeyboardRemove:
    return ReplyKeyboardRemove()
