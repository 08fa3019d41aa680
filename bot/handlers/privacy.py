"""/privacy and /mydata: see the stored data, delete the account, withdraw consent (152-FZ)."""

from __future__ import annotations

import json

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from bot.handlers.common import message_of
from bot.keyboards import login as login_kb
from bot.keyboards import privacy as kb
from bot.keyboards.callbacks import LoginAction, LoginCb, PrivacyAction, PrivacyCb
from bot.texts import privacy as texts
from core.identity import Identity
from core.privacy import HasUpcomingVisits, PrivacyService, VisitsPastCutoff

router = Router(name=__name__)


@router.message(Command("privacy"))
async def show(message: Message, identity: Identity, consent_text: str) -> None:
    if not identity.consented:
        await message.answer(consent_text, reply_markup=login_kb.consent())
        return
    await message.answer(consent_text)
    await message.answer(texts.SCREEN, reply_markup=kb.screen(identity.account_id is not None))


async def send_my_data(message: Message, identity: Identity, privacy: PrivacyService) -> None:
    data = await privacy.export(identity)
    for part in texts.my_data(data):
        await message.answer(part)
    raw = json.dumps(data.as_json(), ensure_ascii=False, indent=2).encode()
    await message.answer_document(BufferedInputFile(raw, filename=texts.DATA_FILE), caption=texts.SENT_FILE)


@router.message(Command("mydata"))
async def my_data(message: Message, identity: Identity, privacy: PrivacyService) -> None:
    await send_my_data(message, identity, privacy)


@router.callback_query(PrivacyCb.filter(F.action == PrivacyAction.DATA))
async def my_data_button(query: CallbackQuery, identity: Identity, privacy: PrivacyService) -> None:
    await send_my_data(message_of(query), identity, privacy)


@router.callback_query(PrivacyCb.filter(F.action == PrivacyAction.DELETE_ASK))
async def ask_delete(query: CallbackQuery, identity: Identity, privacy: PrivacyService) -> None:
    visits = await privacy.upcoming(identity)
    late = [v for v in visits if not v.cancellable]
    if late:
        await message_of(query).answer(texts.past_cutoff(late))
    elif visits:
        await message_of(query).answer(texts.has_upcoming(visits), reply_markup=kb.confirm_delete(len(visits)))
    else:
        await message_of(query).answer(texts.ASK_DELETE, reply_markup=kb.confirm_delete(0))


@router.callback_query(PrivacyCb.filter(F.action == PrivacyAction.DELETE))
async def delete(query: CallbackQuery, callback_data: PrivacyCb, identity: Identity, privacy: PrivacyService,
                 state: FSMContext, fsm_storage: BaseStorage, bot: Bot) -> None:
    message = message_of(query)
    try:
        deleted = await privacy.delete_account(identity, callback_data.visits)
    except VisitsPastCutoff as exc:
        await message.edit_text(texts.past_cutoff(exc.visits))
        return
    except HasUpcomingVisits as exc:  # booked or cancelled since the warning: show the list as it is now
        await message.edit_text(texts.has_upcoming(exc.visits), reply_markup=kb.confirm_delete(len(exc.visits)))
        return
    await state.clear()
    for user_id, chat_id in deleted.unlinked:  # half-filled forms in the account's other chats
        await fsm_storage.set_state(StorageKey(bot.id, chat_id, user_id), None)
        await fsm_storage.set_data(StorageKey(bot.id, chat_id, user_id), {})
    await message.edit_text(texts.account_deleted(deleted.cancelled))
    await message.answer(texts.START_AGAIN, reply_markup=login_kb.no_menu())


@router.callback_query(PrivacyCb.filter(F.action == PrivacyAction.KEEP))
async def keep(query: CallbackQuery) -> None:
    await message_of(query).edit_text(texts.DELETE_KEPT)


@router.callback_query(LoginCb.filter(F.action == LoginAction.WITHDRAW))
async def withdraw(query: CallbackQuery, identity: Identity, privacy: PrivacyService, state: FSMContext) -> None:
    await privacy.withdraw_consent(identity)
    await state.clear()
    await message_of(query).answer(texts.CONSENT_WITHDRAWN, reply_markup=login_kb.no_menu())
