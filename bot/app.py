"""Process wiring: database, migrations, demo data, Telegram (polling or webhook), web server,
leadership over the outbox and the scheduler, and the drain on SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.types import BotCommand
from sqlalchemy.engine import make_url

from bot.config import Settings
from bot.container import build_container
from bot.dispatcher import build_dispatcher
from bot.infra.fsm import events_isolation, fsm_storage
from bot.infra.leader_work import LeaderWork
from bot.infra.leadership import Leadership
from bot.infra.metrics import INSTANCE, CountTelegramErrors
from bot.infra.probes import Probes
from bot.infra.telegram_retry import RetryReplies
from bot.infra.updates import ActOnce
from bot.infra.web import make_web_app, web_runner
from bot.infra.webhook import WebhookEndpoint
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
    BotCommand(command="mydata", description="Мои данные"),
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
    instance = settings.instance
    started = False
    try:
        async with contextlib.AsyncExitStack() as cleanup:
            bot = make_bot(settings, token)
            bot.session.middleware(CountTelegramErrors())
            cleanup.push_async_callback(bot.session.close)
            telegram_answered = await first_contact(bot)  # a refused token stops here, before the database

            ensure_sqlite_folder(settings.database_url)
            db = Database(settings.database_url, pool_size=pool_size_for(settings.concurrent_updates))
            cleanup.push_async_callback(db.dispose)
            await prepare_database(settings, clock, db)

            container = build_container(settings, db, clock)
            storage = fsm_storage(db, clock, settings.redis_url)
            cleanup.push_async_callback(storage.close)
            act_once = ActOnce(db, clock, instance, claims=settings.telegram_mode == "webhook")
            dp = build_dispatcher(container, storage, isolation=events_isolation(storage), act_once=act_once)

            def new_sender() -> OutboxSender:
                return OutboxSender(db, bot, clock, OutboxRenderer(db, container.catalog, clock.now),
                                    Pacer(settings.send_per_second, settings.send_per_chat_interval),
                                    on_unreachable=container.waitlist.chat_unreachable,
                                    poll_seconds=settings.outbox_poll_seconds)

            work = LeaderWork(db, container.waitlist, container.reminders.send_due, new_sender, act_once,
                              offer_check_seconds=settings.offer_check_seconds)
            leadership = Leadership(db.engine, retry_seconds=settings.leader_retry_seconds,
                                    on_lead=work.start, on_follow=work.stop, name=instance)
            INSTANCE.labels(instance).set(1)

            probes = Probes(db, clock, storage.redis if isinstance(storage, RedisStorage) else None,
                            metrics=settings.metrics_enabled)
            endpoint: WebhookEndpoint | None = None
            if settings.web_server_wanted:
                app = make_web_app(bot, container.esia_login, container.access, probes=probes)
                if settings.telegram_mode == "webhook":
                    endpoint = WebhookEndpoint(dp, bot, settings.webhook_secret.get_secret_value(),
                                               answer_within=settings.webhook_answer_seconds)
                    endpoint.register(app, settings.webhook_path)
                runner = web_runner(app)
                await runner.setup()
                cleanup.push_async_callback(runner.cleanup)
                await listen(runner, settings.web_host, settings.web_port)
            leadership.start()
            cleanup.push_async_callback(leadership.stop)  # before the database closes: jobs and sender stop
            started = True

            if not telegram_answered:
                await until_telegram_answers(bot)
            await bot.set_my_commands(COMMANDS)
            stop = stop_on_signals()
            if endpoint is not None:
                await serve_webhook(settings, bot, dp, stop, instance)
                endpoint.draining = True
            else:
                await poll(settings, bot, dp, stop, instance)
            probes.draining = True
            await drain(settings, act_once, endpoint)
    finally:
        if started:
            log.info("bot stopped")


def stop_on_signals() -> asyncio.Event:
    """SIGTERM (a deploy, a rolling restart) and SIGINT (Ctrl-C) both drain and stop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    return stop


async def serve_webhook(settings: Settings, bot: Bot, dp: Dispatcher, stop: asyncio.Event, instance: str) -> None:
    # Every instance sets the same webhook: whichever starts last changes nothing. None deletes it on
    # stop, so the others keep receiving.
    await bot.set_webhook(settings.webhook_url, secret_token=settings.webhook_secret.get_secret_value(),
                          allowed_updates=dp.resolve_used_update_types(), drop_pending_updates=False)
    log.info("bot started (%s), webhook %s", instance, settings.webhook_url)
    await stop.wait()


async def poll(settings: Settings, bot: Bot, dp: Dispatcher, stop: asyncio.Event, instance: str) -> None:
    await bot.delete_webhook(drop_pending_updates=False)
    log.info("bot started (%s), polling", instance)
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, close_bot_session=False,
                                                   tasks_concurrency_limit=settings.concurrent_updates))
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({polling, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if not polling.done():
        try:
            await dp.stop_polling()
        except RuntimeError:  # asked to stop before polling began
            polling.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await polling


async def drain(settings: Settings, act_once: ActOnce, endpoint: WebhookEndpoint | None) -> None:
    """No new updates come in now; those in flight get DRAIN_SECONDS to finish."""
    waiting = set(act_once.in_flight) | (set(endpoint.tasks) if endpoint else set())
    if waiting:
        log.info("finishing %d update(s) in flight (at most %.0f s)", len(waiting), settings.drain_seconds)
    cut = await act_once.drain(settings.drain_seconds, also=waiting)
    if cut:
        log.warning("%d update(s) cut off after %.0f s; Telegram delivers them again", cut, settings.drain_seconds)
