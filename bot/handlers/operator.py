"""Operators view and change the system rules (R25); every change is audited by the service."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.filters import TYPED
from bot.handlers.common import message_of
from bot.keyboards import operator as kb
from bot.keyboards.callbacks import RuleField, RulesCb
from bot.states import OperatorStates
from bot.texts import common
from bot.texts import operator as texts
from core.enums import Role
from core.identity import Identity
from core.rules import RulesService

router = Router(name=__name__)


@router.message(Command("rules"))
@router.message(F.text == common.BTN_RULES)
async def show(message: Message, identity: Identity, rules: RulesService) -> None:
    current = await rules.show(identity)
    await message.answer(texts.rules(current), reply_markup=kb.rules(await rules.organizations(identity)))


@router.callback_query(RulesCb.filter(F.field == RuleField.WAITLIST))
async def toggle_waitlist(query: CallbackQuery, callback_data: RulesCb, identity: Identity, rules: RulesService,
                          callback_answer: CallbackAnswer) -> None:
    await rules.set_waitlist(identity, callback_data.organization_id, callback_data.enable)
    current = await rules.show(identity)
    callback_answer.text = texts.SAVED
    await message_of(query).edit_text(texts.rules(current), reply_markup=kb.rules(await rules.organizations(identity)))


@router.callback_query(RulesCb.filter(F.field.in_({RuleField.CUTOFF, RuleField.OFFER})))
async def ask(query: CallbackQuery, callback_data: RulesCb, identity: Identity, state: FSMContext) -> None:
    identity.require_role(Role.OPERATOR)
    await state.set_state(OperatorStates.cutoff if callback_data.field == RuleField.CUTOFF else OperatorStates.offer)
    await message_of(query).answer(texts.ASK_CUTOFF if callback_data.field == RuleField.CUTOFF else texts.ASK_OFFER)


@router.message(StateFilter(OperatorStates.cutoff), TYPED)
@router.message(StateFilter(OperatorStates.offer), TYPED)
async def save(message: Message, identity: Identity, state: FSMContext, rules: RulesService) -> None:
    assert message.text is not None
    # A typing error raises before the state is cleared, so the operator is simply asked again.
    if await state.get_state() == OperatorStates.cutoff.state:
        current = await rules.set_cancel_cutoff(identity, message.text)
    else:
        current = await rules.set_offer_minutes(identity, message.text)
    await state.clear()
    await message.answer(texts.SAVED + "\n\n" + texts.rules(current),
                         reply_markup=kb.rules(await rules.organizations(identity)))
