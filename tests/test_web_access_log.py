"""The bot's web server logs each request's path only: the ESIA callback's one-time ``code`` and
``state`` stay out of the access log."""

from __future__ import annotations

import logging

import aiohttp
import pytest
from aiogram import Bot
from aiohttp import web

from bot.infra.web import make_web_app, web_runner
from core.access import AccessService
from core.clock import FixedClock
from storage.db import Database
from tests.factories import CONSENT, STAFF


async def test_the_esia_callback_is_logged_without_its_query(sqlite_db: Database, clock: FixedClock,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    bot = Bot("1:test")
    runner = web_runner(make_web_app(bot, None, AccessService(sqlite_db, clock, STAFF, CONSENT)))
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        port = runner.addresses[0][1]
        async with aiohttp.ClientSession() as http, http.get(
                f"http://127.0.0.1:{port}/esia/callback?code=one-time-code-123&state=state-456") as response:
            assert response.status == 404  # ESIA is off here; the request is logged all the same
    finally:
        await runner.cleanup()
        await bot.session.close()

    (line,) = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert "GET /esia/callback" in line and " 404 " in line
    for secret in ("code=", "state=", "one-time-code-123", "state-456", "?"):
        assert secret not in line
