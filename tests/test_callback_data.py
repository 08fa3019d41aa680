"""Every kind of button data fits Telegram's 64 bytes with the largest ids, and reads back as packed."""

from __future__ import annotations

import typing
from enum import Enum

import pytest
from aiogram.filters.callback_data import CallbackData

from bot.keyboards import callbacks

CLASSES = [c for c in vars(callbacks).values()
           if isinstance(c, type) and issubclass(c, CallbackData) and c is not CallbackData]


# The largest value each bounded field accepts, and the smallest it refuses.
LARGEST: dict[object, tuple[int, int]] = {callbacks.Id: (2**31 - 1, 2**31), callbacks.Page: (999, 1000),
                                          callbacks.Day: (20991231, 21000101)}


def _values(cls: type[CallbackData], *, beyond: bool = False) -> dict[str, object]:
    """The longest value of each field: the largest id a database holds, the longest enum member;
    ``beyond``: one past the largest of each bounded field instead."""
    hints = typing.get_type_hints(cls, include_extras=True)
    values: dict[str, object] = {}
    for name in cls.model_fields:
        kind = hints[name]
        if isinstance(kind, type) and issubclass(kind, Enum):
            values[name] = max(kind, key=lambda member: len(str(member.value)))
        elif kind is bool:
            values[name] = True
        elif kind in LARGEST:
            values[name] = LARGEST[kind][beyond]
        else:
            values[name] = "x" * (9 if beyond else 8)
    return values


def _largest(cls: type[CallbackData]) -> CallbackData:
    return cls(**_values(cls))


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_the_largest_button_fits_and_reads_back(cls: type[CallbackData]) -> None:
    largest = _largest(cls)
    packed = largest.pack()  # aiogram refuses data over 64 bytes
    assert cls.unpack(packed) == largest


@pytest.mark.parametrize("cls", [c for c in CLASSES if len(c.model_fields) > 1], ids=lambda c: c.__name__)
def test_data_past_any_field_s_range_does_not_unpack(cls: type[CallbackData]) -> None:
    """What no button of ours carries (a forged id, day or page) fails to unpack: aiogram's filters
    then match no handler, and the press is answered as a stale button (issue 17)."""
    parts = [cls.__prefix__, *(str(v.value if isinstance(v, Enum) else v) for v in _values(cls, beyond=True).values())]
    with pytest.raises(ValueError):
        cls.unpack(cls.__separator__.join(parts))
