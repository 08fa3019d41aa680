"""Factories for ``Update`` objects to feed through ``Dispatcher.feed_update``.

Pass ``bot=`` to mount the update on that bot: otherwise ``feed_update`` re-creates the
whole update through a JSON round trip (see aiogram's dispatcher), which costs throughput
in benchmarks.
"""

from __future__ import annotations

import itertools
import time
from typing import TYPE_CHECKING, Any

from aiogram.types import Update

if TYPE_CHECKING:
    from aiogram import Bot

_update_ids = itertools.count(1)
_message_ids = itertools.count(1)
_query_ids = itertools.count(1)


def user_dict(user_id: int, first_name: str = "Тест", username: str | None = None) -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if username:
        user["username"] = username
    return user


def _chat(chat_id: int, user: dict[str, Any]) -> dict[str, Any]:
    return {"id": chat_id, "type": "private", "first_name": user["first_name"]}


def _validate(data: dict[str, Any], bot: Bot | None) -> Update:
    return Update.model_validate(data, context={"bot": bot} if bot is not None else None)


def message_update(
    user_id: int,
    text: str,
    *,
    bot: Bot | None = None,
    first_name: str = "Тест",
    username: str | None = None,
    chat_id: int | None = None,
    message_id: int | None = None,
    update_id: int | None = None,
) -> Update:
    """A text message from a user in their private chat (commands get a bot_command entity)."""
    user = user_dict(user_id, first_name, username)
    message: dict[str, Any] = {
        "message_id": message_id if message_id is not None else next(_message_ids),
        "date": int(time.time()),
        "chat": _chat(chat_id if chat_id is not None else user_id, user),
        "from": user,
        "text": text,
    }
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0]
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    update_id = update_id if update_id is not None else next(_update_ids)
    return _validate({"update_id": update_id, "message": message}, bot)


def callback_update(
    user_id: int,
    data: str,
    *,
    message_id: int,
    bot: Bot | None = None,
    message_text: str = "…",
    reply_markup: dict[str, Any] | None = None,
    first_name: str = "Тест",
    chat_id: int | None = None,
    bot_id: int = 123456,
    query_id: str | None = None,
    update_id: int | None = None,
) -> Update:
    """A callback query with ``data`` from a button on the bot's message ``message_id``."""
    user = user_dict(user_id, first_name)
    chat = chat_id if chat_id is not None else user_id
    message: dict[str, Any] = {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": _chat(chat, user),
        "from": {"id": bot.id if bot is not None else bot_id, "is_bot": True, "first_name": "Bot"},
        "text": message_text,
    }
    if reply_markup is not None:
        message["reply_markup"] = reply_markup
    query: dict[str, Any] = {
        "id": query_id if query_id is not None else f"{next(_query_ids):019d}",
        "from": user,
        "chat_instance": f"-{chat}77",
        "message": message,
        "data": data,
    }
    update_id = update_id if update_id is not None else next(_update_ids)
    return _validate({"update_id": update_id, "callback_query": query}, bot)
