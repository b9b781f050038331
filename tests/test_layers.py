"""The architecture's rules that a grep can check: services know no transport, handlers no SQL."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", _files("services"), ids=lambda p: str(p.relative_to(ROOT)))
def test_services_do_not_import_transports(path: Path) -> None:
    assert not _imports(path) & {"aiogram", "aiohttp", "bot", "handlers"}


def _modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", _files("handlers"), ids=lambda p: str(p.relative_to(ROOT)))
def test_handlers_do_not_touch_sql_or_phone_parsing(path: Path) -> None:
    assert not _imports(path) & {"sqlalchemy", "phonenumbers"}
    # Handlers pass the unit of work through to services; models and queries are not theirs.
    assert not {m for m in _modules(path) if m.startswith("db.") and m != "db.uow"}
    assert "session.execute" not in path.read_text(encoding="utf-8")
