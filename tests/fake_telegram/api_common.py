"""Helpers shared by the Bot API method handlers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from .entities import EntityParseError, ParsedText, parse_html
from .errors import BLOCKED, CHAT_NOT_FOUND, ApiError
from .models import JsonDict, UploadedFile
from .state import ChatState, TelegramState

Handler = Callable[[JsonDict, dict[str, UploadedFile]], Awaitable[Any]]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024


def bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def int_param(params: JsonDict, key: str) -> int:
    """A required integer parameter; Telegram's wording when it is missing or malformed."""
    value = params.get(key)
    if value is None or value == "":
        raise bad_request(f"{key} is empty")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"invalid {key} specified") from None


def chat_for(state: TelegramState, params: JsonDict, *, sending: bool) -> ChatState:
    """The chat addressed by ``chat_id``.

    Only chats whose user talked to the bot exist (Telegram's "chat not found" otherwise);
    ``sending`` applies the user's block (403), as for every message-producing method.
    """
    raw = params.get("chat_id")
    if raw is None or raw == "":
        raise bad_request("chat_id is empty")
    try:
        chat_id = int(raw)
    except (TypeError, ValueError):
        raise ApiError(400, CHAT_NOT_FOUND) from None  # "@username" chats do not exist here
    chat = state.chats.get(chat_id)
    if chat is None:
        raise ApiError(400, CHAT_NOT_FOUND)
    if sending and chat.blocked:
        raise ApiError(403, BLOCKED)
    return chat


def render_text(
    text: str,
    parse_mode: Any,
    entities: Any,
    *,
    limit: int,
    too_long: str,
    allow_empty: bool,
) -> ParsedText:
    """Apply parse_mode like Telegram: visible text + entities, with its length rules.

    Explicit ``entities`` win over ``parse_mode``.  Only HTML is validated: the project
    uses HTML, and a silent pass for MarkdownV2 would be no worse than today.
    """
    if isinstance(entities, list):
        parsed = ParsedText(text, list(entities))
    elif isinstance(parse_mode, str) and parse_mode.lower() == "html":
        try:
            parsed = parse_html(text)
        except EntityParseError as error:
            raise bad_request(f"can't parse entities: {error}") from None
    else:
        parsed = ParsedText(text)
    if not allow_empty and not parsed.text.strip():
        raise bad_request("message text is empty")
    if len(parsed.text) > limit:
        raise bad_request(too_long)
    return parsed
