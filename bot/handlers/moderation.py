"""Moderators: the queue of submissions and the decision on each (R2, R24).

The role is checked by the service from the identity, so a patient pressing a forged
moderator button gets «недоступно» and nothing changes.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.filters import TYPED
from bot.handlers.common import message_of
from bot.keyboards import moderation as kb
from bot.keyboards.callbacks import ModAction, ModCb
from bot.states import ModerationStates
from bot.texts import common
from bot.texts import moderation as texts
from core.errors import DomainError, InvalidInput
from core.identity import Identity
from core.moderation import ModerationService

router = Router(name=__name__)


@router.message(Command("moderation"))
@router.message(F.text == common.BTN_MODERATION)
async def queue(message: Message, identity: Identity, moderation: ModerationService) -> None:
    people = await moderation.pending(identity)
    if not people:
        await message.answer(texts.NOTHING_PENDING)
        return
    await message.answer(texts.PENDING_TITLE, reply_markup=kb.pending(people))


@router.callback_query(ModCb.filter(F.action == ModAction.OPEN))
async def open_submission(query: CallbackQuery, callback_data: ModCb, identity: Identity,
                          moderation: ModerationService) -> None:
    patient = await moderation.submission(identity, callback_data.patient_id)
    await message_of(query).answer(texts.submission(texts.from_patient(patient)), reply_markup=kb.decision(patient.id))


@router.callback_query(ModCb.filter(F.action == ModAction.CONFIRM))
async def confirm(query: CallbackQuery, callback_data: ModCb, identity: Identity,
                  moderation: ModerationService) -> None:
    patient = await moderation.confirm(identity, callback_data.patient_id)
    await message_of(query).edit_text(texts.submission(texts.from_patient(patient)) + texts.CONFIRMED_MARK)


@router.callback_query(ModCb.filter(F.action == ModAction.REJECT))
async def reject_ask(query: CallbackQuery, callback_data: ModCb, identity: Identity, state: FSMContext,
                     moderation: ModerationService) -> None:
    await moderation.undecided(identity, callback_data.patient_id)
    await state.set_state(ModerationStates.reason)
    await state.update_data(patient_id=callback_data.patient_id)
    await message_of(query).answer(texts.REASON_ASK)


@router.message(StateFilter(ModerationStates.reason), TYPED)
async def reject(message: Message, identity: Identity, state: FSMContext, moderation: ModerationService) -> None:
    assert message.text is not None
    patient_id = int((await state.get_data())["patient_id"])
    try:
        patient = await moderation.reject(identity, patient_id, message.text)
    except InvalidInput:
        raise  # the moderator types the reason again
    except DomainError:
        await state.clear()
        raise
    await state.clear()
    await message.answer(texts.submission(texts.from_patient(patient))
                         + texts.REJECTED_MARK.format(reason=common.esc(patient.rejection_reason)))
