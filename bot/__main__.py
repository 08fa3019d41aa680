"""``python -m bot`` runs the bot; ``python -m bot demo|migrate|import-fhir FILE`` are admin tasks."""

from __future__ import annotations

import argparse
import asyncio

from bot.app import configure_logging, ensure_sqlite_folder, make_clock, run
from bot.config import Settings
from storage import migrate
from storage.db import Database
from storage.demo import load_demo


async def _demo(settings: Settings) -> None:
    ensure_sqlite_folder(settings.database_url)
    db = Database(settings.database_url)
    await migrate.upgrade(db.engine)
    added = await load_demo(db, make_clock(settings).now())
    print(f"demo clinic data loaded: {added} new slots")
    await db.dispose()


async def _migrate(settings: Settings) -> None:
    ensure_sqlite_folder(settings.database_url)
    db = Database(settings.database_url)
    await migrate.upgrade(db.engine)
    print("database is at the newest schema")
    await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Doctor-appointment Telegram bot")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (default)")
    sub.add_parser("migrate", help="create or upgrade the database schema")
    sub.add_parser("demo", help="load or refresh the demo clinic data")
    args = parser.parse_args()
    settings = Settings()  # BOT_TOKEN comes from the environment
    configure_logging(settings.log_level)
    if args.command == "demo":
        asyncio.run(_demo(settings))
    elif args.command == "migrate":
        asyncio.run(_migrate(settings))
    else:
        asyncio.run(run(settings))


if __name__ == "__main__":
    main()
