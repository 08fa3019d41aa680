"""/start, consent (152-FZ), the main menu, help and log-out."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.handlers.common import message_of
from bot.keyboards import login as kb
from bot.keyboards.callbacks import LoginAction, LoginCb
from bot.texts import common, login
from core.access import AccessService
from core.identity import Identity

router = Router(name=__name__)


async def show_entry(message: Message, identity: Identity, consent_text: str, esia_enabled: bool) -> None:
    """Where a person stands decides the first screen: consent, log-in, or the menu."""
    if not identity.consented:
        await message.answer(login.GREETING)
        await message.answer(login.CONSENT_ASK)
        await message.answer(consent_text, reply_markup=kb.consent())
    elif identity.account_id is None:
        await message.answer(login.LOGIN_ASK, reply_markup=kb.login_methods(esia_enabled))
    else:
        await message.answer(common.MENU, reply_markup=kb.main_menu(identity))


@router.message(CommandStart())
async def start(message: Message, identity: Identity, state: FSMContext, consent_text: str,
                esia_enabled: bool) -> None:
    await state.clear()
    await show_entry(message, identity, consent_text, esia_enabled)


@router.message(Command("menu"))
@router.message(F.text == common.BTN_MENU)
async def menu(message: Message, identity: Identity, state: FSMContext, consent_text: str,
               esia_enabled: bool) -> None:
    await state.clear()
    await show_entry(message, identity, consent_text, esia_enabled)


@router.message(Command("id"))
async def telegram_id(message: Message, identity: Identity) -> None:
    """Whoever sets the bot up needs their own id for MODERATOR_IDS / OPERATOR_IDS."""
    await message.answer(common.your_telegram_id(identity.telegram_id))


@router.message(Command("help"))
@router.message(F.text == common.BTN_HELP)
async def help_(message: Message) -> None:
    await message.answer(common.HELP)


@router.callback_query(LoginCb.filter(F.action == LoginAction.CONSENT))
async def consent_given(query: CallbackQuery, identity: Identity, access: AccessService,
                        esia_enabled: bool) -> None:
    await access.give_consent(identity.telegram_id, identity.chat_id)
    await message_of(query).answer(login.LOGIN_ASK, reply_markup=kb.login_methods(esia_enabled))


@router.callback_query(LoginCb.filter(F.action == LoginAction.DECLINE))
async def consent_declined(query: CallbackQuery) -> None:
    await message_of(query).answer(login.CONSENT_DECLINED)


@router.message(Command("logout"))
async def logout(message: Message, identity: Identity, access: AccessService, state: FSMContext) -> None:
    await state.clear()
    if await access.logout(identity):
        await message.answer(login.LOGGED_OUT, reply_markup=kb.no_menu())
    else:
        await message.answer(login.NOT_LOGGED_IN)
