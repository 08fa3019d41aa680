from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardMarkup

from bot.keyboards.callbacks import PersonAction, PersonCb
from bot.keyboards.login import main_menu
from bot.texts import common
from bot.texts import person as texts
from core.enums import Sex
from core.identity import Identity


def _button(text: str, action: PersonAction, value: str = "") -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=PersonCb(action=action, value=value).pack())


def cancel_only() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[_button(common.BTN_CANCEL, PersonAction.CANCEL)]])


def sex() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[
        [_button(texts.BTN_MALE, PersonAction.SEX, Sex.MALE.value),
         _button(texts.BTN_FEMALE, PersonAction.SEX, Sex.FEMALE.value)],
        [_button(common.BTN_CANCEL, PersonAction.CANCEL)],
    ])


def skip() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[
        [_button(texts.BTN_SKIP, PersonAction.SKIP), _button(common.BTN_CANCEL, PersonAction.CANCEL)]])


def review() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[
        [_button(texts.BTN_SUBMIT, PersonAction.SUBMIT)],
        [_button(texts.BTN_RESTART, PersonAction.RESTART), _button(common.BTN_CANCEL, PersonAction.CANCEL)],
    ])


def after_submit(identity: Identity) -> ReplyKeyboardMarkup:
    return main_menu(identity)
