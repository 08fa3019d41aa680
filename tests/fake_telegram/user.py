"""A scripted human: sends messages, presses buttons, waits for the bot's replies.

Every wait that fails says what the bot *did* do since the user's last action (messages,
edits, failed API calls), because "timed out" alone makes e2e failures hard to diagnose.
"""

from __future__ import annotations

import bisect
import time
from typing import TYPE_CHECKING

from .models import BotMessage, CallbackAnswer, ChatEvent, JsonDict, SentDocument
from .state import CallbackQueryState, ChatState, Pulse

if TYPE_CHECKING:
    from .server import FakeTelegramServer


class ScriptedUser:
    def __init__(self, server: FakeTelegramServer, chat: ChatState) -> None:
        self._server = server
        self._state = server.state
        self._chat = chat
        self._mark = server.state.last_seq  # seq of the last action
        self._last_action = "(no action yet)"
        self._matched: set[int] = set()  # event seqs already returned by expect()

    def __repr__(self) -> str:
        return f"ScriptedUser({self.user_id}, {self.first_name!r})"

    @property
    def user_id(self) -> int:
        return self._chat.chat_id

    @property
    def chat_id(self) -> int:
        return self._chat.chat_id  # private chat: same id as the user

    @property
    def first_name(self) -> str:
        return str(self._chat.user["first_name"])

    @property
    def user(self) -> JsonDict:
        """The Telegram ``User`` object the bot sees."""
        return self._chat.user

    @property
    def changed(self) -> Pulse:
        """Fires when the bot sends, edits or deletes a message here or answers this user's button."""
        return self._chat.changed

    # ---- what the bot said ---------------------------------------------------------------

    @property
    def messages(self) -> list[BotMessage]:
        """The bot's visible messages in this chat, oldest first, in their current state."""
        return [m for m in self._chat.bot_messages.values() if not m.deleted]

    @property
    def all_messages(self) -> list[BotMessage]:
        """Including deleted ones (``message.deleted`` is True)."""
        return list(self._chat.bot_messages.values())

    @property
    def last_message(self) -> BotMessage | None:
        visible = self.messages
        return visible[-1] if visible else None

    @property
    def documents(self) -> list[SentDocument]:
        return [m.document for m in self.all_messages if m.document is not None]

    def events_since_last_action(self) -> list[ChatEvent]:
        events = self._chat.events
        start = bisect.bisect_right(events, self._mark, key=lambda event: event.seq)
        return events[start:]

    # ---- actions -------------------------------------------------------------------------

    def _begin(self, action: str) -> None:
        self._mark = self._state.next_seq()
        self._last_action = action

    async def send(self, text: str) -> int:
        """Send a text message (commands get a bot_command entity); returns its message_id."""
        self._begin(f"send {text!r}")
        message = self._state.user_message(self._chat, text)
        update = self._state.enqueue_update("message", message)
        self._fail_if_dropped(update, "message")
        return int(message["message_id"])

    async def press(
        self,
        label: str,
        *,
        row: int | None = None,
        timeout: float = 5.0,
        require_answer: bool = True,
    ) -> CallbackAnswer:
        """Press an inline button on the newest bot message that has it.

        Within a message an exact label match wins over a substring match; ``row`` (0-based
        keyboard row) disambiguates identical labels.  Waits for answerCallbackQuery and
        returns it; if the bot never answers, fails (or, with ``require_answer=False``,
        returns an answer with ``answered=False``).
        """
        for message in reversed(self.messages):
            button = self._pick_button(message, label, row)
            if button is not None:
                return await self._press_button(message, button, label, timeout, require_answer)
        raise AssertionError(
            f"{self!r}: no button matching {label!r} in the bot's messages. "
            f"Buttons (newest message first):\n{self._describe_buttons()}"
        )

    async def press_in(
        self,
        message: BotMessage | int,
        label: str,
        *,
        row: int | None = None,
        timeout: float = 5.0,
        require_answer: bool = True,
    ) -> CallbackAnswer:
        """Press a button on a specific (possibly old, stale) message."""
        target = self._message(message)
        button = self._pick_button(target, label, row)
        if button is None:
            raise AssertionError(
                f"{self!r}: message #{target.message_id} has no button matching {label!r}; "
                f"it has {target.buttons}"
            )
        return await self._press_button(target, button, label, timeout, require_answer)

    async def press_raw(
        self,
        callback_data: str,
        message: BotMessage | int | None = None,
        *,
        timeout: float = 5.0,
        require_answer: bool = True,
    ) -> CallbackAnswer:
        """Send a callback query with arbitrary (forged) data, as a modified client could.

        It is attached to ``message`` or, by default, to the bot's newest message.
        """
        target = self._message(message) if message is not None else self.last_message
        return await self._send_callback(
            callback_data, target, f"press_raw({callback_data!r})", timeout, require_answer
        )

    def url_button(self, label: str) -> str:
        """The URL of a URL button (newest message first)."""
        for message in reversed(self.messages):
            for button in message.all_buttons():
                if "url" in button and (button["text"] == label or label in button["text"]):
                    return str(button["url"])
        raise AssertionError(
            f"{self!r}: no URL button matching {label!r}. "
            f"Buttons (newest message first):\n{self._describe_buttons()}"
        )

    def block_bot(self) -> None:
        self._chat.blocked = True

    def unblock_bot(self) -> None:
        self._chat.blocked = False

    # ---- waiting -------------------------------------------------------------------------

    async def expect(self, substring: str, timeout: float = 5.0) -> BotMessage:
        """Wait for a bot message sent or edited after the last action containing
        ``substring`` (case-sensitive, in the visible text); return the message (live,
        current state).  Does not consume: several expects may match the same reply.
        """
        found: list[ChatEvent] = []

        def check() -> bool:
            for event in self.events_since_last_action():
                if event.kind != "deleted" and substring in event.text:
                    found.append(event)
                    return True
            return False

        if not await self._state.changed.wait_until(check, timeout):
            raise AssertionError(
                f"{self!r} expected the bot to say {substring!r} within {timeout}s "
                f"after {self._last_action}.\n{self.describe_since_last_action()}"
            )
        self._matched.add(found[0].seq)
        return found[0].message

    async def expect_no_message(self, within: float = 0.5) -> None:
        """Fail if within ``within`` seconds the bot sends or edits anything in this chat
        since the last action, other than what ``expect()`` already returned."""

        def unexpected() -> list[ChatEvent]:
            return [
                event
                for event in self.events_since_last_action()
                if event.kind != "deleted" and event.seq not in self._matched
            ]

        if await self._state.changed.wait_until(lambda: bool(unexpected()), within):
            said = "\n".join(f"  {event.describe()}" for event in unexpected())
            raise AssertionError(
                f"{self!r} expected silence after {self._last_action}, but the bot:\n{said}"
            )

    def describe_since_last_action(self) -> str:
        """What the bot did in this chat since the user's last action, for failure text."""
        lines = [f"  {event.describe()}" for event in self.events_since_last_action()]
        report = "Since then the bot:\n" + ("\n".join(lines) if lines else "  (said nothing)")
        failed = self._server.failed_calls(chat_id=self.chat_id, after_seq=self._mark)
        if failed:
            report += "\nFailed API calls for this chat:\n" + "\n".join(f"  {c}" for c in failed)
        if self._server.unknown_calls:
            names = sorted({call.method for call in self._server.unknown_calls})
            report += f"\nUnknown Bot API methods called: {names}"
        pending = len(self._state.pending_updates)
        if pending and self._state.webhook is not None:
            undelivered = [str(a) for a in self._server.webhook_attempts[-3:] if not a.ok]
            report += f"\n{pending} update(s) not yet confirmed by the webhook"
            report += "".join(f"\n  {line}" for line in undelivered)
        elif pending:
            report += f"\n{pending} update(s) not yet fetched by getUpdates — is the bot polling?"
        return report

    # ---- internals -----------------------------------------------------------------------

    def _message(self, message: BotMessage | int) -> BotMessage:
        message_id = message if isinstance(message, int) else message.message_id
        found = self._chat.bot_messages.get(message_id)
        if found is None:
            raise AssertionError(f"{self!r}: the bot never sent message #{message_id}")
        return found

    @staticmethod
    def _pick_button(message: BotMessage, label: str, row: int | None) -> JsonDict | None:
        rows = message.inline_keyboard
        if row is not None:
            rows = rows[row : row + 1]
        buttons = [button for keyboard_row in rows for button in keyboard_row]
        candidates = [b for b in buttons if b["text"] == label] or [
            b for b in buttons if label in b["text"]
        ]
        if len(candidates) > 1:
            raise AssertionError(
                f"{len(candidates)} buttons match {label!r} on message #{message.message_id}: "
                f"{message.buttons}; pass row= to choose"
            )
        return candidates[0] if candidates else None

    async def _press_button(
        self,
        message: BotMessage,
        button: JsonDict,
        label: str,
        timeout: float,
        require_answer: bool,
    ) -> CallbackAnswer:
        if "callback_data" not in button:
            kind = f"a URL button ({button['url']}); read it with url_button()" if (
                "url" in button
            ) else f"not a callback button: {button}"
            raise AssertionError(f"{self!r}: button {button['text']!r} is {kind}")
        return await self._send_callback(
            str(button["callback_data"]), message, f"press {label!r}", timeout, require_answer
        )

    def click(self, callback_data: str, message: BotMessage | None) -> CallbackQueryState:
        """Press a button and return at once, without waiting for the bot: for load generators,
        which wait on :attr:`changed` themselves.  The query's ``answer`` fills in later."""
        return self._submit_callback(callback_data, message, f"click({callback_data!r})")

    async def _send_callback(
        self,
        data: str,
        message: BotMessage | None,
        action: str,
        timeout: float,
        require_answer: bool,
    ) -> CallbackAnswer:
        query = self._submit_callback(data, message, action)
        started = time.monotonic()
        if await self._state.changed.wait_until(lambda: query.answer is not None, timeout):
            assert query.answer is not None
            return query.answer
        if require_answer:
            raise AssertionError(
                f"{self!r}: the bot did not answer the callback query of {action} within "
                f"{time.monotonic() - started:.1f}s (the button would spin forever).\n"
                f"{self.describe_since_last_action()}"
            )
        return CallbackAnswer(query.query_id, None, False, None, None, answered=False)

    def _submit_callback(self, data: str, message: BotMessage | None, action: str) -> CallbackQueryState:
        if message is not None and message.deleted:
            raise AssertionError(f"{self!r}: message #{message.message_id} was deleted")
        self._begin(action)
        query = CallbackQueryState(
            query_id=self._state.next_query_id(),
            chat_id=self.chat_id,
            data=data,
            message_id=None if message is None else message.message_id,
            seq=self._mark,
        )
        self._state.callback_queries[query.query_id] = query
        payload: JsonDict = {
            "id": query.query_id,
            "from": self._chat.user,
            "chat_instance": f"-{self.chat_id}77",
            "data": data,
        }
        if message is not None:
            payload["message"] = self._state.message_to_api(message)
        update = self._state.enqueue_update("callback_query", payload)
        self._fail_if_dropped(update, "callback_query")
        return query

    def _fail_if_dropped(self, update: JsonDict, update_type: str) -> None:
        if self._state.dropped_updates and self._state.dropped_updates[-1] is update:
            raise AssertionError(
                f"Telegram would not deliver this {update_type} update: the bot polls with "
                f"allowed_updates={self._state.allowed_updates} (no handler for it?)"
            )

    def _describe_buttons(self) -> str:
        lines = [f"  {m.describe()}" for m in reversed(self.messages) if m.inline_keyboard]
        return "\n".join(lines) or "  (no message has inline buttons)"
