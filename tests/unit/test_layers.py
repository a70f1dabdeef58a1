"""The layout holds: services/ packages depend downwards only, and modules stay short.

The order is the one drawn in the README's architecture section and in
``shopify_loyalty/services/__init__.py``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "shopify_loyalty" / "services"
# Lowest first: a package may import the ones before it, never one after it.
LAYERS = ("shops", "events", "program", "points", "rewards", "customers", "orders")
# Mechanisms any package may use; they import no package.
MECHANISMS = ("outbox", "idempotency", "paging", "program_cache")
MAX_MODULE_LINES = 250


def _modules() -> Iterator[Path]:
    yield from sorted(SERVICES.rglob("*.py"))


def _unit(path: Path) -> str:
    """The package (or top-level mechanism) a services module belongs to."""
    parts = path.relative_to(SERVICES).with_suffix("").parts
    return parts[0]


def _imported_units(path: Path) -> set[str]:
    units: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module + "." + alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            if name.startswith("shopify_loyalty.services."):
                units.add(name.split(".")[2])
    return units


def _third_party(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
    return found


def test_every_package_has_its_place_in_the_order() -> None:
    packages = {p.name for p in SERVICES.iterdir() if (p / "__init__.py").exists()}
    modules = {p.stem for p in SERVICES.glob("*.py") if p.stem != "__init__"}
    assert packages <= set(LAYERS), f"place {packages - set(LAYERS)} in LAYERS"
    assert modules <= set(MECHANISMS), f"{modules - set(MECHANISMS)} belong in a package"


@pytest.mark.parametrize("path", list(_modules()), ids=lambda p: str(p.relative_to(SERVICES)))
def test_dependencies_point_down(path: Path) -> None:
    unit = _unit(path)
    imported = _imported_units(path) - {unit, "__init__"}
    if unit in MECHANISMS or unit == "__init__":
        assert imported <= set(MECHANISMS), f"{path.name} imports packages {imported}"
        return
    level = LAYERS.index(unit)
    upward = {u for u in imported if u in LAYERS and LAYERS.index(u) > level}
    assert not upward, f"{unit} imports {upward}, which sit above it"


@pytest.mark.parametrize("path", list(_modules()), ids=lambda p: str(p.relative_to(SERVICES)))
def test_services_know_nothing_of_flask_or_celery(path: Path) -> None:
    assert not _third_party(path) & {"flask", "flask_smorest", "celery", "workers"}


def test_modules_stay_short() -> None:
    long = {}
    for folder in ("shopify_loyalty", "workers"):
        for path in (ROOT / folder).rglob("*.py"):
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > MAX_MODULE_LINES:
                long[str(path.relative_to(ROOT))] = lines
    assert not long, f"split by meaning: {long}"
