"""Fixtures for end-to-end tests: the fake Bot API, the bot process, and its database."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.db import Database
from tests.e2e.harness import ROOT, BotProcess
from tests.fake_telegram.server import FakeTelegramServer

pytestmark = pytest.mark.e2e


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as server:
        yield server


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrated once with the demo clinics; each test starts from a copy, not from scratch."""
    folder = tmp_path_factory.mktemp("template")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo"], cwd=ROOT, capture_output=True, text=True, timeout=180, check=False,
        env={**os.environ, "BOT_TOKEN": "1:template", "DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'bot.sqlite3'}"},
    )
    assert result.returncode == 0, result.stderr
    return folder / "bot.sqlite3"


@pytest.fixture
async def bot_process(fake_api: FakeTelegramServer, tmp_path: Path, template_db: Path) -> AsyncIterator[BotProcess]:
    process = BotProcess(fake_api, tmp_path, {})
    shutil.copyfile(template_db, process.db_path)
    try:
        yield process
    finally:
        await process.stop()
        assert not fake_api.internal_errors, fake_api.internal_errors


@pytest.fixture
async def bot_db(bot_process: BotProcess) -> AsyncIterator[Database]:
    """The bot's own SQLite file, for setting up what earlier conversations would have left."""
    db = Database(bot_process.database_url)
    try:
        yield db
    finally:
        await db.dispose()
