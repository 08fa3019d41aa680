"""Typing a person's data: owner after an e-mail log-in, a family member, or a fix (R4).

Each answer is checked at once and the step asked again on error; nothing is stored until the
patient presses «Отправить на проверку» and the card file service saves it in one transaction.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.filters import TYPED
from bot.handlers.common import message_of
from bot.keyboards import person as kb
from bot.keyboards.callbacks import PersonAction, PersonCb
from bot.states import PersonForm
from bot.texts import person as texts
from bot.texts.errors import error_text
from core import validation
from core.cardfile import CardFileService, PersonData, phone_required
from core.clock import Clock
from core.enums import Sex
from core.errors import InvalidInput
from core.identity import Identity

router = Router(name=__name__)


async def begin_owner_form(message: Message, state: FSMContext) -> None:
    await _begin(message, state, mode="owner")


async def begin_add_form(message: Message, state: FSMContext) -> None:
    await message.answer(texts.ADD_PERSON_INTRO)
    await _begin(message, state, mode="add")


async def begin_fix_form(message: Message, state: FSMContext, patient_id: int) -> None:
    await message.answer(texts.FIX_INTRO)
    await _begin(message, state, mode="fix", patient_id=patient_id)


async def _begin(message: Message, state: FSMContext, **data: Any) -> None:
    await state.set_state(PersonForm.full_name)
    await state.set_data(data)
    await message.answer(texts.ASK_FULL_NAME, reply_markup=kb.cancel_only())


async def _retry(message: Message, exc: InvalidInput) -> None:
    await message.answer(error_text(exc))


@router.message(StateFilter(PersonForm.full_name), TYPED)
async def full_name(message: Message, state: FSMContext) -> None:
    assert message.text is not None
    try:
        last, first, middle = validation.full_name(message.text)
    except InvalidInput as exc:
        await _retry(message, exc)
        return
    await state.update_data(last=last, first=first, middle=middle)
    await state.set_state(PersonForm.birth_date)
    await message.answer(texts.ASK_BIRTH_DATE, reply_markup=kb.cancel_only())


@router.message(StateFilter(PersonForm.birth_date), TYPED)
async def birth_date(message: Message, state: FSMContext, clock: Clock) -> None:
    assert message.text is not None
    try:
        born = validation.birth_date(message.text, clock.now().date())
    except InvalidInput as exc:
        await _retry(message, exc)
        return
    await state.update_data(born=born.isoformat())
    await state.set_state(PersonForm.sex)
    await message.answer(texts.ASK_SEX, reply_markup=kb.sex())


@router.callback_query(StateFilter(PersonForm.sex), PersonCb.filter(F.action == PersonAction.SEX))
async def sex(query: CallbackQuery, callback_data: PersonCb, state: FSMContext) -> None:
    chosen = validation.sex(callback_data.value)
    await state.update_data(sex=chosen.value)
    await state.set_state(PersonForm.oms_policy)
    await message_of(query).answer(texts.ASK_OMS, reply_markup=kb.cancel_only())


@router.message(StateFilter(PersonForm.oms_policy), TYPED)
async def oms_policy(message: Message, state: FSMContext) -> None:
    assert message.text is not None
    try:
        oms = validation.oms_policy(message.text)
    except InvalidInput as exc:
        await _retry(message, exc)
        return
    await state.update_data(oms=oms)
    await state.set_state(PersonForm.snils)
    await message.answer(texts.ASK_SNILS, reply_markup=kb.skip())


@router.message(StateFilter(PersonForm.snils), TYPED)
async def snils(message: Message, state: FSMContext) -> None:
    assert message.text is not None
    try:
        value = validation.snils(message.text)
    except InvalidInput as exc:
        await _retry(message, exc)
        return
    await state.update_data(snils=value)
    await _ask_phone(message, state)


@router.callback_query(StateFilter(PersonForm.snils), PersonCb.filter(F.action == PersonAction.SKIP))
async def snils_skipped(query: CallbackQuery, state: FSMContext) -> None:
    await state.update_data(snils=None)
    await _ask_phone(message_of(query), state)


async def _ask_phone(message: Message, state: FSMContext) -> None:
    await state.set_state(PersonForm.phone)
    required = phone_required((await state.get_data()).get("mode") == "owner")
    await message.answer(texts.ASK_PHONE if required else texts.ASK_PHONE_OPTIONAL,
                         reply_markup=kb.cancel_only() if required else kb.skip())


@router.message(StateFilter(PersonForm.phone), TYPED)
async def phone(message: Message, state: FSMContext) -> None:
    assert message.text is not None
    try:
        value = validation.phone(message.text)
    except InvalidInput as exc:
        await _retry(message, exc)
        return
    await state.update_data(phone=value)
    await _review(message, state)


@router.callback_query(StateFilter(PersonForm.phone), PersonCb.filter(F.action == PersonAction.SKIP))
async def phone_skipped(query: CallbackQuery, state: FSMContext, callback_answer: CallbackAnswer) -> None:
    if phone_required((await state.get_data()).get("mode") == "owner"):
        callback_answer.text, callback_answer.show_alert = texts.ASK_PHONE, True
        return
    await state.update_data(phone=None)
    await _review(message_of(query), state)


def _person(data: dict[str, Any]) -> PersonData:
    return PersonData(
        last_name=data["last"], first_name=data["first"], middle_name=data["middle"],
        birth_date=date.fromisoformat(data["born"]), sex=Sex(data["sex"]), oms_policy=data["oms"],
        snils=data["snils"], phone=data["phone"],
    )


async def _review(message: Message, state: FSMContext) -> None:
    await state.set_state(PersonForm.review)
    p = _person(await state.get_data())
    await message.answer(
        texts.review(p.last_name, p.first_name, p.middle_name, p.birth_date, p.sex, p.oms_policy, p.snils,
                     p.phone),
        reply_markup=kb.review(),
    )


@router.callback_query(StateFilter(PersonForm.review), PersonCb.filter(F.action == PersonAction.SUBMIT))
async def submit(query: CallbackQuery, state: FSMContext, identity: Identity, cardfile: CardFileService) -> None:
    data = await state.get_data()
    person = _person(data)
    if data["mode"] == "fix":
        await cardfile.resubmit(identity, int(data["patient_id"]), person)
    else:
        await cardfile.submit(identity, person, as_owner=data["mode"] == "owner")
    await state.clear()
    msg = message_of(query)
    await msg.edit_reply_markup(reply_markup=None)
    await msg.answer(texts.SUBMITTED, reply_markup=kb.after_submit(identity))


@router.callback_query(StateFilter(PersonForm.review), PersonCb.filter(F.action == PersonAction.RESTART))
async def restart(query: CallbackQuery, state: FSMContext) -> None:
    data = await state.get_data()
    await _begin(message_of(query), state, mode=data["mode"], patient_id=data.get("patient_id"))


@router.callback_query(PersonCb.filter(F.action == PersonAction.CANCEL))
async def cancel(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await message_of(query).answer(texts.FORM_CANCELLED)


@router.message(StateFilter(PersonForm.sex))
@router.message(StateFilter(PersonForm.review))
async def button_expected(message: Message) -> None:
    await message.answer(texts.BUTTON_EXPECTED)
