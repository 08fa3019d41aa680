"""Every kind of button data fits Telegram's 64 bytes with the largest ids, and reads back as packed."""

from __future__ import annotations

import typing
from enum import Enum

import pytest
from aiogram.filters.callback_data import CallbackData

from bot.keyboards import callbacks

CLASSES = [c for c in vars(callbacks).values()
           if isinstance(c, type) and issubclass(c, CallbackData) and c is not CallbackData]


def _largest(cls: type[CallbackData]) -> CallbackData:
    """An instance with the longest value of each field: eight-digit ids (a hundred million rows),
    the longest enum member."""
    hints = typing.get_type_hints(cls)
    values: dict[str, object] = {}
    for name in cls.model_fields:
        kind = hints[name]
        if isinstance(kind, type) and issubclass(kind, Enum):
            values[name] = max(kind, key=lambda member: len(str(member.value)))
        elif kind is bool:
            values[name] = True
        elif kind is int:
            values[name] = 99_999_999
        else:
            values[name] = "x" * 8
    return cls(**values)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_the_largest_button_fits_and_reads_back(cls: type[CallbackData]) -> None:
    largest = _largest(cls)
    packed = largest.pack()  # aiogram refuses data over 64 bytes
    assert cls.unpack(packed) == largest
