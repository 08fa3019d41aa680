"""An SMTP server that captures mail, for the e-mail login (one-time code) tests.

We run aiosmtpd's ``SMTP`` protocol directly on the test's event loop instead of through
its threaded ``Controller``: binding port 0 and reading the port back avoids the
pick-a-free-port race, and waiters need no cross-thread signalling.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
from dataclasses import dataclass
from email.message import EmailMessage
from types import TracebackType
from typing import Self

from aiosmtpd.smtp import SMTP, Envelope, Session

_CODE_RE = re.compile(r"(?<!\d)\d{6}(?!\d)")


def extract_code(text: str) -> str:
    """The one 6-digit code in ``text``; fails if there is none or several different ones."""
    codes = set(_CODE_RE.findall(text))
    if len(codes) != 1:
        msg = f"expected exactly one 6-digit code, found {sorted(codes)} in:\n{text}"
        raise AssertionError(msg)
    return str(codes.pop())


@dataclass(frozen=True, slots=True)
class CapturedEmail:
    mail_from: str
    recipients: tuple[str, ...]  # envelope RCPT TO
    to: str  # To: header
    subject: str
    body: str  # text/plain part (or text/html if that is all there is), decoded
    raw: bytes

    @property
    def code(self) -> str:
        """The 6-digit one-time code in the body."""
        return extract_code(self.body)


def _parse(envelope: Envelope) -> CapturedEmail:
    raw = envelope.original_content or envelope.content or b""
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    part = message.get_body(preferencelist=("plain", "html"))
    body = part.get_content() if isinstance(part, EmailMessage) else ""
    return CapturedEmail(
        mail_from=str(envelope.mail_from or ""),
        recipients=tuple(str(r) for r in envelope.rcpt_tos),
        to=str(message.get("To", "")),
        subject=str(message.get("Subject", "")),
        body=str(body),
        raw=raw,
    )


class SmtpCapture:
    """``async with SmtpCapture() as smtp:`` — then point the bot at ``smtp.host/port``."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.messages: list[CapturedEmail] = []
        self._claimed: set[int] = set()  # indexes already returned by wait_for()
        self._failures: list[str] = []  # replies to give instead of accepting mail
        self._arrived = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._port: int | None = None

    async def start(self) -> Self:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(self, hostname="smtp.test", loop=loop), host=self.host, port=0
        )
        self._port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            msg = "SmtpCapture is not started"
            raise RuntimeError(msg)
        return self._port

    def fail_next(self, reply: str = "451 4.3.0 Temporary failure, try again", times: int = 1) -> None:
        """Reject the next ``times`` messages at DATA with ``reply`` (to test retries)."""
        self._failures.extend([reply] * times)

    # aiosmtpd handler hook: called once per message after DATA.
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self._failures:
            return self._failures.pop(0)
        self.messages.append(_parse(envelope))
        self._arrived.set()
        self._arrived = asyncio.Event()
        return "250 Message accepted for delivery"

    def _unclaimed_for(self, address: str) -> int | None:
        wanted = address.lower()
        for index, message in enumerate(self.messages):
            if index in self._claimed:
                continue
            addresses = [r.lower() for r in message.recipients] + [message.to.lower()]
            if any(wanted in candidate for candidate in addresses):
                return index
        return None

    async def wait_for(self, to_address: str, timeout: float = 5.0) -> CapturedEmail:
        """The oldest not-yet-returned message to ``to_address`` (waits for it).

        Each message is returned once, so a resent code comes from a second ``wait_for``.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (index := self._unclaimed_for(to_address)) is None:
            remaining = deadline - loop.time()
            if remaining <= 0:
                seen = [(m.recipients, m.subject) for m in self.messages]
                msg = f"no e-mail to {to_address!r} within {timeout}s; received: {seen}"
                raise AssertionError(msg)
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                continue
        self._claimed.add(index)
        return self.messages[index]
