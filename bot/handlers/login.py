"""Log-in conversation: e-mail with a one-time code, or a link to ESIA (R1, R3)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.filters import TYPED
from bot.handlers.common import message_of
from bot.handlers.person_form import begin_owner_form
from bot.keyboards import login as kb
from bot.keyboards.callbacks import LoginAction, LoginCb
from bot.states import EmailLoginStates
from bot.texts import login
from core.errors import CodeExpired, NotAllowed
from core.identity import Identity
from core.login import EmailLogin, EsiaLogin

router = Router(name=__name__)


@router.callback_query(LoginCb.filter(F.action == LoginAction.EMAIL))
async def ask_email(query: CallbackQuery, identity: Identity, state: FSMContext) -> None:
    identity.require_consent()
    await state.set_state(EmailLoginStates.email)
    await message_of(query).answer(login.EMAIL_ASK)


@router.message(StateFilter(EmailLoginStates.email), TYPED)
async def got_email(message: Message, identity: Identity, state: FSMContext, email_login: EmailLogin) -> None:
    assert message.text is not None
    sent = await email_login.request_code(identity, message.text)
    await state.set_state(EmailLoginStates.code)
    await message.answer(login.code_sent(login.mask_email(sent.email), email_login.policy.ttl.seconds // 60),
                         reply_markup=kb.code_sent())


@router.callback_query(LoginCb.filter(F.action == LoginAction.RESEND))
async def resend(query: CallbackQuery, identity: Identity, state: FSMContext, email_login: EmailLogin) -> None:
    sent = await email_login.resend(identity)
    await state.set_state(EmailLoginStates.code)
    await message_of(query).answer(login.code_sent(login.mask_email(sent.email), email_login.policy.ttl.seconds // 60),
                                   reply_markup=kb.code_sent())


@router.message(StateFilter(EmailLoginStates.code), TYPED)
async def got_code(message: Message, identity: Identity, state: FSMContext, email_login: EmailLogin) -> None:
    assert message.text is not None
    try:
        result = await email_login.verify(identity, message.text)
    except CodeExpired:
        await state.clear()  # a new code is needed; a wrong one keeps the state for another try
        raise
    await state.clear()
    if result.has_owner:
        await message.answer(login.WELCOME_BACK, reply_markup=kb.main_menu(identity))
        return
    await message.answer(login.OWNER_DATA_ASK)
    await begin_owner_form(message, state)


@router.callback_query(LoginCb.filter(F.action == LoginAction.ESIA))
async def esia(query: CallbackQuery, identity: Identity, esia_login: EsiaLogin | None) -> None:
    if esia_login is None:
        raise NotAllowed()
    url = await esia_login.start(identity)
    await message_of(query).answer(login.ESIA_LINK, reply_markup=kb.esia_link(url))
