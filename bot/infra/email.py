"""Delivering log-in codes: to the log in development, by SMTP in production."""

from __future__ import annotations

import logging
from email.message import EmailMessage

import aiosmtplib

from core.errors import EmailUndeliverable

log = logging.getLogger(__name__)

SUBJECT = "Код для входа в бот портала медицинских услуг"


def _body(code: str, ttl_minutes: int) -> str:
    return (
        f"Ваш код для входа: {code}\n\n"
        f"Код действует {ttl_minutes} минут. Если вы не запрашивали код, просто проигнорируйте это письмо.\n"
    )


class ConsoleEmailSender:
    """Like development web frameworks: the code goes to the bot's log, the address does not."""

    async def send_login_code(self, to: str, code: str, ttl_minutes: int) -> None:
        log.warning("EMAIL_DELIVERY=console: login code %s (valid %d min)", code, ttl_minutes)


class SmtpEmailSender:
    def __init__(self, host: str, port: int, sender: str, *, security: str, user: str | None,
                 password: str | None, timeout: float = 15.0) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.security, self.user, self.password, self.timeout = security, user, password, timeout

    async def send_login_code(self, to: str, code: str, ttl_minutes: int) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, SUBJECT
        message.set_content(_body(code, ttl_minutes))
        try:
            await aiosmtplib.send(
                message, hostname=self.host, port=self.port, username=self.user, password=self.password,
                use_tls=self.security == "ssl", start_tls=self.security == "starttls", timeout=self.timeout,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            log.error("SMTP delivery failed: %s", type(exc).__name__)
            raise EmailUndeliverable() from exc
