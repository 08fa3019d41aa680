"""A copy of the embedded SQLite database taken while the bot runs (docs/operations.md)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from storage.db import BUSY_TIMEOUT_MS


class BackupRefused(Exception):
    """No backup was written; the message is the one line an operator needs."""


def sqlite_path(url: str) -> Path:
    """The database file named by DATABASE_URL; PostgreSQL and in-memory databases are refused."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise BackupRefused(f"DATABASE_URL is {parsed.get_backend_name()}, not SQLite: back it up with "
                            "pg_dump (see docs/operations.md)")
    if not parsed.database or parsed.database == ":memory:":
        raise BackupRefused("DATABASE_URL names no SQLite file")
    return Path(parsed.database)


def backup_sqlite(url: str, target: Path) -> None:
    """SQLite's online backup API: a consistent copy of the committed data. Writers carry on meanwhile
    (WAL); a transaction still open is not in the copy. The copy is written beside the target and
    renamed over it, so a half-written file never carries the target's name."""
    source_path = sqlite_path(url)
    if not source_path.is_file():
        raise BackupRefused(f"no database at {source_path}")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(source_path, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        destination = sqlite3.connect(partial)
        try:
            # pages=-1 (the default) copies every page in one step, under one read snapshot.
            source.backup(destination)
        finally:
            destination.close()
    finally:
        source.close()
    os.replace(partial, target)
