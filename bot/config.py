"""Settings from the environment and ``.env``; every default runs a demo bot on SQLite."""

from __future__ import annotations

import os
import re
import socket
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.fhir.model import DEFAULT_OMS_SYSTEMS, DEFAULT_SNILS_SYSTEMS, DEFAULT_TIMEZONE, ImportConfig

WEBHOOK_SECRET_FORMAT = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what setWebhook's secret_token allows
IdList = Annotated[frozenset[int], NoDecode]
TextList = Annotated[tuple[str, ...], NoDecode]


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
    # Flood control (bot/middlewares.py): updates one user may send per minute.
    rate_limit_per_minute: int = Field(default=60, ge=1)
    demo_data: bool = True
    # Conversation state (a half-filled form) lives in the database unless a Redis is given.
    redis_url: str | None = None
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
    login_codes_per_email_per_hour: int = Field(default=10, ge=1)
    login_wrong_codes_per_email_per_hour: int = Field(default=20, ge=1)
    login_secret: SecretStr | None = Field(default=None, description="HMAC key for login codes")

    esia_enabled: bool = False
    esia_authorize_url: str = ""
    esia_token_url: str = ""
    esia_userinfo_url: str = ""
    esia_client_id: str = ""
    esia_client_secret: SecretStr = SecretStr("")
    esia_scope: str = "openid fullname birthdate gender snils oms"
    # The gateway's issuer (the id_token's "iss"). Its endpoints and keys come from discovery:
    # ESIA_DISCOVERY_URL, or ESIA_ISSUER/.well-known/openid-configuration; an endpoint set above or
    # in ESIA_JWKS_URL wins over the document, and with all of them set no discovery is needed.
    esia_issuer: str = ""
    esia_discovery_url: str = ""
    esia_jwks_url: str = ""
    # Which claims fill the owner's card (docs/esia.md): comma-separated names, the first present wins.
    esia_claims_last_name: str = "family_name,lastName"
    esia_claims_first_name: str = "given_name,firstName"
    esia_claims_middle_name: str = "middle_name,middleName,patronymic"
    esia_claims_birth_date: str = "birthdate,birthDate"
    esia_claims_sex: str = "gender"
    esia_claims_snils: str = "snils"
    esia_claims_oms: str = "oms_policy,oms_number,oms"

    web_host: str = "127.0.0.1"
    web_port: int = 8080
    public_base_url: str = "http://127.0.0.1:8080"
    # The web server (webhook, /healthz, /readyz, /metrics, ESIA callback) runs in webhook mode, with
    # ESIA, or when asked for (WEB_ALWAYS) so that a polling bot can be probed and scraped too.
    web_always: bool = False
    metrics_enabled: bool = True

    # How updates arrive: long polling (one process) or Telegram's webhook (any of N instances
    # behind a reverse proxy; docs/deployment.md).
    telegram_mode: Literal["polling", "webhook"] = "polling"
    webhook_base_url: str = Field(default="", description="Public https URL Telegram posts to")
    webhook_path: str = "/telegram/webhook"
    webhook_secret: SecretStr = SecretStr("")
    # Seconds a webhook call may wait for its update's handler before Telegram is answered anyway
    # (the handler goes on); Telegram redelivers what it is not answered in time.
    webhook_answer_seconds: float = Field(default=10.0, gt=0)
    # Names the instance in logs and metrics; empty: hostname-pid.
    instance_name: str = ""
    # On SIGTERM: seconds to finish the updates in flight before the process exits.
    drain_seconds: float = Field(default=20.0, ge=0)
    # How often an instance that is not the leader (scheduler jobs, outbox sender) tries to become it.
    leader_retry_seconds: float = Field(default=2.0, gt=0)

    booking_horizon_days: int = 14
    default_cancel_cutoff: time = time(18, 0)
    default_offer_minutes: int = 120
    reminder_day_before: bool = True
    reminder_hours_before: int = 2

    send_per_second: float = 25.0
    send_per_chat_interval: float = 1.0
    outbox_poll_seconds: float = 1.0  # other processes (imports) write offers too: seen within a second
    offer_check_seconds: float = 10.0
    clock_offset_seconds: int = Field(default=0, description="Shift the bot's clock; for tests and demos")

    # FHIR import (docs/fhir-import.md): identifier systems naming a patient, comma-separated (an OID
    # covers its sub-arcs), and the time zone of an Organization that names none.
    fhir_snils_systems: TextList = DEFAULT_SNILS_SYSTEMS
    fhir_oms_systems: TextList = DEFAULT_OMS_SYSTEMS
    fhir_default_timezone: str = DEFAULT_TIMEZONE

    @field_validator("moderator_ids", "operator_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(int(part) for part in value.replace(";", ",").split(",") if part.strip())
        return value

    @field_validator("fhir_snils_systems", "fhir_oms_systems", mode="before")
    @classmethod
    def _split_texts(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @model_validator(mode="after")
    def _fhir_import_is_valid(self) -> Settings:
        _ = self.fhir_import  # ImportConfig refuses an unknown zone and a system listed for both kinds
        return self

    @field_validator("smtp_user", "smtp_password", "telegram_api_base", "login_secret", "redis_url", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _esia_gateway_known(self) -> Self:
        if not self.esia_enabled:
            return self
        if not self.esia_client_id:
            raise ValueError("ESIA_ENABLED=true needs ESIA_CLIENT_ID (and ESIA_CLIENT_SECRET) from the gateway")
        if not (self.esia_issuer or self.esia_discovery_url):
            # Without an issuer the id_token's "iss" cannot be checked.
            raise ValueError("ESIA_ENABLED=true needs ESIA_ISSUER (or ESIA_DISCOVERY_URL): see docs/esia.md")
        return self

    @model_validator(mode="after")
    def _webhook_complete(self) -> Self:
        if self.telegram_mode != "webhook":
            return self
        if not self.webhook_base_url:
            raise ValueError("TELEGRAM_MODE=webhook needs WEBHOOK_BASE_URL, the public https URL of the proxy")
        if not WEBHOOK_SECRET_FORMAT.fullmatch(self.webhook_secret.get_secret_value()):
            raise ValueError("TELEGRAM_MODE=webhook needs WEBHOOK_SECRET: 1-256 characters A-Z, a-z, 0-9, _ and -")
        if not self.webhook_path.startswith("/"):
            raise ValueError("WEBHOOK_PATH must start with /")
        return self

    @property
    def webhook_url(self) -> str:
        return self.webhook_base_url.rstrip("/") + self.webhook_path

    @property
    def web_server_wanted(self) -> bool:
        return self.telegram_mode == "webhook" or self.esia_enabled or self.web_always

    @property
    def instance(self) -> str:
        return self.instance_name or f"{socket.gethostname()}-{os.getpid()}"

    @property
    def clock_offset(self) -> timedelta:
        return timedelta(seconds=self.clock_offset_seconds)

    @property
    def fhir_import(self) -> ImportConfig:
        return ImportConfig(self.fhir_snils_systems, self.fhir_oms_systems, self.fhir_default_timezone)

    @property
    def esia_redirect_uri(self) -> str:
        return self.public_base_url.rstrip("/") + "/esia/callback"
