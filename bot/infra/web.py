"""The bot's own small web server: the ESIA redirect callback, probes and metrics (the webhook is
registered on it by bot.app)."""

from __future__ import annotations

import logging
from html import escape

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from bot.infra.probes import Probes
from bot.keyboards.login import main_menu
from bot.texts import login as texts
from bot.texts.errors import error_text
from core.access import AccessService
from core.errors import DomainError
from core.login import EsiaLogin

log = logging.getLogger(__name__)


class PathOnlyAccessLogger(AbstractAccessLogger):
    """The access log without query strings: the ESIA callback's carry a one-time code and state."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info('%s "%s %s" %s %s %.3fs', request.remote, request.method, request.path,
                         response.status, response.body_length, time)


def web_runner(app: web.Application) -> web.AppRunner:
    return web.AppRunner(app, access_log_class=PathOnlyAccessLogger)


def _page(text: str, status: int = 200) -> web.Response:
    body = (f"<!doctype html><html lang=\"ru\"><meta charset=\"utf-8\"><title>Вход</title>"
            f"<body><p>{escape(text)}</p></body></html>")
    return web.Response(text=body, content_type="text/html", status=status)


def make_web_app(bot: Bot, esia_login: EsiaLogin | None, access: AccessService, *,
                 probes: Probes | None = None) -> web.Application:
    app = web.Application()

    async def health(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def esia_callback(request: web.Request) -> web.Response:
        if esia_login is None:
            return _page(texts.ESIA_PAGE_FAIL, 404)
        state, code = request.query.get("state", ""), request.query.get("code", "")
        if not state or not code:
            return _page(texts.ESIA_PAGE_FAIL, 400)
        try:
            telegram_id, result = await esia_login.complete(state, code)
        except DomainError as exc:
            return _page(error_text(exc), 400)
        identity = await access.identify(telegram_id, telegram_id)
        try:
            await bot.send_message(telegram_id, texts.esia_done(result.from_esia), reply_markup=main_menu(identity))
        except TelegramAPIError as exc:
            log.warning("could not tell user about ESIA log-in: %s", type(exc).__name__)
        return _page(texts.ESIA_PAGE_OK)

    app.router.add_get("/healthz", health)
    if probes is not None:
        app.router.add_get("/readyz", probes.ready)
        if probes.metrics:
            app.router.add_get("/metrics", probes.scrape)
    app.router.add_get("/esia/callback", esia_callback)
    return app
