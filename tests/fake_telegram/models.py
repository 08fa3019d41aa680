"""Records the fake server keeps: API calls, bot messages, callback answers.

Tests read these directly, so they are plain dataclasses with descriptive fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from .markup import inline_keyboard_of

JsonDict = dict[str, Any]


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A file part of a multipart request."""

    field_name: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass(frozen=True, slots=True)
class SentDocument:
    """A document the bot sent.  ``data`` is None when it re-sent a file_id or URL."""

    file_id: str
    file_unique_id: str
    filename: str | None
    mime_type: str | None
    data: bytes | None
    caption: str


@dataclass(slots=True)
class ApiCall:
    """One HTTP request the bot made.  ``status`` is 0 while a long poll is still waiting."""

    seq: int
    method: str
    params: JsonDict
    files: dict[str, UploadedFile]
    at: float  # time.monotonic() of arrival, for rate-limit assertions
    chat_id: int | str | None
    status: int = 0
    response: JsonDict | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def description(self) -> str | None:
        return None if self.response is None else self.response.get("description")

    def __str__(self) -> str:
        outcome = "pending" if not self.status else (self.description or "ok")
        return f"{self.method}(chat_id={self.chat_id}) -> {self.status} {outcome}"


@dataclass(frozen=True, slots=True)
class CallbackAnswer:
    """What the bot passed to answerCallbackQuery.

    ``answered`` is False only for the placeholder returned by
    ``press(..., require_answer=False)`` when the bot never answered.
    """

    query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int | None
    answered: bool = True


@dataclass(slots=True)
class BotMessage:
    """A message the bot sent, in its current state (after edits).

    ``text`` is what the user sees: HTML tags removed and entities decoded (for a document,
    the caption).  ``raw_text`` is exactly what the bot sent.
    """

    chat_id: int
    message_id: int
    date: int
    text: str
    raw_text: str
    parse_mode: str | None
    entities: list[JsonDict]
    reply_markup: JsonDict | None
    document: SentDocument | None = None
    reply_to_message_id: int | None = None
    history: list[str] = field(default_factory=list)  # visible texts, oldest first
    edit_date: int | None = None
    deleted: bool = False

    @property
    def edited(self) -> bool:
        return self.edit_date is not None

    @property
    def inline_keyboard(self) -> list[list[JsonDict]]:
        """Raw inline keyboard rows (button dicts as the bot sent them)."""
        return inline_keyboard_of(self.reply_markup)

    @property
    def buttons(self) -> list[list[str]]:
        """Inline button labels, row by row."""
        return [[button["text"] for button in row] for row in self.inline_keyboard]

    @property
    def reply_keyboard(self) -> list[list[str]]:
        """Labels of a reply (non-inline) keyboard, if the message carries one."""
        rows = (self.reply_markup or {}).get("keyboard") or []
        return [[b["text"] if isinstance(b, dict) else str(b) for b in row] for row in rows]

    def all_buttons(self) -> list[JsonDict]:
        return [button for row in self.inline_keyboard for button in row]

    def describe(self) -> str:
        """One line for failure messages: id, text and buttons."""
        text = self.text if len(self.text) <= 300 else self.text[:300] + "…"
        parts = [f"#{self.message_id}: {text!r}"]
        if self.buttons:
            parts.append(f"buttons={self.buttons}")
        if self.document is not None:
            parts.append(f"document={self.document.filename!r}")
        if self.deleted:
            parts.append("(deleted)")
        return " ".join(parts)

    def to_api(self, chat: JsonDict, bot_user: JsonDict) -> JsonDict:
        """The Telegram ``Message`` object for this message."""
        result: JsonDict = {
            "message_id": self.message_id,
            "from": bot_user,
            "chat": chat,
            "date": self.date,
        }
        text_key, entities_key = ("text", "entities")
        if self.document is not None:
            text_key, entities_key = ("caption", "caption_entities")
            result["document"] = {
                "file_id": self.document.file_id,
                "file_unique_id": self.document.file_unique_id,
                **({"file_name": self.document.filename} if self.document.filename else {}),
                **({"mime_type": self.document.mime_type} if self.document.mime_type else {}),
                **({"file_size": len(self.document.data)} if self.document.data else {}),
            }
        if self.text or self.document is None:
            result[text_key] = self.text
        if self.entities:
            result[entities_key] = self.entities
        if self.edit_date is not None:
            result["edit_date"] = self.edit_date
        # Telegram echoes only inline keyboards back in Message.reply_markup.
        if self.inline_keyboard:
            result["reply_markup"] = {"inline_keyboard": self.inline_keyboard}
        return result


@dataclass(frozen=True, slots=True)
class ChatEvent:
    """Something the bot did to a chat, with a snapshot of the text at that moment."""

    seq: int
    kind: Literal["sent", "edited", "deleted"]
    message: BotMessage
    text: str
    buttons: list[list[str]]
    at: float  # time.monotonic() when the bot's call reached the fake API, for latency figures

    def describe(self) -> str:
        buttons = f" buttons={self.buttons}" if self.buttons else ""
        return f"{self.kind} #{self.message.message_id}: {self.text!r}{buttons}"
