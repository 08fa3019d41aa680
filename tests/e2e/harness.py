"""Runs the real bot (``python -m bot``) as a subprocess against the fake Telegram Bot API."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from datetime import UTC, datetime, timedelta
from datetime import time as day_time
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from tests.fake_telegram.server import FakeTelegramServer

ROOT = Path(__file__).resolve().parents[2]
CONSENT_VERSION = "test-1"
WEBHOOK_SECRET = "e2e-secret_1"  # the version tests/factories.py records

MOSCOW = ZoneInfo("Europe/Moscow")

# Moments of the week a scene may be set at (Moscow time, weekday 0 = Monday): tests whose
# outcome depends on the calendar (the cancel cutoff, the first free day) run at each of them.
SCENES: dict[str, tuple[int, day_time] | None] = {
    "now": None,
    "friday-23:30": (4, day_time(23, 30)),
    "sunday-17:59": (6, day_time(17, 59)),
}
AT_ANY_HOUR = pytest.mark.parametrize("scene", list(SCENES), indirect=True)


def next_moment(weekday: int, at: day_time, after: datetime) -> datetime:
    """The first such Moscow weekday and time after ``after``."""
    local = after.astimezone(MOSCOW)
    day = local.date() + timedelta(days=(weekday - local.weekday()) % 7)
    moment = datetime.combine(day, at, MOSCOW)
    return moment if moment > after else moment + timedelta(days=7)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class BotProcess:
    def __init__(self, api: FakeTelegramServer, folder: Path, base_env: dict[str, str], *,
                 clock_offset: int = 0) -> None:
        self.api = api
        # The scene's clock: the bot, its admin commands and the test's own set-up all read
        # wall time shifted by this many seconds (CLOCK_OFFSET_SECONDS).
        self.clock_offset = clock_offset
        self.folder = folder
        self.db_path = folder / "bot.sqlite3"
        self.database_url = f"sqlite+aiosqlite:///{self.db_path}"
        self.web_port = free_port()
        self.base_env = base_env
        self.proc: asyncio.subprocess.Process | None = None
        self.log_path = folder / "bot.log"
        self._extra: dict[str, str] = {}

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "BOT_TOKEN": self.api.token,
            "TELEGRAM_API_BASE": self.api.base_url,
            "DATABASE_URL": self.database_url,
            "DEMO_DATA": "false",  # the template database already holds the demo clinics
            "MODERATOR_IDS": "900,902",
            "OPERATOR_IDS": "901",
            "CONSENT_POLICY_VERSION": CONSENT_VERSION,
            "EMAIL_DELIVERY": "console",
            "WEB_HOST": "127.0.0.1",
            "WEB_PORT": str(self.web_port),
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{self.web_port}",
            "LOG_LEVEL": "INFO",
            "OUTBOX_POLL_SECONDS": "0.3",
            "OFFER_CHECK_SECONDS": "1",
            "SEND_PER_CHAT_INTERVAL": "0.05",
            "CLOCK_OFFSET_SECONDS": str(self.clock_offset),
        })
        env.update(self.base_env)
        env.update(extra or {})
        return env

    async def run_cli(self, *args: str, extra_env: dict[str, str] | None = None) -> tuple[int, str]:
        """An admin command (``python -m bot import-fhir …``) on the same database, as an operator runs it.

        Asynchronous, so the fake Telegram server in this event loop keeps answering the bot meanwhile.
        """
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", *args, cwd=ROOT, env=self.env(extra_env),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        output, _ = await asyncio.wait_for(proc.communicate(), timeout=120)
        return int(proc.returncode or 0), output.decode(errors="replace")

    def now(self) -> datetime:
        """The scene's time, as the bot reads it when started without ``clock_at``."""
        return datetime.now(UTC) + timedelta(seconds=self.clock_offset)

    async def start(self, extra_env: dict[str, str] | None = None, timeout: float = 45.0, *,
                    clock_at: datetime | None = None) -> None:
        """Starts the bot; ``clock_at`` sets its clock to that moment (it runs on from there)."""
        self._extra = dict(extra_env or {})
        if clock_at is not None:
            self._extra["CLOCK_OFFSET_SECONDS"] = str(int((clock_at - datetime.now(UTC)).total_seconds()))
        env = self.env(self._extra)
        webhook = env.get("TELEGRAM_MODE") == "webhook"
        polls_before, hooks_before = self._polls(), self._set_webhooks()
        with self.log_path.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", cwd=ROOT, env=env, stdout=log,
                stderr=asyncio.subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        # Polling: ready at its first getUpdates. Webhook: when /readyz answers and setWebhook was called.
        while not (await self._webhook_ready(hooks_before) if webhook else self._polls() > polls_before):
            if self.proc.returncode is not None:
                raise AssertionError(f"the bot exited with {self.proc.returncode}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"the bot did not get ready in {timeout} s:\n{self.log_tail()}")
            await asyncio.sleep(0.05)

    def webhook_env(self, secret: str = WEBHOOK_SECRET) -> dict[str, str]:
        """Settings of webhook mode: Telegram (the fake) posts to this instance's own port."""
        return {"TELEGRAM_MODE": "webhook", "WEBHOOK_BASE_URL": f"http://127.0.0.1:{self.web_port}",
                "WEBHOOK_SECRET": secret}

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    async def _webhook_ready(self, hooks_before: int) -> bool:
        if self._set_webhooks() <= hooks_before:
            return False
        try:
            async with aiohttp.ClientSession() as session, session.get(f"{self.web_url}/readyz") as response:
                return response.status == 200
        except aiohttp.ClientError:
            return False

    def _set_webhooks(self) -> int:
        return sum(1 for call in self.api.calls if call.method.lower() == "setwebhook" and call.status == 200)

    async def stop(self, timeout: float = 15.0) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()

    async def restart(self, extra_env: dict[str, str] | None = None) -> None:
        await self.stop()
        await self.start({**self._extra, **(extra_env or {})})

    def _polls(self) -> int:
        return sum(1 for call in self.api.calls if call.method.lower() == "getupdates")

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def login_code(self) -> str:
        """The last e-mail code, from the console delivery's log line."""
        for line in reversed(self.log_text().splitlines()):
            if "login code " in line:
                return line.split("login code ", 1)[1][:6]
        raise AssertionError("no login code in the bot's log")
