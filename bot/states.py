"""Conversation states. Only typed answers live here; nothing is saved until a service call."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class EmailLoginStates(StatesGroup):
    email = State()
    code = State()


class PersonForm(StatesGroup):
    full_name = State()
    birth_date = State()
    sex = State()
    oms_policy = State()
    snils = State()
    phone = State()
    review = State()


class ModerationStates(StatesGroup):
    reason = State()


class OperatorStates(StatesGroup):
    cutoff = State()
    offer = State()
