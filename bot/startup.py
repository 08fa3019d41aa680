"""What the bot checks before it polls: token, files, Telegram, the web port; each failure is one line."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path

from aiogram import Bot
from aiogram.exceptions import (
    TelegramNetworkError,
    TelegramNotFound,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiohttp import web

from bot.config import Settings

log = logging.getLogger("bot")

# What @BotFather hands out: the bot's numeric id, a colon, a secret of letters, digits, "_" and "-".
TOKEN_FORMAT = re.compile(r"\d+:[A-Za-z0-9_-]+")
WHERE_TO_GET_ONE = "get one from @BotFather in Telegram (/newbot, or /mybots → API Token) and put it in .env"
FIRST_CONTACT_TIMEOUT = 10  # seconds; an unreachable Telegram is waited for later, with the bot running


class StartupError(Exception):
    """The bot cannot start; the message is the one line an operator needs."""


def bot_token(settings: Settings) -> str:
    token = settings.bot_token.get_secret_value().strip()
    if not token:
        raise StartupError(f"BOT_TOKEN is not set: {WHERE_TO_GET_ONE}")
    if not TOKEN_FORMAT.fullmatch(token):
        raise StartupError(f"BOT_TOKEN does not look like a bot token (digits:letters): {WHERE_TO_GET_ONE}")
    return token


def check_files(settings: Settings) -> None:
    """Files the bot reads at start, checked before the database: a relative path is from the current folder."""
    if not settings.consent_policy_file.is_file():
        raise StartupError(f"CONSENT_POLICY_FILE {settings.consent_policy_file} not found in {Path.cwd()}: "
                           "start the bot from the project's folder or give the file's full path")


def _refused(exc: TelegramUnauthorizedError | TelegramNotFound) -> StartupError:
    return StartupError(f"Telegram refused BOT_TOKEN ({exc.message}): it is mistyped or was revoked; "
                        f"{WHERE_TO_GET_ONE}")


async def first_contact(bot: Bot) -> bool:
    """One ``getMe`` before anything else: a refused token stops the start here (raises StartupError).

    False when Telegram cannot be reached now; the bot then starts anyway and waits for it."""
    try:
        await bot.get_me(request_timeout=FIRST_CONTACT_TIMEOUT)
    except (TelegramUnauthorizedError, TelegramNotFound) as exc:
        raise _refused(exc) from None
    except (TelegramNetworkError, TelegramServerError) as exc:
        log.warning("Telegram is not reachable yet (%s); starting anyway", type(exc).__name__)
        return False
    return True


async def until_telegram_answers(bot: Bot, max_wait: float = 60.0) -> None:
    """Telegram (or the local Bot API server) may be unreachable for a while when the host boots:
    wait for it with backoff instead of exiting; outbox and jobs already run meanwhile."""
    delay = 1.0
    while True:
        try:
            await bot.get_me()
            return
        except (TelegramUnauthorizedError, TelegramNotFound) as exc:
            raise _refused(exc) from None
        except (TelegramNetworkError, TelegramServerError) as exc:
            log.warning("Telegram is not reachable yet (%s); next try in %.0f s", type(exc).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_wait)


async def listen(runner: web.AppRunner, host: str, port: int) -> None:
    """Opens the web server's port (the runner set up); a port in use is a StartupError."""
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        raise StartupError(f"WEB_PORT {port} on {host} cannot be opened ({exc.strerror or exc}): "
                           f"stop the program using it or set another WEB_PORT (and PUBLIC_BASE_URL)") from None
