"""A bot polling the fake Bot API as a child process, and the CPU time it has used (from /proc)."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

from tests.e2e.harness import ROOT, terminate
from tests.fake_telegram.server import FakeTelegramServer

_TICKS = os.sysconf("SC_CLK_TCK")


class Child:
    def __init__(self, api: FakeTelegramServer, module: str, env: dict[str, str], log_path: Path) -> None:
        self.api = api
        self.module = module
        self.env = {**os.environ, "BOT_TOKEN": api.token, "TELEGRAM_API_BASE": api.base_url, **env}
        self.log_path = log_path
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self, timeout: float = 90.0) -> None:
        """Start ``python -m <module>`` and return once it polls for updates."""
        with self.log_path.open("ab") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", self.module, cwd=ROOT, env=self.env, stdout=log, stderr=asyncio.subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while not self.api.calls_to("getUpdates"):
            if self.proc.returncode is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.module} did not start polling (exit {self.proc.returncode}):\n"
                                   + self.log_tail())
            await asyncio.sleep(0.05)

    def cpu_seconds(self) -> float:
        """User and system CPU time of the process so far, all its threads included."""
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS  # utime and stime, fields 14 and 15 of stat(5)

    def waited_seconds(self) -> float:
        """Time the main thread (the event loop) was ready to run but waited for a CPU: how much the
        machine's other work held it up (schedstat's run_delay)."""
        assert self.proc is not None
        return int(Path(f"/proc/{self.proc.pid}/schedstat").read_text().split()[1]) / 1e9

    async def stop(self, timeout: float = 15.0) -> None:
        if self.proc is not None:
            await terminate(self.proc, timeout)

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])
