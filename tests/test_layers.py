"""Dependencies point one way: bot → core services → storage → core vocabulary. Storage knows the
enums the rows hold and nothing else of core; neither knows the bot."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VOCABULARY = {"core.enums"}


def imported(source: str) -> set[str]:
    """Every module a file imports, at its top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def reaching(folder: str, outside: tuple[str, ...]) -> dict[str, set[str]]:
    found = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        names = imported(path.read_text(encoding="utf-8"))
        wrong = {name for name in names if name.split(".")[0] in outside and name not in VOCABULARY}
        if wrong:
            found[path.relative_to(ROOT).as_posix()] = wrong
    return found


def test_storage_imports_only_the_vocabulary_of_core_and_nothing_of_the_bot() -> None:
    assert reaching("storage", ("core", "bot")) == {}


def test_core_imports_nothing_of_the_bot() -> None:
    assert reaching("core", ("bot",)) == {}


def test_a_lazy_import_counts_too() -> None:
    assert imported("def load():\n    from core.fhir import import_bundle\n") == {"core.fhir"}
