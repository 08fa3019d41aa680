"""Every third-party package the code imports is declared in pyproject.toml, pinned to the installed version.

A package that arrives only as another's dependency (aiohttp through aiogram) may change or vanish with it.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OWN = {"bot", "core", "storage", "tests", "bench"}
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(requirements: list[str]) -> dict[str, str]:
    """name → pinned version, from ``name[extra]==version`` lines."""
    found: dict[str, str] = {}
    for requirement in requirements:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==([^;\s]+)", requirement.strip())
        assert match, f"not pinned with ==: {requirement}"
        found[normalized(match[1])] = match[2]
    return found


RUNTIME = pins(PYPROJECT["dependencies"])
DEV = pins(PYPROJECT["optional-dependencies"]["dev"])


def imported_modules(*folders: str) -> dict[str, Path]:
    """Top-level modules imported anywhere in these folders (also inside functions), each with one importer."""
    modules: dict[str, Path] = {}
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    modules.setdefault(name.split(".")[0], path.relative_to(ROOT))
    return {name: path for name, path in modules.items() if name not in OWN and name not in sys.stdlib_module_names}


def undeclared(modules: dict[str, Path], declared: set[str]) -> list[str]:
    providers = metadata.packages_distributions()
    missing = []
    for module, path in sorted(modules.items()):
        distributions = {normalized(name) for name in providers.get(module, [module])}
        if not distributions & declared:
            missing.append(f"{module} ({path}) from {', '.join(sorted(distributions))}")
    return missing


def test_the_bots_imports_are_runtime_dependencies() -> None:
    assert undeclared(imported_modules("bot", "core", "storage"), set(RUNTIME)) == []


def test_the_tests_and_benchs_imports_are_declared() -> None:
    assert undeclared(imported_modules("tests", "bench"), set(RUNTIME) | set(DEV)) == []


def test_pins_are_the_installed_versions() -> None:
    pinned = {**RUNTIME, **DEV}
    assert {name: metadata.version(name) for name in pinned} == pinned
