"""Inline buttons with callback data, made without pydantic's validation.

A screen of times carries up to 36 of them. Built, each goes through pydantic's validation and
aiogram's post-init chain (~5 µs); ``model_copy`` of a built one still costs ~2.4 µs, most of it the
copy module's generic work. A button is four plain attributes, set here as ``model_construct`` sets
them (~0.8 µs), starting from a button built and validated once. Validation would only check that
both are strings (the types say so): the text is composed by the bot (names included), and the data
was packed, and its length checked, by ``Compact.pack``.
``tests/test_callback_packing.py`` holds a button made here equal to a built one, down to the JSON
aiogram sends, so a pydantic that keeps its instances otherwise fails there, not in a chat.
"""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton

_BUILT = InlineKeyboardButton(text="·", callback_data="·")
_FIELDS = dict(_BUILT.__dict__)
_PRIVATE = dict(_BUILT.__pydantic_private__ or {})
_new = object.__new__
_set = object.__setattr__


def button(text: str, callback_data: str) -> InlineKeyboardButton:
    made = _new(InlineKeyboardButton)
    _set(made, "__dict__", {**_FIELDS, "text": text, "callback_data": callback_data})
    _set(made, "__pydantic_fields_set__", {"text", "callback_data"})
    _set(made, "__pydantic_extra__", {})
    _set(made, "__pydantic_private__", dict(_PRIVATE))  # its own: aiogram's ``as_(bot)`` sets it
    return made
