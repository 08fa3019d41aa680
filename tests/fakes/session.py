"""An in-process aiogram session: records calls and answers like Telegram, no network.

Use as ``Bot(token, session=RecordingSession())`` and feed updates through the real
``Dispatcher.feed_update``.  Errors are produced by aiogram's own ``check_response`` from a
Telegram-shaped JSON body, so handlers see exactly the exceptions the real session raises
(TelegramRetryAfter, TelegramForbiddenError, TelegramBadRequest...).

It sits on benchmark hot paths, so a call is recorded as a reference to the method object;
its parameters are dumped only when a test asks for them.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from aiogram.client.default import Default
from aiogram.client.session.base import BaseSession
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageCaption,
    EditMessageReplyMarkup,
    EditMessageText,
    GetMe,
    SendDocument,
    SendMessage,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import BufferedInputFile, FSInputFile, InlineKeyboardMarkup, Message, User

from tests.fake_telegram.entities import EntityParseError, parse_html
from tests.fake_telegram.errors import (
    BLOCKED,
    MESSAGE_NOT_MODIFIED,
    QUERY_TOO_OLD,
    default_description,
)

if TYPE_CHECKING:
    from aiogram import Bot

_TOO_MANY_REQUESTS: Final = 429
_MAX_TEXT: Final = 4096
_MAX_CALLBACK_DATA_BYTES: Final = 64
# Methods that deliver something to the chat, and so fail with 403 once the user blocks us.
_BLOCKABLE_PREFIXES: Final = ("send", "edit", "copy", "forward")


@dataclass(slots=True)
class SessionCall:
    """One recorded request.  ``params`` is computed lazily (a model dump is not free)."""

    name: str  # Bot API name, e.g. "sendMessage"
    method: TelegramMethod[Any]
    at: float  # time.monotonic()

    @property
    def type_name(self) -> str:
        return type(self.method).__name__

    @property
    def params(self) -> dict[str, Any]:
        return self.method.model_dump(exclude_none=True, warnings=False)

    @property
    def chat_id(self) -> int | str | None:
        return getattr(self.method, "chat_id", None)


@dataclass(slots=True)
class _Fault:
    name: str  # lower-case method name or "*"
    chat_id: int | None
    remaining: int
    error_code: int
    description: str
    retry_after: int | None


@dataclass(frozen=True, slots=True)
class RecordedDocument:
    chat_id: int | str
    filename: str | None
    data: bytes | None  # None for a file_id / URL re-send


class RecordingSession(BaseSession):
    def __init__(self, *, record: bool = True, strict: bool = False, bot_username: str = "test_bot") -> None:
        super().__init__()
        self.record = record  # benchmarks may switch recording off and read ``count``
        # strict: validate HTML, text length and callback_data like the fake server does
        # (costs a parse per message, so off by default for benchmarks).
        self.strict = strict
        self.bot_username = bot_username
        self.calls: list[SessionCall] = []
        self.count = 0
        self.documents: list[RecordedDocument] = []
        self.answered_queries: dict[str, AnswerCallbackQuery] = {}
        self._faults: list[_Fault] = []
        self._blocked: set[int] = set()
        self._next_ids: dict[int | str, int] = {}
        # (chat_id, message_id) -> (text, markup): lets editing detect "not modified".
        self._contents: dict[tuple[int | str, int], tuple[str | None, Any]] = {}
        self._file_ids = itertools.count(1)
        self._builders: dict[type[Any], Callable[[Bot, Any], Any]] = {
            SendMessage: self._send_message,
            SendDocument: self._send_document,
            EditMessageText: self._edit,
            EditMessageCaption: self._edit,
            EditMessageReplyMarkup: self._edit,
            AnswerCallbackQuery: self._answer_callback_query,
            GetMe: self._get_me,
        }

    # ---- test controls -------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str | None = None,
        retry_after: int | None = None,
        chat_id: int | None = None,
        times: int = 1,
    ) -> None:
        """Same contract as ``FakeTelegramServer.fail_next``."""
        if error_code == _TOO_MANY_REQUESTS and retry_after is None:
            retry_after = 1
        self._faults.append(
            _Fault(
                method.lower(),
                chat_id,
                times,
                error_code,
                description or default_description(error_code, retry_after),
                retry_after,
            )
        )

    def block(self, chat_id: int) -> None:
        self._blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        self._blocked.discard(chat_id)

    def calls_to(self, name: str) -> list[SessionCall]:
        wanted = name.lower()
        return [call for call in self.calls if call.name.lower() == wanted]

    def sent_texts(self, chat_id: int | None = None) -> list[str]:
        """Texts of sendMessage calls (optionally to one chat), in order."""
        return [
            str(call.method.text)
            for call in self.calls
            if isinstance(call.method, SendMessage) and (chat_id is None or call.method.chat_id == chat_id)
        ]

    def clear(self) -> None:
        self.calls.clear()
        self.count = 0

    # ---- BaseSession ---------------------------------------------------------------------

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,
    ) -> TelegramType:
        name = method.__api_method__
        self.count += 1
        if self.record:
            self.calls.append(SessionCall(name, method, time.monotonic()))
        if self._faults or self._blocked:
            self._raise_fault(bot, method, name)
        builder = self._builders.get(type(method))
        if builder is not None:
            return builder(bot, method)  # type: ignore[no-any-return]
        return self._generic_result(bot, method)

    async def close(self) -> None:
        return None

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        yield b""

    # ---- errors --------------------------------------------------------------------------

    def _fail(
        self, bot: Bot, method: TelegramMethod[Any], code: int, description: str, retry_after: int | None = None
    ) -> None:
        """Raise what the real session would raise for this Telegram error response."""
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        self.check_response(bot, method, status_code=code, content=json.dumps(body))

    def _raise_fault(self, bot: Bot, method: TelegramMethod[Any], name: str) -> None:
        chat_id = getattr(method, "chat_id", None)
        for fault in self._faults:
            if fault.name in {"*", name.lower()} and (fault.chat_id is None or fault.chat_id == chat_id):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                self._fail(bot, method, fault.error_code, fault.description, fault.retry_after)
        if chat_id in self._blocked and name.startswith(_BLOCKABLE_PREFIXES):
            self._fail(bot, method, 403, BLOCKED)

    # ---- results -------------------------------------------------------------------------

    def _message(self, bot: Bot, chat_id: int | str, message_id: int, **fields: Any) -> Message:
        data: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": bot.id, "is_bot": True, "first_name": "Test Bot"},
        }
        data.update((key, value) for key, value in fields.items() if value is not None)
        return Message.model_validate(data, context={"bot": bot})

    def _new_id(self, chat_id: int | str) -> int:
        message_id = self._next_ids.get(chat_id, 0) + 1
        self._next_ids[chat_id] = message_id
        return message_id

    @staticmethod
    def _inline(markup: Any) -> InlineKeyboardMarkup | None:
        return markup if isinstance(markup, InlineKeyboardMarkup) else None

    def _validate(self, bot: Bot, method: Any, text: str | None, markup: Any) -> None:
        if text is not None and resolve_default(bot, method.parse_mode) == "HTML":
            try:
                text = parse_html(text).text
            except EntityParseError as error:
                self._fail(bot, method, 400, f"Bad Request: can't parse entities: {error}")
        if text is not None and not text.strip() and not isinstance(method, EditMessageCaption):
            self._fail(bot, method, 400, "Bad Request: message text is empty")
        if text is not None and len(text) > _MAX_TEXT:
            self._fail(bot, method, 400, "Bad Request: message is too long")
        for row in markup.inline_keyboard if markup is not None else ():
            for button in row:
                data = button.callback_data
                if data is not None and not 1 <= len(data.encode()) <= _MAX_CALLBACK_DATA_BYTES:
                    self._fail(bot, method, 400, "Bad Request: BUTTON_DATA_INVALID")

    def _send_message(self, bot: Bot, method: SendMessage) -> Message:
        if self.strict:
            self._validate(bot, method, method.text, self._inline(method.reply_markup))
        message_id = self._new_id(method.chat_id)
        markup = self._inline(method.reply_markup)
        self._contents[(method.chat_id, message_id)] = (method.text, markup)
        return self._message(bot, method.chat_id, message_id, text=method.text, reply_markup=markup)

    def _send_document(self, bot: Bot, method: SendDocument) -> Message:
        document = method.document
        filename: str | None = None
        data: bytes | None = None
        if isinstance(document, BufferedInputFile):
            filename, data = document.filename, document.data
        elif isinstance(document, FSInputFile):
            filename, data = document.filename, Path(document.path).read_bytes()
        self.documents.append(RecordedDocument(method.chat_id, filename, data))
        number = next(self._file_ids)
        file = {"file_id": f"doc-{number}", "file_unique_id": f"u-{number}", "file_name": filename}
        return self._message(
            bot,
            method.chat_id,
            self._new_id(method.chat_id),
            document={k: v for k, v in file.items() if v is not None},
            caption=method.caption,
            reply_markup=self._inline(method.reply_markup),
        )

    def _edit(self, bot: Bot, method: Any) -> Message | bool:
        if method.inline_message_id is not None:
            return True
        key = (method.chat_id, method.message_id)
        old = self._contents.get(key)
        if isinstance(method, EditMessageReplyMarkup):
            text = old[0] if old is not None else None
        elif isinstance(method, EditMessageCaption):
            text = method.caption
        else:
            text = method.text
        new = (text, self._inline(method.reply_markup))
        if self.strict and not isinstance(method, EditMessageReplyMarkup):
            self._validate(bot, method, text, new[1])
        # Only messages this session produced are known; unknown ones (built by update
        # factories) are assumed to exist, so handler tests need not pre-create them.
        if old is not None and old == new:
            self._fail(bot, method, 400, MESSAGE_NOT_MODIFIED)
        self._contents[key] = new
        return self._message(
            bot,
            method.chat_id,
            method.message_id,
            text=text,
            reply_markup=new[1],
            edit_date=int(time.time()),
        )

    def _answer_callback_query(self, bot: Bot, method: AnswerCallbackQuery) -> bool:
        if method.callback_query_id in self.answered_queries:
            self._fail(bot, method, 400, QUERY_TOO_OLD)
        self.answered_queries[method.callback_query_id] = method
        return True

    def _get_me(self, bot: Bot, method: GetMe) -> User:
        return User(id=bot.id, is_bot=True, first_name="Test Bot", username=self.bot_username)

    def _generic_result(self, bot: Bot, method: TelegramMethod[TelegramType]) -> TelegramType:
        """Results for methods without a builder, from the declared return type."""
        returning = method.__returning__
        if returning is bool or returning == (Message | bool):
            return True  # type: ignore[return-value]
        origin = getattr(returning, "__origin__", None)
        if origin is list:
            return []  # type: ignore[return-value]
        if returning is Message:
            chat_id = getattr(method, "chat_id", 0)
            return self._message(bot, chat_id, self._new_id(chat_id))  # type: ignore[return-value]
        msg = f"RecordingSession cannot fake a result for {method.__api_method__}; add a builder"
        raise NotImplementedError(msg)


def resolve_default(bot: Bot, value: Any) -> Any:
    """The effective value of a method field that may be an aiogram ``Default``."""
    return bot.default[value.name] if isinstance(value, Default) else value
