"""Bot API methods about the bot itself: getMe, getUpdates and the command menu."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from .api_common import Handler, bad_request
from .errors import CONFLICT, TERMINATED_BY_SET_WEBHOOK, WEBHOOK_ACTIVE, ApiError
from .models import JsonDict, UploadedFile
from .state import TelegramState

_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")


def commands_key(params: JsonDict) -> str:
    """Commands are stored per (scope, language), as Telegram does."""
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True) + "|" + str(params.get("language_code") or "")


class BotMethods:
    def __init__(self, state: TelegramState) -> None:
        self.state = state
        self.closing = False  # set on server shutdown so long polls return at once
        self._poll_generation = 0
        self.descriptions: dict[str, str] = {}

    def handlers(self) -> dict[str, Handler]:
        return {
            "getMe": self.get_me,
            "getUpdates": self.get_updates,
            "setMyCommands": self.set_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "getMyCommands": self.get_my_commands,
            "setMyDescription": self.set_my_description,
            "setMyShortDescription": self.set_my_description,
            "setChatMenuButton": self.accept,
        }

    async def accept(self, params: JsonDict, files: dict[str, UploadedFile]) -> Any:
        return True

    async def get_me(self, params: JsonDict, files: dict[str, UploadedFile]) -> Any:
        return {
            **self.state.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def get_updates(self, params: JsonDict, files: dict[str, UploadedFile]) -> Any:
        """Long polling with Telegram's semantics.

        ``offset`` confirms (and forgets) every update with a smaller id; with nothing
        pending the request waits up to ``timeout`` seconds and returns as soon as an update
        arrives.  A newer getUpdates terminates an older waiting one with 409, which is what
        Telegram does when two bot instances poll the same token.  While a webhook is set
        getUpdates is refused, and setWebhook ends a waiting poll, with 409 too.
        """
        if self.state.webhook is not None:
            raise ApiError(409, WEBHOOK_ACTIVE)
        offset = params.get("offset")
        if offset is not None:
            self.state.confirm_updates(int(offset))
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self.state.allowed_updates = [str(kind) for kind in allowed]
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = float(params.get("timeout") or 0)

        self._poll_generation += 1
        generation = self._poll_generation
        self.state.updates_arrived.fire()  # wake an older poll so it sees it was superseded
        deadline = time.monotonic() + timeout
        while not self.state.pending_updates and not self.closing:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            await self.state.updates_arrived.wait(remaining)
            if self.state.webhook is not None:
                raise ApiError(409, TERMINATED_BY_SET_WEBHOOK)
            if generation != self._poll_generation:
                raise ApiError(409, CONFLICT)
        return self.state.pending_updates[:limit]

    async def set_my_commands(self, params: JsonDict, files: dict[str, UploadedFile]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("commands must be a list of at most 100 BotCommand")
        for command in commands:
            name = command.get("command") if isinstance(command, dict) else None
            description = command.get("description") if isinstance(command, dict) else None
            if not isinstance(name, str) or not _COMMAND_RE.match(name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.state.commands[commands_key(params)] = list(commands)
        return True

    async def delete_my_commands(self, params: JsonDict, files: dict[str, UploadedFile]) -> Any:
        self.state.commands.pop(commands_key(params), None)
        return True

    async def get_my_commands(self, params: JsonDict, files: dict[str, UploadedFile]) -> Any:
        return self.state.commands.get(commands_key(params), [])

    async def set_my_description(self, params: JsonDict, files: dict[str, UploadedFile]) -> Any:
        for key in ("description", "short_description"):
            if key in params:
                self.descriptions[key] = str(params[key])
        return True
