"""Fixtures for end-to-end tests: the fake Bot API, the bot process, and its database."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage.db import Database
from tests.e2e.harness import ROOT, SCENES, BotProcess, next_moment
from tests.fake_telegram.server import FakeTelegramServer

pytestmark = pytest.mark.e2e


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer() as server:
        yield server


@pytest.fixture(scope="session")
def scene_offsets() -> dict[str, int]:
    """Seconds from the wall clock to each scene, fixed once so every test of a scene shares its template."""
    now = datetime.now(UTC)
    return {name: 0 if moment is None else int((next_moment(*moment, now) - now).total_seconds())
            for name, moment in SCENES.items()}


@pytest.fixture
def scene(request: pytest.FixtureRequest, scene_offsets: dict[str, int]) -> int:
    """The clock offset of the test's scene: the wall clock unless the test is parametrized with one."""
    return scene_offsets[getattr(request, "param", "now")]


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Callable[[int], Path]:
    """Migrated with the demo clinics once per scene clock; each test starts from a copy, not from scratch."""
    made: dict[int, Path] = {}

    def for_offset(offset: int) -> Path:
        if offset not in made:
            folder = tmp_path_factory.mktemp("template")
            result = subprocess.run(
                [sys.executable, "-m", "bot", "demo"], cwd=ROOT, capture_output=True, text=True, timeout=180,
                check=False, env={**os.environ, "BOT_TOKEN": "1:template", "CLOCK_OFFSET_SECONDS": str(offset),
                                  "DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'bot.sqlite3'}"},
            )
            assert result.returncode == 0, result.stderr
            made[offset] = folder / "bot.sqlite3"
        return made[offset]

    return for_offset


@pytest.fixture
async def bot_process(fake_api: FakeTelegramServer, tmp_path: Path, template_db: Callable[[int], Path],
                      scene: int) -> AsyncIterator[BotProcess]:
    process = BotProcess(fake_api, tmp_path, {}, clock_offset=scene)
    shutil.copyfile(template_db(scene), process.db_path)
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
