"""Validation of ``reply_markup`` the way the Bot API does it.

The checks that matter for this project: callback_data is 1..64 *bytes* (Cyrillic text in
callback data is 2 bytes a letter, an easy way to overflow), and every inline button carries
exactly one action.  The bot only ever receives these as 400 errors in production, so the fake
must produce the same errors in tests.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from .errors import ApiError

# Every field that makes an inline button do something; Telegram needs exactly one.
_BUTTON_ACTIONS = (
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_MAX_CALLBACK_DATA_BYTES = 64


def _bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def _validate_url(url: Any) -> None:
    if not isinstance(url, str):
        raise _bad_request("BUTTON_URL_INVALID")
    parts = urlsplit(url)
    if parts.scheme == "tg":
        return
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise _bad_request("BUTTON_URL_INVALID")


def _validate_inline_button(button: Any) -> None:
    if not isinstance(button, dict):
        raise _bad_request("can't parse inline keyboard button: object expected")
    text = button.get("text")
    if not isinstance(text, str) or not text.strip():
        raise _bad_request("can't parse inline keyboard button: Text must be non-empty")
    actions = [name for name in _BUTTON_ACTIONS if name in button]
    if not actions:
        raise _bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if len(actions) > 1:
        # Real Telegram silently picks one; we are stricter because it is always a bot bug.
        raise _bad_request(
            f"can't parse inline keyboard button: more than one action ({', '.join(actions)})"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= (
            _MAX_CALLBACK_DATA_BYTES
        ):
            raise _bad_request("BUTTON_DATA_INVALID")
    if "url" in button:
        _validate_url(button["url"])


def _validate_rows(rows: Any, what: str) -> list[list[Any]]:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad_request(f"can't parse reply keyboard markup JSON object: {what} expected")
    return rows


def validate_reply_markup(markup: Any) -> dict[str, Any] | None:
    """Check ``reply_markup``; return it (a dict) or None.  Raises :class:`ApiError`."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        for row in _validate_rows(markup["inline_keyboard"], "inline_keyboard"):
            for button in row:
                _validate_inline_button(button)
    elif "keyboard" in markup:
        for row in _validate_rows(markup["keyboard"], "keyboard"):
            for button in row:
                label = button.get("text") if isinstance(button, dict) else button
                if not isinstance(label, str) or not label:
                    raise _bad_request("can't parse keyboard button: Text must be non-empty")
    elif not ({"remove_keyboard", "force_reply"} & markup.keys()):
        raise _bad_request("can't parse reply keyboard markup JSON object")
    return markup


def inline_keyboard_of(markup: dict[str, Any] | None) -> list[list[dict[str, Any]]]:
    """The inline keyboard rows of a markup, or [] for none / a reply keyboard."""
    if not markup:
        return []
    rows = markup.get("inline_keyboard")
    return rows if isinstance(rows, list) else []
