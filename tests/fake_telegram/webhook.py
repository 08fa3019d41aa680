"""Webhook delivery: POST each pending update to the bot as Telegram does.

An update is confirmed (and forgotten) by a 2xx answer; a non-2xx answer, a connection error
or no answer within ``timeout`` leaves it pending and it is delivered again after
``retry_delay``, on the next target when there are several.  The updates of one chat go one at
a time, in order: the next is not sent before the previous one is confirmed.  Different chats
go concurrently, up to the webhook's ``max_connections``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus

import aiohttp

from .models import JsonDict, UploadedFile
from .params import decode_value
from .state import Pulse, TelegramState

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

# Runs a Bot API method found in a webhook's answer: (method, params, files).
Execute = Callable[[str, JsonDict, dict[str, UploadedFile]], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    """One POST of an update to a webhook target.  Times are ``time.monotonic()``."""

    update_id: int
    chat_id: int | None
    target: str
    started: float
    finished: float
    status: int | None  # the HTTP status, None when there was no answer
    error: str | None  # why it will be delivered again (getWebhookInfo's wording); None if confirmed

    @property
    def ok(self) -> bool:
        return self.error is None

    def __str__(self) -> str:
        return f"update {self.update_id} -> {self.target}: {self.error or self.status}"


@dataclass(frozen=True, slots=True)
class _Retry:
    not_before: float
    target_index: int  # the one after the target that failed


def chat_of(update: JsonDict) -> int | None:
    """The chat an update belongs to (its ordering key), None for chat-less updates."""
    for key, payload in update.items():
        if key == "update_id" or not isinstance(payload, dict):
            continue
        chat = payload.get("chat") or (payload.get("message") or {}).get("chat")
        if isinstance(chat, dict) and "id" in chat:
            return int(chat["id"])
        sender = payload.get("from")
        if isinstance(sender, dict) and "id" in sender:
            return int(sender["id"])
    return None


class WebhookSender:
    """Delivers ``state.pending_updates`` while ``state.webhook`` is set (between start/stop)."""

    def __init__(self, state: TelegramState, execute: Execute, *, timeout: float, retry_delay: float) -> None:
        self.state = state
        self.execute = execute
        self.timeout = timeout
        self.retry_delay = retry_delay
        self.targets: list[str] | None = None  # overrides the setWebhook URL (load balancing)
        self.attempts: list[DeliveryAttempt] = []
        self.attempts_changed = Pulse()
        self.last_error: tuple[int, str] | None = None  # (unix time, message) for getWebhookInfo
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self._retries: dict[int, _Retry] = {}
        self._next_target = 0
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.Task[None] | None = None

    @property
    def busy(self) -> bool:
        return bool(self._in_flight)

    def start(self) -> None:
        if self._loop is None:
            # limit=0: concurrency is bounded by max_connections here, not by the pool.
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
            self._loop = asyncio.create_task(self._run(self._session), name="fake-telegram-webhook")

    async def stop(self, *, finish_in_flight: bool) -> None:
        """Stop delivering.  ``finish_in_flight`` lets started POSTs get their answer (so an
        update the bot confirms is not handed to getUpdates again); otherwise they are cut."""
        # Detach first: a setWebhook while we wait here starts afresh with its own session.
        loop, self._loop = self._loop, None
        session, self._session = self._session, None
        if loop is not None:
            loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loop
        tasks = list(self._in_flight.values())
        if not finish_in_flight:
            for task in tasks:
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._retries.clear()
        if session is not None:
            await session.close()

    # ---- scheduling ----------------------------------------------------------------------

    async def _run(self, session: aiohttp.ClientSession) -> None:
        while True:
            now = time.monotonic()
            wake_at = self._start_due(session, now)
            # No await between the scan and the wait: a fire in between cannot be lost.
            await self.state.updates_arrived.wait(3600.0 if wake_at is None else wake_at - now)

    def _start_due(self, session: aiohttp.ClientSession, now: float) -> float | None:
        """Start every deliverable update; return when the earliest retry falls due."""
        config = self.state.webhook
        if config is None:
            return None
        seen_chats: set[int] = set()
        wake_at: float | None = None
        for update in self.state.pending_updates:
            if len(self._in_flight) >= config.max_connections:
                break
            chat_id = chat_of(update)
            if chat_id is not None:
                if chat_id in seen_chats:
                    continue  # an earlier update of this chat is not confirmed yet
                seen_chats.add(chat_id)
            update_id = int(update["update_id"])
            if update_id in self._in_flight:
                continue
            retry = self._retries.get(update_id)
            if retry is not None and retry.not_before > now:
                wake_at = retry.not_before if wake_at is None else min(wake_at, retry.not_before)
                continue
            if retry is not None:
                target_index = retry.target_index
            else:
                target_index = self._next_target
                self._next_target += 1
            self._in_flight[update_id] = asyncio.create_task(
                self._deliver(session, update, chat_id, target_index)
            )
        return wake_at

    # ---- one attempt ---------------------------------------------------------------------

    async def _deliver(
        self, session: aiohttp.ClientSession, update: JsonDict, chat_id: int | None, target_index: int
    ) -> None:
        update_id = int(update["update_id"])
        try:
            await self._attempt(session, update, chat_id, target_index)
        finally:
            del self._in_flight[update_id]
            self.attempts_changed.fire()
            self.state.updates_arrived.fire()  # wake the scheduler: a slot and maybe a chat are free

    async def _attempt(
        self, session: aiohttp.ClientSession, update: JsonDict, chat_id: int | None, target_index: int
    ) -> None:
        update_id = int(update["update_id"])
        config = self.state.webhook
        if config is None:  # a deleteWebhook racing a setWebhook: the update stays pending
            return
        targets = self.targets or [config.url]
        target = targets[target_index % len(targets)]
        headers = {SECRET_HEADER: config.secret_token} if config.secret_token else {}
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        call: tuple[str, JsonDict, dict[str, UploadedFile]] | None = None
        try:
            async with asyncio.timeout(self.timeout):
                async with session.post(target, json=update, headers=headers) as response:
                    status = response.status
                    if 200 <= status < 300:
                        call = await _method_call(response)
                    else:
                        error = f"Wrong response from the webhook: {status} {_reason(status)}"
        except TimeoutError:
            status, error = None, "Read timeout expired"
        except aiohttp.ClientError as exc:
            status, error = None, f"Connection failed: {exc}"
        if error is None and call is not None:
            await self.execute(*call)  # before confirming: the chat's next update sees its effect
        finished = time.monotonic()
        if error is None:
            self.state.confirm_update(update_id)
            self._retries.pop(update_id, None)
        else:
            self.last_error = (int(time.time()), error)
            self._retries[update_id] = _Retry(finished + self.retry_delay, target_index + 1)
        self.attempts.append(DeliveryAttempt(update_id, chat_id, target, started, finished, status, error))


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


async def _method_call(response: aiohttp.ClientResponse) -> tuple[str, JsonDict, dict[str, UploadedFile]] | None:
    """A Bot API call in a webhook's answer: a JSON object or, as aiogram sends it, form-data.

    Telegram ignores an answer that is not a method call, and so do we.
    """
    params: JsonDict = {}
    files: dict[str, UploadedFile] = {}
    try:
        if response.content_type == "multipart/form-data":
            async for part in aiohttp.MultipartReader.from_response(response):
                if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                    continue
                data = await part.read(decode=True)
                if part.filename is not None:
                    content_type = part.headers.get(aiohttp.hdrs.CONTENT_TYPE)
                    files[part.name] = UploadedFile(part.name, part.filename, content_type, data)
                else:
                    params[part.name] = decode_value(part.name, data.decode(part.get_charset("utf-8")))
        else:
            body = json.loads(await response.read() or b"null")
            params = body if isinstance(body, dict) else {}
    except (ValueError, RuntimeError):  # malformed JSON or multipart; UnicodeDecodeError is a ValueError
        return None
    method = params.pop("method", None)
    if not isinstance(method, str) or not method:
        return None
    return method, params, files
