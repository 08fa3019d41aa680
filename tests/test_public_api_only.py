"""The bot uses its dependencies (SQLAlchemy, aiosqlite, aiogram, pydantic) through their public API
only: a private attribute or an internal module changes in any release, and code that reaches into
one is pinned to that release forever."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCANNED = ("bot", "core", "storage")

# What a use of a dependency's internals looks like in source: one pattern per kind seen before.
INTERNALS = re.compile("|".join((
    r"\._execute\(",  # aiosqlite's queue to its thread
    r"\._conn\b",  # aiosqlite's sqlite3 connection
    r"\._thread\b",  # aiosqlite's thread
    r"\bsqlalchemy\.util\b",  # SQLAlchemy's internal helpers (greenlet_spawn, await_)
    r"\bawait_\(",
    r"\bAsyncAdapt_",  # SQLAlchemy's driver adapter classes
    r"__pydantic_",  # pydantic's private fields
    r"\bmodel_construct\b",
    r"\bpropagate_event\b",  # aiogram's router internals
    r"\b_encode_value\b",  # aiogram's CallbackData packing
    r"\bgc\.freeze\b",
    r"^\s*from\s+\w+(?:\.\w+)*\._(?!_)\w*\s+import\b",  # a private module: from x._y import z
    r"^\s*import\s+\w+(?:\.\w+)*\._(?!_)\w*",  # import x._y
)), re.MULTILINE)

# The aiogram layer's rewrite takes these out; once it has, they leave this set (the test below says so).
AWAITING_REWRITE = {"bot/keyboards/buttons.py", "bot/keyboards/packing.py", "bot/routing.py"}


def internals_used(source: str) -> list[str]:
    return [match.group(0).strip() for match in INTERNALS.finditer(source)]


def offenders() -> dict[str, list[str]]:
    found = {}
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            used = internals_used(path.read_text(encoding="utf-8"))
            if used:
                found[path.relative_to(ROOT).as_posix()] = used
    return found


@pytest.mark.parametrize("planted", [
    "await self._connection._execute(fn, *args)",
    "raw = connection._conn",
    "pending._thread.daemon = True",
    "from sqlalchemy.util.concurrency import greenlet_spawn",
    "return await_(coroutine)",
    "class InlineConnection(AsyncAdapt_aiosqlite_connection): ...",
    'object.__setattr__(button, "__pydantic_fields_set__", set())',
    "InlineKeyboardButton.model_construct(text=text)",
    "async def propagate_event(self, update_type, event, **kwargs): ...",
    "CallbackData._encode_value(self, name, value)",
    "gc.freeze()",
    "from aiogram.utils._compat import something",
    "    import pydantic._internal._model_construction",
])
def test_the_matcher_finds_a_planted_use(planted: str) -> None:
    assert internals_used(f"x = 1\n{planted}\ny = 2\n")


@pytest.mark.parametrize("innocent", [
    "self._connection = connection",
    "from __future__ import annotations",
    "from bot.__main__ import main",
    "await session.execute(statement)",
    "from sqlalchemy.ext.asyncio import async_sessionmaker",
    "builder.button(text=text, callback_data=SlotCb(action=SlotAction.PICK, slot_id=1))",
])
def test_the_matcher_leaves_public_uses_alone(innocent: str) -> None:
    assert internals_used(innocent) == []


def test_no_source_file_uses_a_dependencys_internals() -> None:
    found = {path: used for path, used in offenders().items() if path not in AWAITING_REWRITE}
    assert found == {}


def test_the_files_awaiting_rewrite_still_need_it() -> None:
    """An exception that is no longer needed goes, so that it cannot hide a use that comes back."""
    assert set(offenders()) >= AWAITING_REWRITE
