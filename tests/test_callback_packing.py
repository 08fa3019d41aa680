"""Our callback data packs to exactly aiogram's strings and is matched like aiogram's filter would; our
buttons are what aiogram builds."""

from __future__ import annotations

import typing
from enum import Enum

import pytest
from aiogram import Bot, F
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.keyboards import callbacks
from bot.keyboards.buttons import button
from bot.keyboards.callbacks import BookCb, BookStep, LoginCb, RulesCb
from tests.fakes.session import RecordingSession
from tests.fakes.updates import callback_update

CLASSES = [c for c in vars(callbacks).values()
           if isinstance(c, type) and issubclass(c, CallbackData) and c is not CallbackData]


def _samples(cls: type[CallbackData]) -> list[CallbackData]:
    """Instances with every enum member and both booleans, ids large and zero."""
    hints = typing.get_type_hints(cls)
    variants: list[dict[str, object]] = [{}]
    for name in cls.model_fields:
        kind = hints[name]
        if isinstance(kind, type) and issubclass(kind, Enum):
            options: list[object] = list(kind)
        elif kind is bool:
            options = [True, False]
        elif kind is int:
            options = [0, 99_999_999]
        else:
            options = ["email", ""]
        variants = [{**v, name: o} for v in variants for o in options][:64]
    return [cls(**v) for v in variants]


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_packs_as_aiogram_does(cls: type[CallbackData]) -> None:
    for sample in _samples(cls):
        packed = sample.pack()
        assert packed == CallbackData.pack(sample)
        assert cls.unpack(packed) == sample


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_pack_each_is_a_pack_of_each_copy(cls: type[CallbackData]) -> None:
    """A screen packs its buttons with ``pack_each``: the strings of one copy per value."""
    for sample in _samples(cls)[:4]:
        for name, field in cls.model_fields.items():
            values = [s.__dict__[name] for s in _samples(cls)] if field.annotation is not int else [0, 7, 99_999_999]
            assert sample.pack_each(name, values) == [  # type: ignore[attr-defined]
                CallbackData.pack(sample.model_copy(update={name: v})) for v in values]


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_pack_with_changes_is_a_pack_of_the_changed_copy(cls: type[CallbackData]) -> None:
    """Keyboards pack the screen's own data with a field or two changed (``pack_with``), and a row of
    buttons differing in one more (``pack_each`` with changes)."""
    samples = _samples(cls)
    names = list(cls.model_fields)
    for sample, other in zip(samples, reversed(samples), strict=True):
        for name in names:
            changed = {name: other.__dict__[name]}
            assert sample.pack_with(**changed) == CallbackData.pack(sample.model_copy(update=changed))  # type: ignore[attr-defined]
            last = names[-1]
            assert sample.pack_each(last, [other.__dict__[last]], **changed) == [  # type: ignore[attr-defined]
                CallbackData.pack(sample.model_copy(update={**changed, last: other.__dict__[last]}))]
    with pytest.raises(TypeError, match="no field"):
        samples[0].pack_with(no_such_field=1)  # type: ignore[attr-defined]


def test_refuses_what_aiogram_refuses() -> None:
    with pytest.raises(ValueError, match="Separator"):
        LoginCb(action="a:b").pack()
    with pytest.raises(ValueError, match="too long"):
        LoginCb(action="x" * 70).pack()
    with pytest.raises(ValueError, match="Separator"):
        LoginCb(action="email").pack_each("action", ["ok", "a:b"])


def test_instances_are_frozen_since_filters_share_them() -> None:
    cb = BookCb(step=BookStep.DAY, doctor_id=5)
    with pytest.raises(ValueError):
        cb.doctor_id = 6  # type: ignore[misc]
    assert cb.model_copy(update={"doctor_id": 6}).doctor_id == 6


async def test_filter_matches_its_own_buttons_only() -> None:
    day = BookCb.filter(F.step == BookStep.DAY)
    doctor = BookCb.filter(F.step == BookStep.DOCTOR)
    data = BookCb(step=BookStep.DAY, patient_id=1, doctor_id=5, day=20261201).pack()
    query = callback_update(1, data, message_id=1).callback_query
    assert query is not None
    assert await doctor(query) is False
    matched = await day(query)
    assert matched and matched["callback_data"] == BookCb.unpack(data)
    assert await BookCb.filter()(query) == matched  # one unpack, shared by the handlers that look
    for forged in ("bk:t:1:0:5", "bk:zz:1:0:5:20261201:0:0", "bkx:t:1:0:5:20261201:0:0", "ru:t", "bk:t:x:0:5:1:0:0"):
        forged_query = callback_update(1, forged, message_id=1).callback_query
        assert forged_query is not None
        assert await day(forged_query) is False, forged
    assert await RulesCb.filter()(query) is False


async def test_a_filter_of_field_values_matches_what_the_magic_rule_would() -> None:
    """Handlers say ``BookCb.filter(step=BookStep.DAY)``: compared as they are, the fields must match
    the very buttons ``F.step == BookStep.DAY`` matches, whatever else the button carries."""
    buttons = [BookCb(step=step, patient_id=1, doctor_id=doctor).pack()
               for step in BookStep for doctor in (0, 5)] + ["bk:zz:1:0:5:0:0:0", "ru:t"]
    matched = 0
    for step in BookStep:
        for doctor in (0, 5):
            by_values = BookCb.filter(step=step, doctor_id=doctor)
            by_rule = BookCb.filter((F.step == step) & (F.doctor_id == doctor))
            for data in buttons:
                query = callback_update(1, data, message_id=1).callback_query
                assert query is not None
                assert await by_values(query) == await by_rule(query), (step, doctor, data)
                matched += bool(await by_values(query))
    assert matched == len(BookStep) * 2  # each button by its own filter only
    assert await LoginCb.filter(action="email")(callback_update(1, "lg:email", message_id=1).callback_query) \
        == {"callback_data": LoginCb(action="email")}
    with pytest.raises(TypeError, match="no field stepp"):
        BookCb.filter(stepp=BookStep.DAY)


def test_a_copied_button_is_a_built_one() -> None:
    """Keyboards make buttons without validation (``bot.keyboards.buttons``): each must be the button
    that building gives, down to the fields it counts as set and the JSON aiogram sends of a keyboard."""
    data = BookCb(step=BookStep.SLOT, patient_id=12, doctor_id=5, day=20261201, slot_id=99_999_999).pack()
    texts = ("09:30", "Записать к врачу: Анна Петрова", "🟥 10:15", "« Назад")
    copied = [button(text, data) for text in texts]
    built = [InlineKeyboardButton(text=text, callback_data=data) for text in texts]
    for one, other in zip(copied, built, strict=True):
        assert one == other
        assert one.model_fields_set == other.model_fields_set
    session = RecordingSession(record=False)
    bot = Bot("123456:TEST", session=session)
    assert (session.prepare_value(InlineKeyboardMarkup(inline_keyboard=[copied]), bot, {})
            == session.prepare_value(InlineKeyboardMarkup(inline_keyboard=[built]), bot, {}))
    assert [b.text for b in copied] == list(texts)  # copies share nothing
    bound = copied[0].as_(bot)
    assert bound.bot is bot and copied[1].bot is None
    assert copied[1].model_copy(update={"text": "10:00"}) == InlineKeyboardButton(text="10:00", callback_data=data)
