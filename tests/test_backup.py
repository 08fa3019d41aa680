"""``python -m bot backup FILE``: a copy of the SQLite database taken while another connection writes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.test_cli import bot_command, output_lines

ADD_ORGANIZATION = ("INSERT INTO organizations (external_id, name, timezone, waitlist_enabled) "
                    "VALUES (?, ?, 'Europe/Moscow', 0)")


def organizations(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        return {row[0] for row in connection.execute("SELECT external_id FROM organizations")}


def test_a_backup_taken_during_writes_holds_the_committed_rows_and_migrates(tmp_path: Path) -> None:
    assert bot_command(tmp_path, "migrate").returncode == 0
    live = tmp_path / "bot.sqlite3"
    committed = sqlite3.connect(live, isolation_level=None)
    committed.execute("PRAGMA journal_mode=WAL")
    committed.execute(ADD_ORGANIZATION, ("committed", "Поликлиника 1"))  # in the WAL, not yet checkpointed
    writer = sqlite3.connect(live, isolation_level=None)
    writer.execute("PRAGMA cache_size=1")  # the open transaction spills its pages into the WAL file
    writer.execute("BEGIN IMMEDIATE")
    writer.executemany(ADD_ORGANIZATION, [(f"open-{n}", "Х" * 150) for n in range(2000)])
    try:
        result = bot_command(tmp_path, "backup", str(tmp_path / "copy.sqlite3"))
    finally:
        writer.execute("COMMIT")
        writer.close()
        committed.close()
    assert result.returncode == 0, result.stderr
    assert output_lines(result) == [f"backup written to {tmp_path / 'copy.sqlite3'}"]

    restored = tmp_path / "restored"
    restored.mkdir()
    (tmp_path / "copy.sqlite3").rename(restored / "bot.sqlite3")
    with sqlite3.connect(restored / "bot.sqlite3") as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert organizations(restored / "bot.sqlite3") == {"committed"}
    assert bot_command(restored, "migrate").returncode == 0


def test_backup_on_postgresql_names_pg_dump(tmp_path: Path) -> None:
    result = bot_command(tmp_path, "backup", str(tmp_path / "copy"),
                         DATABASE_URL="postgresql+asyncpg://medbot@db.example/medbot")
    assert result.returncode != 0
    [line] = output_lines(result)
    assert "pg_dump" in line
    assert not (tmp_path / "copy").exists()


def test_backup_of_a_missing_database_says_so_and_creates_nothing(tmp_path: Path) -> None:
    result = bot_command(tmp_path, "backup", str(tmp_path / "copy"))
    assert result.returncode != 0
    [line] = output_lines(result)
    assert "no database" in line
    assert not (tmp_path / "bot.sqlite3").exists()
