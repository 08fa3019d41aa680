"""``python -m bot`` runs the bot; ``python -m bot demo|migrate|import-fhir FILE|backup FILE`` are admin tasks."""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
from pathlib import Path

from pydantic import ValidationError

from bot.app import configure_logging, ensure_sqlite_folder, make_clock, run
from bot.config import Settings
from bot.startup import StartupError
from core.fhir import BundleRejected, import_bundle, read_bundle_file
from core.fhir.demo_bundle import load_demo
from storage import migrate
from storage.backup import BackupRefused, backup_sqlite
from storage.db import Database


async def _demo(settings: Settings) -> None:
    ensure_sqlite_folder(settings.database_url)
    db = Database(settings.database_url)
    await migrate.upgrade(db.engine)
    added = await load_demo(db, make_clock(settings).now())
    print(f"demo clinic data loaded: {added} new slots")
    await db.dispose()


async def _import_fhir(settings: Settings, path: Path) -> int:
    """Exit status: 0 imported, 2 bundle refused (nothing written), 1 file unreadable."""
    try:
        raw = read_bundle_file(path)
    except BundleRejected as exc:
        print(f"bundle refused: {exc.resource}, field {exc.field}: {exc.message}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    ensure_sqlite_folder(settings.database_url)
    db = Database(settings.database_url)
    try:
        await migrate.upgrade(db.engine)
        report = await import_bundle(db, raw, make_clock(settings).now(), settings.fhir_import)
    except BundleRejected as exc:
        print(f"bundle refused, nothing imported: {exc.resource}, field {exc.field}: {exc.message}",
              file=sys.stderr)
        return 2
    finally:
        await db.dispose()
    print(f"imported {path}:")
    print("\n".join(f"  {line}" for line in report.lines()))
    return 0


async def _migrate(settings: Settings) -> None:
    ensure_sqlite_folder(settings.database_url)
    db = Database(settings.database_url)
    await migrate.upgrade(db.engine)
    print("database is at the newest schema")
    await db.dispose()


def _backup(settings: Settings, target: Path) -> int:
    """Exit status: 0 written, 1 refused (PostgreSQL, no database) or not writable."""
    try:
        backup_sqlite(settings.database_url, target)
    except BackupRefused as exc:
        print(f"backup refused: {exc}", file=sys.stderr)
        return 1
    except (OSError, sqlite3.Error) as exc:
        print(f"backup failed: {exc}", file=sys.stderr)
        return 1
    print(f"backup written to {target}")
    return 0


def load_settings() -> Settings:
    """Settings from the environment and ``.env``; a malformed value is one line naming the setting."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, error['loc'])).upper()}: {error['msg']}" for error in exc.errors())
        raise StartupError(f"invalid setting {problems}") from None


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Doctor-appointment Telegram bot")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (default)")
    sub.add_parser("migrate", help="create or upgrade the database schema")
    sub.add_parser("demo", help="load or refresh the demo clinic data")
    fhir = sub.add_parser("import-fhir", help="import a FHIR R4 bundle from a clinic system (docs/fhir-import.md)")
    fhir.add_argument("file", type=Path, help="the bundle, JSON")
    backup = sub.add_parser("backup", help="copy the SQLite database while the bot runs (docs/operations.md)")
    backup.add_argument("file", type=Path, help="where to write the copy")
    args = parser.parse_args()
    try:
        settings = load_settings()
        configure_logging(settings.log_level)
        if args.command == "demo":
            asyncio.run(_demo(settings))
        elif args.command == "migrate":
            asyncio.run(_migrate(settings))
        elif args.command == "import-fhir":
            sys.exit(asyncio.run(_import_fhir(settings, args.file)))
        elif args.command == "backup":
            sys.exit(_backup(settings, args.file))
        else:
            asyncio.run(run(settings))  # needs BOT_TOKEN, the commands above do not
    except StartupError as exc:
        print(exc, file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        # Ctrl-C: asyncio.run has already cancelled the work and run its clean-up; the bot logged its stop.
        if args.command not in (None, "run"):
            print(f"{args.command} interrupted", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
