"""``make run`` / ``make test`` install the package once, and again only after pyproject.toml changes.

The Makefile runs in a copy of the project whose ``.venv/bin/python`` and ``pip`` only write down their calls.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("Makefile", "pyproject.toml", ".env.example"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / ".env").write_text("BOT_TOKEN=1:token\n", encoding="utf-8")
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for tool in ("python", "pip"):
        script = bin_dir / tool
        script.write_text(f'#!/bin/sh\necho "{tool} $*" >> "{tmp_path / "calls.log"}"\n', encoding="utf-8")
        script.chmod(0o755)
    return tmp_path


def make(project: Path, target: str) -> list[str]:
    """The tools' calls this ``make`` made."""
    log = project / "calls.log"
    log.unlink(missing_ok=True)
    subprocess.run(["make", "-s", target], cwd=project, check=True, capture_output=True, timeout=60)
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def test_run_installs_once_then_only_runs(project: Path) -> None:
    assert make(project, "run") == ["pip install -q -e .", "python -m bot"]
    assert make(project, "run") == ["python -m bot"]


def test_test_installs_the_dev_extras_once(project: Path) -> None:
    assert make(project, "test") == ['pip install -q -e .[dev]', "python -m pytest"]
    assert make(project, "test") == ["python -m pytest"]


def test_a_changed_pyproject_installs_again(project: Path) -> None:
    make(project, "run")
    later = time.time() + 5
    os.utime(project / "pyproject.toml", (later, later))
    assert make(project, "run") == ["pip install -q -e .", "python -m bot"]
