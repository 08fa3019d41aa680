"""A fake Telegram Bot API server on 127.0.0.1, driven by tests.

The real bot talks to it over HTTP exactly as to api.telegram.org (configure aiogram with
``TelegramAPIServer.from_base(server.base_url)``).  It runs on the test's event loop.
Updates reach the bot by getUpdates or, once it calls setWebhook, by webhook (see webhook.py).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from .api_bot import BotMethods, commands_key
from .api_common import Handler
from .api_messages import MessageMethods
from .api_webhook import WebhookMethods
from .errors import ApiError, default_description
from .models import ApiCall, BotMessage, JsonDict, UploadedFile
from .params import read_params
from .rates import RateStats, send_rate
from .state import ChatState, Pulse, TelegramState
from .user import ScriptedUser
from .webhook import DeliveryAttempt, WebhookSender

DEFAULT_TOKEN = "123456:TEST"

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Fault:
    method: str  # lower-case method name, or "*" for any method
    chat_id: int | None
    remaining: int
    error_code: int
    description: str
    retry_after: int | None

    def matches(self, method: str, chat_id: int | str | None) -> bool:
        if self.method not in {"*", method.lower()}:
            return False
        return self.chat_id is None or str(self.chat_id) == str(chat_id)


class FakeTelegramServer:
    """The fake Bot API.  Use as ``async with FakeTelegramServer() as server: ...``."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "test_bot",
        bot_first_name: str = "Test Bot",
        host: str = "127.0.0.1",
        webhook_timeout: float = 5.0,
        webhook_retry_delay: float = 0.5,
    ) -> None:
        """``webhook_timeout``: how long a webhook POST may take before it counts as failed;
        ``webhook_retry_delay``: the pause before a failed update is delivered again."""
        self.token = token
        self.host = host
        self.state = TelegramState(
            {
                "id": int(token.split(":", 1)[0]),
                "is_bot": True,
                "first_name": bot_first_name,
                "username": bot_username,
            }
        )
        self._bot_methods = BotMethods(self.state)
        self._message_methods = MessageMethods(self.state)
        self.webhook = WebhookSender(
            self.state, self._execute, timeout=webhook_timeout, retry_delay=webhook_retry_delay
        )
        self._handlers: dict[str, Handler] = {
            name.lower(): handler
            for methods in (self._bot_methods, self._message_methods, WebhookMethods(self.state, self.webhook))
            for name, handler in methods.handlers().items()
        }
        self.calls: list[ApiCall] = []
        self.unknown_calls: list[ApiCall] = []
        self.internal_errors: list[BaseException] = []  # bugs in the fake itself
        self.calls_changed = Pulse()
        self._faults: list[_Fault] = []
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # ---- lifecycle -----------------------------------------------------------------------

    async def start(self) -> Self:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        # handler_cancellation: a long poll whose client went away (bot stopped) must not
        # linger; a short shutdown_timeout keeps teardown fast.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        # We bound port 0 (no clashes between parallel tests); read back the real port.
        self._port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        await self.webhook.stop(finish_in_flight=False)
        self._bot_methods.closing = True
        self.state.updates_arrived.fire()  # release long polls so shutdown is immediate
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            msg = "FakeTelegramServer is not started"
            raise RuntimeError(msg)
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` — pass to ``TelegramAPIServer.from_base``."""
        return f"http://{self.host}:{self.port}"

    # ---- HTTP ----------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        params, files = await read_params(request)
        call = await self._call(request.match_info["token"], request.match_info["method"], params, files)
        assert call.response is not None
        return web.json_response(call.response, status=call.status)

    async def _execute(self, method: str, params: JsonDict, files: dict[str, UploadedFile]) -> ApiCall:
        """A method call from a webhook's answer: Telegram runs it and tells the bot nothing."""
        return await self._call(self.token, method, params, files)

    async def _call(self, token: str, method: str, params: JsonDict, files: dict[str, UploadedFile]) -> ApiCall:
        call = ApiCall(
            seq=self.state.next_seq(),
            method=method,
            params=params,
            files=files,
            at=time.monotonic(),
            chat_id=params.get("chat_id"),
        )
        self.calls.append(call)
        self.calls_changed.fire()
        try:
            result = await self._dispatch(token, call)
            status, body = 200, {"ok": True, "result": result}
        except ApiError as error:
            status, body = error.error_code, error.to_json()
        except Exception as error:  # a bug in the fake: answer like Telegram, record it
            log.exception("fake Telegram failed on %s", method)
            self.internal_errors.append(error)
            status = 500
            body = {"ok": False, "error_code": 500, "description": f"Fake server bug: {error!r}"}
        call.status, call.response = status, body
        self.calls_changed.fire()
        return call

    async def _dispatch(self, token: str, call: ApiCall) -> Any:
        if token != self.token:
            raise ApiError(401, "Unauthorized")
        handler = self._handlers.get(call.method.lower())
        if handler is None:
            self.unknown_calls.append(call)
            raise ApiError(404, "Not Found")
        self._raise_injected_fault(call)
        return await handler(call.params, call.files)

    def _raise_injected_fault(self, call: ApiCall) -> None:
        for fault in self._faults:
            if fault.matches(call.method, call.chat_id):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                raise ApiError(fault.error_code, fault.description, fault.retry_after)

    # ---- test controls -------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "Тест",
        username: str | None = None,
        *,
        last_name: str | None = None,
        language_code: str | None = "ru",
    ) -> ScriptedUser:
        """A human with a private chat with the bot (same user_id → same chat)."""
        user: JsonDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        return ScriptedUser(self, self.state.add_chat(user))

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str | None = None,
        retry_after: int | None = None,
        chat_id: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (optionally to ``chat_id``) fail.

        ``method`` is case-insensitive, ``"*"`` matches any method.  Examples:
        ``fail_next("sendMessage", 429, retry_after=1, chat_id=1001)``,
        ``fail_next("sendMessage", 502)``.  Faults apply before the method runs, so a
        failed send leaves no message behind, as with Telegram.
        """
        if error_code == 429 and retry_after is None:
            retry_after = 1
        self._faults.append(
            _Fault(
                method=method.lower(),
                chat_id=chat_id,
                remaining=times,
                error_code=error_code,
                description=description or default_description(error_code, retry_after),
                retry_after=retry_after,
            )
        )

    def clear_faults(self) -> None:
        self._faults.clear()

    def block(self, chat_id: int) -> None:
        """The user blocked the bot: every send/edit to the chat gets 403 until unblocked."""
        self._chat(chat_id).blocked = True

    def unblock(self, chat_id: int) -> None:
        self._chat(chat_id).blocked = False

    # ---- webhook controls ----------------------------------------------------------------

    @property
    def webhook_targets(self) -> list[str] | None:
        """Where updates are POSTed instead of the setWebhook URL: several bot instances behind
        one webhook, round-robin; a failed delivery is retried on the next target."""
        return self.webhook.targets

    @webhook_targets.setter
    def webhook_targets(self, urls: list[str] | None) -> None:
        self.webhook.targets = list(urls) if urls else None

    def balance_over(self, urls: list[str]) -> None:
        self.webhook_targets = urls

    @property
    def webhook_timeout(self) -> float:
        return self.webhook.timeout

    @webhook_timeout.setter
    def webhook_timeout(self, seconds: float) -> None:
        self.webhook.timeout = seconds

    @property
    def webhook_retry_delay(self) -> float:
        return self.webhook.retry_delay

    @webhook_retry_delay.setter
    def webhook_retry_delay(self, seconds: float) -> None:
        self.webhook.retry_delay = seconds

    def _chat(self, chat_id: int) -> ChatState:
        try:
            return self.state.chats[chat_id]
        except KeyError:
            msg = f"no chat {chat_id}: create it with server.user({chat_id}, ...) first"
            raise KeyError(msg) from None

    # ---- inspection ----------------------------------------------------------------------

    @property
    def seq(self) -> int:
        """The current position in the global event order (for ``after_seq`` filters)."""
        return self.state.last_seq

    def calls_to(self, method: str, chat_id: int | None = None) -> list[ApiCall]:
        wanted = method.lower()
        return [
            call
            for call in self.calls
            if call.method.lower() == wanted and (chat_id is None or call.chat_id == chat_id)
        ]

    def failed_calls(self, chat_id: int | None = None, after_seq: int = 0) -> list[ApiCall]:
        return [
            call
            for call in self.calls
            if call.seq > after_seq
            and call.status not in {0, 200}
            and (chat_id is None or str(call.chat_id) == str(chat_id))
        ]

    async def wait_for_call(
        self, method: str, *, after_seq: int = 0, timeout: float = 5.0
    ) -> ApiCall:
        """Wait until the bot has *started* a call to ``method`` (e.g. a getUpdates poll)."""
        wanted = method.lower()

        def find() -> ApiCall | None:
            return next(
                (c for c in self.calls if c.seq > after_seq and c.method.lower() == wanted), None
            )

        if not await self.calls_changed.wait_until(lambda: find() is not None, timeout):
            msg = f"the bot did not call {method} within {timeout}s"
            raise TimeoutError(msg)
        call = find()
        assert call is not None
        return call

    @property
    def webhook_attempts(self) -> list[DeliveryAttempt]:
        """Every webhook POST so far, in the order they finished."""
        return self.webhook.attempts

    async def wait_for_attempts(self, count: int, *, timeout: float = 5.0) -> list[DeliveryAttempt]:
        """Wait until at least ``count`` webhook deliveries have finished (well or not)."""
        if not await self.webhook.attempts_changed.wait_until(lambda: len(self.webhook.attempts) >= count, timeout):
            msg = f"{len(self.webhook.attempts)} of {count} webhook deliveries within {timeout}s"
            raise TimeoutError(msg)
        return self.webhook.attempts

    async def wait_for_webhook_idle(self, *, timeout: float = 5.0) -> None:
        """Wait until every update is delivered and confirmed, and no POST is in flight."""

        def idle() -> bool:
            return not self.state.pending_updates and not self.webhook.busy

        if not await self.webhook.attempts_changed.wait_until(idle, timeout):
            recent = "\n".join(f"  {attempt}" for attempt in self.webhook.attempts[-5:])
            msg = (
                f"{len(self.state.pending_updates)} update(s) still pending after {timeout}s; "
                f"last deliveries:\n{recent or '  (none)'}"
            )
            raise TimeoutError(msg)

    def messages(self, chat_id: int, *, include_deleted: bool = False) -> list[BotMessage]:
        """The bot's messages in a chat, in order, in their current (edited) state."""
        chat = self._chat(chat_id)
        return [m for m in chat.bot_messages.values() if include_deleted or not m.deleted]

    def send_rate(
        self,
        window: float = 1.0,
        *,
        methods: tuple[str, ...] = ("sendMessage",),
        include_failed: bool = True,
    ) -> RateStats:
        """Max calls of ``methods`` in any ``window`` seconds: ``.overall`` and ``.per_chat``."""
        return send_rate(
            self.calls, window=window, methods=methods, include_failed=include_failed
        )

    def commands(self, scope: JsonDict | None = None, language_code: str = "") -> list[JsonDict]:
        """The command menu the bot set with setMyCommands for this scope/language."""
        return self.state.commands.get(
            commands_key({"scope": scope, "language_code": language_code}), []
        )

    def assert_healthy(self) -> None:
        """Fail if the bot called a method the fake lacks, or the fake itself crashed."""
        problems = [f"unknown method {call.method}" for call in self.unknown_calls]
        problems += [f"fake server bug: {error!r}" for error in self.internal_errors]
        if problems:
            raise AssertionError("Fake Telegram API: " + "; ".join(problems))
