from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup, ReplyKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.keyboards.callbacks import PersonAction, PersonCb
from bot.keyboards.login import main_menu
from bot.texts import common
from bot.texts import person as texts
from core.enums import Sex
from core.identity import Identity


def cancel_only() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=common.BTN_CANCEL, callback_data=PersonCb(action=PersonAction.CANCEL))
    return builder.as_markup()


def sex() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=texts.BTN_MALE, callback_data=PersonCb(action=PersonAction.SEX, value=Sex.MALE.value))
    builder.button(text=texts.BTN_FEMALE, callback_data=PersonCb(action=PersonAction.SEX, value=Sex.FEMALE.value))
    builder.button(text=common.BTN_CANCEL, callback_data=PersonCb(action=PersonAction.CANCEL))
    builder.adjust(2, 1)
    return builder.as_markup()


def skip() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=texts.BTN_SKIP, callback_data=PersonCb(action=PersonAction.SKIP))
    builder.button(text=common.BTN_CANCEL, callback_data=PersonCb(action=PersonAction.CANCEL))
    return builder.as_markup()


def review() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=texts.BTN_SUBMIT, callback_data=PersonCb(action=PersonAction.SUBMIT))
    builder.button(text=texts.BTN_RESTART, callback_data=PersonCb(action=PersonAction.RESTART))
    builder.button(text=common.BTN_CANCEL, callback_data=PersonCb(action=PersonAction.CANCEL))
    builder.adjust(1, 2)
    return builder.as_markup()


def after_submit(identity: Identity) -> ReplyKeyboardMarkup:
    return main_menu(identity)
