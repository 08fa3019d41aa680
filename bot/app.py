"""Process wiring: database, migrations, demo data, Telegram, web server, outbox, scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import BotCommand
from sqlalchemy.engine import make_url

from bot.config import Settings
from bot.container import build_container
from bot.dispatcher import build_dispatcher
from bot.infra.fsm import fsm_storage
from bot.infra.scheduler import make_scheduler
from bot.infra.telegram_retry import RetryReplies
from bot.infra.web import make_web_app, web_runner
from bot.outbox.pacing import Pacer
from bot.outbox.render import OutboxRenderer
from bot.outbox.sender import OutboxSender
from bot.startup import bot_token, check_files, first_contact, listen, until_telegram_answers
from core.clock import Clock, ShiftedClock, SystemClock
from core.fhir.demo_bundle import load_demo
from core.rules import RuleDefaults, seed_defaults
from storage import migrate
from storage.db import Database, pool_size_for

log = logging.getLogger("bot")

COMMANDS = [
    BotCommand(command="menu", description="Главное меню"),
    BotCommand(command="book", description="Запись к врачу"),
    BotCommand(command="cardfile", description="Моя картотека"),
    BotCommand(command="help", description="Помощь"),
    BotCommand(command="logout", description="Выйти из учётной записи"),
    BotCommand(command="privacy", description="Согласие на обработку данных"),
]


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # aiogram logs every update at INFO ("Update id=… is handled"); the ids are enough.
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # Alembic says "Context impl SQLiteImpl" and each revision it applies on every start and admin command.
    logging.getLogger("alembic").setLevel(logging.WARNING)


def make_clock(settings: Settings) -> Clock:
    return ShiftedClock(settings.clock_offset) if settings.clock_offset_seconds else SystemClock()


def make_bot(settings: Settings, token: str) -> Bot:
    session = None
    if settings.telegram_api_base:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_base))
    bot = Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    bot.session.middleware(RetryReplies())  # a reply refused with 429 waits and is made again
    return bot


def ensure_sqlite_folder(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


async def prepare_database(settings: Settings, clock: Clock, db: Database) -> None:
    await migrate.upgrade(db.engine)
    await seed_defaults(db, RuleDefaults(settings.default_cancel_cutoff, settings.default_offer_minutes), clock.now())
    if settings.demo_data:
        added = await load_demo(db, clock.now())
        log.info("demo clinic data ready (%d new slots)", added)


async def run(settings: Settings) -> None:
    """Runs until stopped; raises StartupError (one line for the operator) when the bot cannot start."""
    configure_logging(settings.log_level)
    token = bot_token(settings)  # before anything else: a missing token costs no migration
    check_files(settings)
    clock = make_clock(settings)
    started = False
    try:
        async with contextlib.AsyncExitStack() as cleanup:
            bot = make_bot(settings, token)
            cleanup.push_async_callback(bot.session.close)
            telegram_answered = await first_contact(bot)  # a refused token stops here, before the database

            ensure_sqlite_folder(settings.database_url)
            kick = asyncio.Event()  # replaced by the sender's own kick once it exists
            db = Database(settings.database_url, on_outbox=kick.set,
                          pool_size=pool_size_for(settings.concurrent_updates))
            cleanup.push_async_callback(db.dispose)
            await prepare_database(settings, clock, db)

            container = build_container(settings, db, clock)
            dp = build_dispatcher(container, fsm_storage(db, clock, settings.redis_url))
            cleanup.push_async_callback(dp.storage.close)
            sender = OutboxSender(db, bot, clock, OutboxRenderer(db, container.catalog, clock.now),
                                  Pacer(settings.send_per_second, settings.send_per_chat_interval),
                                  on_unreachable=container.waitlist.chat_unreachable,
                                  poll_seconds=settings.outbox_poll_seconds)
            db.on_outbox = sender.kick
            # Whatever lapsed while the bot was down moves on now, before the first update is read.
            await container.waitlist.expire_due()
            await container.waitlist.reconcile()
            scheduler = make_scheduler({
                "expire-offers": (container.waitlist.expire_due, settings.offer_check_seconds),
                "reconcile-waitlist": (container.waitlist.reconcile, 60),
                "reminders": (container.reminders.send_due, 60),
            })

            if container.esia_login is not None:  # the web server is ESIA's redirect target; nothing else needs it
                runner = web_runner(make_web_app(bot, container.esia_login, container.access))
                await runner.setup()
                cleanup.push_async_callback(runner.cleanup)
                await listen(runner, settings.web_host, settings.web_port)
            sender_task = asyncio.create_task(sender.run(), name="outbox")
            cleanup.push_async_callback(_stop_sender, sender, sender_task)
            scheduler.start()
            cleanup.callback(scheduler.shutdown, wait=False)
            started = True

            if not telegram_answered:
                await until_telegram_answers(bot)
            await bot.set_my_commands(COMMANDS)
            await bot.delete_webhook(drop_pending_updates=False)
            log.info("bot started, polling")
            await dp.start_polling(bot, handle_signals=True, close_bot_session=False,
                                   tasks_concurrency_limit=settings.concurrent_updates)
    finally:
        if started:
            log.info("bot stopped")


async def _stop_sender(sender: OutboxSender, task: asyncio.Task[None]) -> None:
    sender.stop()
    await asyncio.wait_for(task, timeout=10)
