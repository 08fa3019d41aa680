"""Settings from the environment and ``.env``; every default runs a demo bot on SQLite."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

IdList = Annotated[frozenset[int], NoDecode]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Only running the bot needs it (bot.startup checks it then); admin commands work without.
    bot_token: SecretStr = Field(default=SecretStr(""), description="From @BotFather")
    telegram_api_base: str | None = Field(
        default=None, description="Base URL of a self-hosted Bot API server (or the tests' fake one)")
    database_url: str = "sqlite+aiosqlite:///data/medbot.sqlite3"
    # Updates worked on at once; the database keeps a connection open for each (and a few for the
    # bot's background work), so a busy minute does not open and close connections.
    concurrent_updates: int = Field(default=32, ge=1)
    demo_data: bool = True
    log_level: str = "INFO"

    moderator_ids: IdList = frozenset()
    operator_ids: IdList = frozenset()

    consent_policy_file: Path = Path("docs/consent-policy.ru.txt")
    consent_policy_version: str = "2026-11"

    email_delivery: Literal["console", "smtp"] = "console"
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Literal["none", "starttls", "ssl"] = "starttls"
    smtp_from: str = "noreply@medportal.example"
    login_code_ttl_minutes: int = 10
    login_secret: SecretStr | None = Field(default=None, description="HMAC key for login codes")

    esia_enabled: bool = False
    esia_authorize_url: str = ""
    esia_token_url: str = ""
    esia_userinfo_url: str = ""
    esia_client_id: str = ""
    esia_client_secret: SecretStr = SecretStr("")
    esia_scope: str = "openid fullname birthdate gender snils oms"

    web_host: str = "127.0.0.1"
    web_port: int = 8080
    public_base_url: str = "http://127.0.0.1:8080"

    booking_horizon_days: int = 14
    # Free times are kept in memory: this process's own changes show at once, another process's
    # (`python -m bot import-fhir`, a second bot instance) after this many seconds.
    free_times_cache_seconds: float = 15.0
    default_cancel_cutoff: time = time(18, 0)
    default_offer_minutes: int = 120
    reminder_day_before: bool = True
    reminder_hours_before: int = 2

    send_per_second: float = 25.0
    send_per_chat_interval: float = 1.0
    outbox_poll_seconds: float = 1.0  # other processes (imports) write offers too: seen within a second
    offer_check_seconds: float = 10.0
    clock_offset_seconds: int = Field(default=0, description="Shift the bot's clock; for tests and demos")

    @field_validator("moderator_ids", "operator_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(int(part) for part in value.replace(";", ",").split(",") if part.strip())
        return value

    @field_validator("smtp_user", "smtp_password", "telegram_api_base", "login_secret", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def clock_offset(self) -> timedelta:
        return timedelta(seconds=self.clock_offset_seconds)

    @property
    def esia_redirect_uri(self) -> str:
        return self.public_base_url.rstrip("/") + "/esia/callback"
