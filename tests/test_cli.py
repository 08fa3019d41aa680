"""``python -m bot …`` as an operator types it: admin commands without a bot token, one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.config import Settings

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "examples" / "fhir" / "small-bundle.json"


def bot_command(tmp_path: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """Runs in an empty folder (no developer's ``.env``) with only the given settings in the environment."""
    env = {key: value for key, value in os.environ.items() if key.lower() not in Settings.model_fields}
    env.update({"PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
                "CONSENT_POLICY_FILE": str(ROOT / "docs" / "consent-policy.ru.txt")})
    env.update(settings)
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=180, check=False)


def output_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return (result.stdout + result.stderr).splitlines()


def test_migrate_needs_no_bot_token(tmp_path: Path) -> None:
    result = bot_command(tmp_path, "migrate")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "bot.sqlite3").exists()


def test_migrate_says_one_line_without_alembics_info(tmp_path: Path) -> None:
    result = bot_command(tmp_path, "migrate", BOT_TOKEN="1:token", LOG_LEVEL="INFO")
    assert result.returncode == 0, result.stderr
    assert output_lines(result) == ["database is at the newest schema"]


def test_demo_needs_no_bot_token(tmp_path: Path) -> None:
    result = bot_command(tmp_path, "demo")
    assert result.returncode == 0, result.stderr
    assert output_lines(result)[0].startswith("demo clinic data loaded")


def test_import_fhir_needs_no_bot_token(tmp_path: Path) -> None:
    result = bot_command(tmp_path, "import-fhir", str(BUNDLE))
    assert result.returncode == 0, result.stderr
    assert output_lines(result)[0] == f"imported {BUNDLE}:"


def test_running_without_a_token_says_where_to_get_one(tmp_path: Path) -> None:
    result = bot_command(tmp_path, "run", BOT_TOKEN="")
    assert result.returncode != 0
    [line] = output_lines(result)
    assert "BOT_TOKEN" in line and "@BotFather" in line
    assert not (tmp_path / "bot.sqlite3").exists(), "the token is checked before the database is touched"


def test_a_malformed_token_is_one_line_before_anything_else(tmp_path: Path) -> None:
    result = bot_command(tmp_path, BOT_TOKEN="paste-your-token-here")
    assert result.returncode != 0
    [line] = output_lines(result)
    assert "BOT_TOKEN" in line and "@BotFather" in line
    assert not (tmp_path / "bot.sqlite3").exists()


def test_a_malformed_setting_is_one_line_naming_it(tmp_path: Path) -> None:
    result = bot_command(tmp_path, "migrate", SMTP_PORT="twenty-five")
    assert result.returncode != 0
    [line] = output_lines(result)
    assert "SMTP_PORT" in line


def test_a_missing_consent_text_is_one_line_before_anything_else(tmp_path: Path) -> None:
    result = bot_command(tmp_path, BOT_TOKEN="123:abc", CONSENT_POLICY_FILE="docs/consent-policy.ru.txt")
    assert result.returncode != 0
    [line] = output_lines(result)
    assert "CONSENT_POLICY_FILE" in line and "docs/consent-policy.ru.txt" in line
    assert not (tmp_path / "bot.sqlite3").exists()
