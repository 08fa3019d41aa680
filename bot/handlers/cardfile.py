"""«Моя картотека»: the people of the account, their status, adding, fixing, removing (R4)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.handlers.common import message_of
from bot.handlers.person_form import begin_add_form, begin_fix_form, begin_owner_form
from bot.keyboards import cardfile as kb
from bot.keyboards.callbacks import CardAction, CardCb
from bot.texts import cardfile as texts
from bot.texts import common
from core.cardfile import CardFileService
from core.clock import Clock
from core.identity import Identity
from core.visits import VisitsService

router = Router(name=__name__)


@router.message(Command("cardfile"))
@router.message(F.text == common.BTN_CARDFILE)
async def show(message: Message, identity: Identity, state: FSMContext, cardfile: CardFileService) -> None:
    await state.clear()
    people = await cardfile.people(identity)
    if not any(p.is_owner for p in people):
        await message.answer(texts.OWNER_FIRST)
        await begin_owner_form(message, state)
        return
    await message.answer(texts.overview(people), reply_markup=kb.overview(people))


@router.callback_query(CardCb.filter(F.action == CardAction.LIST))
async def back_to_list(query: CallbackQuery, identity: Identity, cardfile: CardFileService) -> None:
    people = await cardfile.people(identity)
    await message_of(query).edit_text(texts.overview(people), reply_markup=kb.overview(people))


@router.callback_query(CardCb.filter(F.action == CardAction.OPEN))
async def open_person(query: CallbackQuery, callback_data: CardCb, identity: Identity, visits: VisitsService,
                      clock: Clock) -> None:
    card = await visits.of_person(identity, callback_data.patient_id)
    await message_of(query).edit_text(texts.person_with_visits(card), reply_markup=kb.person(card, clock.now()))


@router.callback_query(CardCb.filter(F.action == CardAction.ADD))
async def add(query: CallbackQuery, identity: Identity, state: FSMContext) -> None:
    identity.require_account()
    await begin_add_form(message_of(query), state)


@router.callback_query(CardCb.filter(F.action == CardAction.FIX))
async def fix(query: CallbackQuery, callback_data: CardCb, identity: Identity, state: FSMContext,
              cardfile: CardFileService) -> None:
    patient = await cardfile.person(identity, callback_data.patient_id)  # authorizes the id
    await begin_fix_form(message_of(query), state, patient.id)


@router.callback_query(CardCb.filter(F.action == CardAction.REMOVE))
async def remove_ask(query: CallbackQuery, callback_data: CardCb, identity: Identity,
                     cardfile: CardFileService) -> None:
    patient = await cardfile.person(identity, callback_data.patient_id)
    await message_of(query).edit_text(texts.person_card(patient) + "\n\n" + texts.REMOVE_ASK,
                                      reply_markup=kb.confirm_remove(patient.id))


@router.callback_query(CardCb.filter(F.action == CardAction.REMOVE_OK))
async def remove(query: CallbackQuery, callback_data: CardCb, identity: Identity, cardfile: CardFileService,
                 callback_answer: CallbackAnswer) -> None:
    await cardfile.remove(identity, callback_data.patient_id)
    people = await cardfile.people(identity)
    callback_answer.text = texts.REMOVED
    await message_of(query).edit_text(texts.overview(people), reply_markup=kb.overview(people))
