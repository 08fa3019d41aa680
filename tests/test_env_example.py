""".env.example lists every setting the bot reads, each with the value the code defaults to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from bot.config import Settings

EXAMPLE = Path(__file__).resolve().parents[1] / ".env.example"


class FileOnly(Settings):
    """The settings from the given env file alone: not the environment of whoever runs the tests."""

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource,
                                   ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, dotenv_settings)


def example_lines() -> dict[str, str]:
    """``NAME=value`` lines; comments (including commented-out examples) do not count."""
    values: dict[str, str] = {}
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, sep, value = line.partition("=")
            assert sep, f"not a NAME=value line: {line!r}"
            assert name not in values, f"{name} is listed twice"
            values[name] = value
    return values


def test_every_setting_is_listed_and_nothing_else() -> None:
    listed = set(example_lines())
    read = {name.upper() for name in Settings.model_fields}
    assert sorted(read - listed) == [], "settings the code reads but .env.example does not list"
    assert sorted(listed - read) == [], "lines in .env.example that no setting reads"


def test_each_listed_value_is_the_codes_default() -> None:
    example = FileOnly(_env_file=EXAMPLE)  # read as the bot reads .env
    defaults = FileOnly(_env_file=None)
    differ: dict[str, tuple[Any, Any]] = {
        name.upper(): (getattr(example, name), getattr(defaults, name))
        for name in Settings.model_fields if getattr(example, name) != getattr(defaults, name)
    }
    assert differ == {}, "NAME: (.env.example's value, the code's default)"
