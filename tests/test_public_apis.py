"""The bot uses only what its dependencies publish: no private attribute or module, no internal hook.

Such uses break on a dependency's next release (aiogram, pydantic and SQLAlchemy change their
internals freely) and pin it forever.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "core", "storage")
OWN = {"bot", "core", "storage", "tests", "bench"}
# Public names, but hooks one overrides or calls only to get around the library's own work.
HOOKS = {"propagate_event", "model_construct", "__pydantic_private__", "__pydantic_fields_set__",
         "__pydantic_extra__", "await_"}
# Modules a library keeps for itself though their names look public.
INTERNAL_MODULES = ("sqlalchemy.util", "sqlalchemy.connectors", "aiogram.dispatcher.event")


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def uses_of_internals(source: str) -> list[str]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute):
            on_own_object = isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")
            if node.attr in HOOKS or (_private(node.attr) and not on_own_object):
                found.append((node.lineno, f".{node.attr}"))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in HOOKS:
            found.append((node.lineno, f"def {node.name}"))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            parts = node.module.split(".")
            internal = node.module.startswith(INTERNAL_MODULES) or any(_private(p) for p in parts)
            if parts[0] not in OWN and (internal or any(_private(alias.name) or alias.name in HOOKS
                                                        for alias in node.names)):
                found.append((node.lineno, f"from {node.module} import …"))
    return [f"line {line}: {what}" for line, what in sorted(found)]


@pytest.mark.parametrize("path", [p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_uses_only_public_apis(path: Path) -> None:
    assert uses_of_internals(path.read_text(encoding="utf-8")) == []


def test_the_check_sees_what_it_forbids() -> None:
    assert uses_of_internals("""
from aiogram.dispatcher.event.bases import UNHANDLED
from sqlalchemy.util import _concurrency
from pydantic._internal import fields
x = button.__pydantic_private__
conn._execute(sql)
class R(Router):
    async def propagate_event(self, update_type, event, **kwargs): ...
self._fine = 1
raw = connection.driver_connection._conn
from sqlalchemy.util import await_
InlineKeyboardButton.model_construct(text=text)
""") == ["line 2: from aiogram.dispatcher.event.bases import …", "line 3: from sqlalchemy.util import …",
         "line 4: from pydantic._internal import …", "line 5: .__pydantic_private__", "line 6: ._execute",
         "line 8: def propagate_event", "line 10: ._conn", "line 11: from sqlalchemy.util import …",
         "line 12: .model_construct"]
