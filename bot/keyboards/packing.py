"""Callback data packed and matched with less work than aiogram's generic code does.

Every screen packs a button per time or doctor, and every button pressed is matched against each
handler of its conversation in turn: aiogram serializes the model for each ``pack()`` and
validates the whole string again for each handler's filter. Our fields are ids, enums and short
strings, so packing is a join; a filter first compares the prefix, and the one string is
unpacked once for all the handlers that look at it. The strings are exactly aiogram's (a test
packs every class both ways), and the instances are frozen, since filters share them.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from functools import lru_cache
from typing import Any, ClassVar, Literal

from aiogram.filters.callback_data import MAX_CALLBACK_LENGTH, CallbackData, CallbackQueryFilter
from aiogram.types import CallbackQuery
from magic_filter import MagicFilter
from pydantic import ConfigDict


class Compact:
    """Mixed in before ``CallbackData``: ``class BookCb(Compact, CallbackData, prefix="bk")``."""

    model_config = ConfigDict(frozen=True)
    __prefix__: ClassVar[str]
    __separator__: ClassVar[str]

    def pack(self) -> str:
        return self._joined(self._parts({}))

    def pack_with(self, **changes: Any) -> str:
        """What ``model_copy(update=changes).pack()`` gives, without the copy: a screen's buttons are
        the callback data it was opened with, a field or two changed."""
        return self._joined(self._parts(changes))

    def pack_each(self, name: str, values: Iterable[Any], **changes: Any) -> list[str]:
        """What ``pack_with(**changes, name=v)`` gives for each value, for the price of one pack: a
        screen has a button per time or day that differ in one field."""
        parts = self._parts(changes)
        at = 1 + list(type(self).model_fields).index(name)  # type: ignore[attr-defined]
        packed = []
        for value in values:
            parts[at] = self._encoded(name, value)
            packed.append(self._joined(parts))
        return packed

    def _parts(self, changes: dict[str, Any]) -> list[str]:
        fields = type(self).model_fields  # type: ignore[attr-defined]
        if changes and not changes.keys() <= fields.keys():
            raise TypeError(f"{type(self).__name__} has no field {', '.join(sorted(changes.keys() - fields.keys()))}")
        values = {**self.__dict__, **changes} if changes else self.__dict__
        return [self.__prefix__, *(self._encoded(name, values[name]) for name in fields)]

    def _encoded(self, name: str, value: Any) -> str:
        if type(value) is int:
            encoded = str(value)
        elif isinstance(value, Enum):
            encoded = str(value.value)
        else:
            encoded = CallbackData._encode_value(self, name, value)  # type: ignore[arg-type]
        if self.__separator__ in encoded:
            raise ValueError(f"Separator symbol {self.__separator__!r} can not be used in value {name}={encoded!r}")
        return encoded

    def _joined(self, parts: list[str]) -> str:
        packed = self.__separator__.join(parts)
        if len(packed.encode()) > MAX_CALLBACK_LENGTH:
            raise ValueError(f"Resulted callback data is too long! len({packed!r}.encode()) > {MAX_CALLBACK_LENGTH}")
        return packed

    @classmethod
    def filter(cls, rule: MagicFilter | None = None, **equal: Any) -> CallbackQueryFilter:
        """``BookCb.filter(step=BookStep.DAY)``: the button's fields equal to these. Compared as they are,
        for a fraction of a magic filter's resolution (``F.step == …``), which a button paid at each
        handler it was tried against; ``rule`` is there for what equality cannot say."""
        return _Matching(callback_data=cls, rule=rule, equal=equal)  # type: ignore[arg-type]


@lru_cache(maxsize=4096)
def _unpacked(cls: type[CallbackData], data: str) -> CallbackData | None:
    try:
        return cls.unpack(data)
    except (TypeError, ValueError):
        return None


class _Matching(CallbackQueryFilter):
    """``CallbackQueryFilter`` that looks at the prefix before unpacking, and unpacks once."""

    def __init__(self, *, callback_data: type[CallbackData], rule: MagicFilter | None,
                 equal: dict[str, Any]) -> None:
        super().__init__(callback_data=callback_data, rule=rule)
        unknown = set(equal) - set(callback_data.model_fields)
        if unknown:
            raise TypeError(f"{callback_data.__name__} has no field {', '.join(sorted(unknown))}")
        self.equal = tuple(equal.items())

    async def __call__(self, query: CallbackQuery) -> Literal[False] | dict[str, Any]:
        data = query.data if isinstance(query, CallbackQuery) else None
        cls = self.callback_data
        if not data or not data.startswith(cls.__prefix__ + cls.__separator__):
            return False
        callback_data = _unpacked(cls, data)
        if callback_data is None:
            return False
        for name, value in self.equal:
            if getattr(callback_data, name) != value:
                return False
        if self.rule is None or self.rule.resolve(callback_data):
            return {"callback_data": callback_data}
        return False
