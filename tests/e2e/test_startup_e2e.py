"""Starting and stopping the real bot process as an operator does: a refused token, Ctrl-C, the web port."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.e2e.harness import ROOT, BotProcess, free_port
from tests.e2e.oidc import FakeOidcProvider
from tests.fake_telegram.server import FakeTelegramServer

pytestmark = pytest.mark.e2e


async def launch(bot: BotProcess, extra_env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=ROOT, env=bot.env(extra_env),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)


async def finish(proc: asyncio.subprocess.Process, timeout: float = 60.0) -> tuple[int, list[str]]:
    output, _ = await asyncio.wait_for(proc.communicate(), timeout)
    return int(proc.returncode or 0), output.decode(errors="replace").splitlines()


async def read_until(proc: asyncio.subprocess.Process, text: str, timeout: float = 60.0) -> list[str]:
    """The process's lines up to and including the first that holds ``text``."""
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while not lines or text not in lines[-1]:
        raw = await asyncio.wait_for(proc.stdout.readline(), max(deadline - time.monotonic(), 0.1))
        assert raw, f"the bot exited before saying {text!r}:\n" + "\n".join(lines)
        lines.append(raw.decode(errors="replace").rstrip("\n"))
    return lines


@contextmanager
def taken_port() -> Iterator[int]:
    """A port another program listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


async def test_a_token_telegram_refuses_is_one_line(fake_api: FakeTelegramServer, bot_process: BotProcess) -> None:
    bot_process.db_path.unlink()
    proc = await launch(bot_process, {"BOT_TOKEN": "999:REVOKED"})
    code, lines = await finish(proc)
    assert code != 0
    [line] = lines
    assert "Unauthorized" in line and "@BotFather" in line
    assert not bot_process.db_path.exists(), "a refused token stops the bot before the database is touched"


async def test_ctrl_c_while_waiting_for_telegram_stops_quietly(bot_process: BotProcess) -> None:
    proc = await launch(bot_process, {"TELEGRAM_API_BASE": f"http://127.0.0.1:{free_port()}"})
    await read_until(proc, "next try in")
    proc.send_signal(signal.SIGINT)
    code, lines = await finish(proc, timeout=20)
    assert "Traceback" not in "\n".join(lines)
    assert len(lines) <= 2, lines  # perhaps one more "not reachable" warning, then "bot stopped"
    assert lines[-1].endswith("bot stopped")
    assert code == 130


async def test_ctrl_c_while_polling_stops_quietly(bot_process: BotProcess) -> None:
    await bot_process.start()
    assert bot_process.proc is not None
    bot_process.proc.send_signal(signal.SIGINT)
    assert await asyncio.wait_for(bot_process.proc.wait(), 20) == 0
    assert "Traceback" not in bot_process.log_text()
    assert bot_process.log_text().splitlines()[-1].endswith("bot stopped")


async def test_without_esia_the_web_port_is_left_alone(bot_process: BotProcess) -> None:
    with taken_port() as port:
        await bot_process.start({"WEB_PORT": str(port)})  # polls although another program holds the port


async def test_with_esia_a_taken_web_port_is_one_line(bot_process: BotProcess) -> None:
    async with FakeOidcProvider({"sub": "esia-1"}) as oidc:
        with taken_port() as port:
            proc = await launch(bot_process, {**oidc.env(), "WEB_PORT": str(port)})
            code, lines = await finish(proc)
    assert code != 0
    assert "Traceback" not in "\n".join(lines)
    [line] = [line for line in lines if "WEB_PORT" in line]
    assert str(port) in line
    assert len(lines) <= 2, lines
