"""The fake Telegram world: chats, messages, the update queue, callback queries.

Everything runs on the test's event loop, so there is no locking; waiters are woken by a
:class:`Pulse` and re-check their condition.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from .entities import utf16_len
from .models import BotMessage, CallbackAnswer, ChatEvent, JsonDict

# Update types Telegram leaves out unless the bot asks for them explicitly.
_OPT_IN_UPDATE_TYPES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class Pulse:
    """A re-armable broadcast: ``fire()`` wakes everyone currently in ``wait()``.

    Waiters always re-check their condition after waking, so a fire between a check and a
    wait cannot be lost: both happen without an ``await`` in between.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float) -> bool:
        event = self._event
        try:
            await asyncio.wait_for(event.wait(), timeout=max(timeout, 0.0))
        except TimeoutError:
            return False
        return True

    async def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``predicate()`` is true; False on timeout."""
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            await self.wait(remaining)
        return True


@dataclass(slots=True)
class ChatState:
    """A private chat between the bot and one user (chat id == user id, as in Telegram)."""

    chat_id: int
    user: JsonDict  # Telegram User object of the human
    chat: JsonDict  # Telegram Chat object
    next_message_id: int = 1  # shared by the user's and the bot's messages, as in Telegram
    bot_messages: dict[int, BotMessage] = field(default_factory=dict)
    user_message_ids: set[int] = field(default_factory=set)
    events: list[ChatEvent] = field(default_factory=list)
    blocked: bool = False
    # Fired with ``TelegramState.changed`` for this chat only: hundreds of simulated users each
    # wait on their own chat instead of all waking on every event.
    changed: Pulse = field(default_factory=Pulse)

    def new_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id


@dataclass(slots=True)
class WebhookConfig:
    """What the bot passed to setWebhook (``url`` is where Telegram would POST updates)."""

    url: str
    secret_token: str | None = None
    max_connections: int = 40
    ip_address: str | None = None


@dataclass(slots=True)
class CallbackQueryState:
    query_id: str
    chat_id: int
    data: str | None
    message_id: int | None
    seq: int
    answer: CallbackAnswer | None = None
    answered_at: float | None = None  # time.monotonic() of answerCallbackQuery


class TelegramState:
    """All server-side state; the HTTP layer and the scripted users both operate on it."""

    def __init__(self, bot_user: JsonDict) -> None:
        self.bot_user = bot_user
        self.chats: dict[int, ChatState] = {}
        self.callback_queries: dict[str, CallbackQueryState] = {}
        self.pending_updates: list[JsonDict] = []  # unconfirmed, ascending update_id
        self.delivered_updates: list[JsonDict] = []  # confirmed by a later offset
        self.dropped_updates: list[JsonDict] = []  # filtered out by allowed_updates
        self.allowed_updates: list[str] | None = None
        self.webhook: WebhookConfig | None = None  # set: updates go by webhook, not getUpdates
        self.commands: dict[str, list[JsonDict]] = {}
        self.changed = Pulse()  # a chat event or a callback answer happened
        self.updates_arrived = Pulse()  # for long-polling getUpdates
        self.last_seq = 0
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(1)

    def next_seq(self) -> int:
        """A global order over requests, chat events and user actions."""
        self.last_seq += 1
        return self.last_seq

    def next_query_id(self) -> str:
        # Telegram's ids are long opaque strings; mimic the shape so nobody parses them.
        return f"{next(self._query_ids):019d}"

    # ---- updates -------------------------------------------------------------------------

    def _is_allowed(self, update_type: str) -> bool:
        if not self.allowed_updates:
            return update_type not in _OPT_IN_UPDATE_TYPES
        return update_type in self.allowed_updates

    def enqueue_update(self, update_type: str, payload: JsonDict) -> JsonDict:
        """Queue an update for getUpdates (or drop it, as Telegram does, if not allowed)."""
        update: JsonDict = {"update_id": next(self._update_ids), update_type: payload}
        if self._is_allowed(update_type):
            self.pending_updates.append(update)
            self.updates_arrived.fire()
        else:
            self.dropped_updates.append(update)
        return update

    def confirm_updates(self, offset: int) -> None:
        """Apply getUpdates ``offset``: updates with a smaller id are confirmed and forgotten."""
        if offset < 0:
            # Negative offset: keep only the last -offset updates, forget the rest.
            cut = max(len(self.pending_updates) + offset, 0)
        else:
            cut = 0
            while cut < len(self.pending_updates) and (
                self.pending_updates[cut]["update_id"] < offset
            ):
                cut += 1
        if cut:
            self.delivered_updates.extend(self.pending_updates[:cut])
            del self.pending_updates[:cut]

    def confirm_update(self, update_id: int) -> None:
        """A webhook answered 2xx: this one update is delivered and forgotten."""
        for index, update in enumerate(self.pending_updates):
            if update["update_id"] == update_id:
                self.delivered_updates.append(self.pending_updates.pop(index))
                return

    def drop_pending_updates(self) -> None:
        """``drop_pending_updates=True`` of setWebhook/deleteWebhook."""
        self.dropped_updates.extend(self.pending_updates)
        self.pending_updates.clear()

    # ---- chats and messages --------------------------------------------------------------

    def add_chat(self, user: JsonDict) -> ChatState:
        chat_id = int(user["id"])
        if chat_id in self.chats:
            return self.chats[chat_id]
        chat: JsonDict = {"id": chat_id, "type": "private", "first_name": user["first_name"]}
        for key in ("last_name", "username"):
            if user.get(key):
                chat[key] = user[key]
        state = ChatState(chat_id=chat_id, user=user, chat=chat)
        self.chats[chat_id] = state
        return state

    def record_event(
        self,
        chat: ChatState,
        kind: Literal["sent", "edited", "deleted"],
        message: BotMessage,
    ) -> None:
        event = ChatEvent(self.next_seq(), kind, message, message.text, message.buttons, time.monotonic())
        chat.events.append(event)
        chat.changed.fire()
        self.changed.fire()

    def record_answer(self, query: CallbackQueryState, answer: CallbackAnswer) -> None:
        query.answer, query.answered_at = answer, time.monotonic()
        self.chats[query.chat_id].changed.fire()
        self.changed.fire()

    def message_to_api(self, message: BotMessage) -> JsonDict:
        return message.to_api(self.chats[message.chat_id].chat, self.bot_user)

    @staticmethod
    def now() -> int:
        return int(time.time())

    def user_message(self, chat: ChatState, text: str) -> JsonDict:
        """Create a Telegram ``Message`` from the user (used by the scripted user)."""
        message_id = chat.new_message_id()
        chat.user_message_ids.add(message_id)
        message: JsonDict = {
            "message_id": message_id,
            "from": chat.user,
            "chat": chat.chat,
            "date": self.now(),
            "text": text,
        }
        if text.startswith("/"):
            # Real clients mark commands with a bot_command entity (aiogram's Command
            # filter parses the text itself, but handlers may look at entities).
            command = text.split(maxsplit=1)[0]
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command)}
            ]
        return message
