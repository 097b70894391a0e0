"""The ledger's layers, checked on the source (every import, lazy ones included): the domain is
pure (standard library and itself only, so it stays testable and free of I/O), and only
ledger.db talks to SQLAlchemy or Alembic, so storage can change behind the repositories."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

LEDGER = Path(__file__).resolve().parents[2] / "src" / "ledger"
STORAGE_LIBRARIES = {"sqlalchemy", "alembic"}


def module_name(path: Path) -> str:
    parts = path.relative_to(LEDGER.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, anywhere in the file, relative imports resolved to absolute names."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                found.add(node.module or "")
                continue
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            if node.module:
                found.add(f"{base}.{node.module}")
            else:  # `from . import x`: x is a submodule (or a name of the package itself)
                found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


MODULES = {module_name(path): path for path in sorted(LEDGER.rglob("*.py"))}


def top_level(module: str) -> str:
    return module.split(".")[0]


def test_the_import_scanner_sees_lazy_relative_and_library_imports():
    assert "sqlalchemy.ext.asyncio" in imported_modules(MODULES["ledger.db.session"])
    assert "yaml" in imported_modules(MODULES["ledger.policy_file"])
    assert "ledger.domain.money" in imported_modules(MODULES["ledger.domain.account"])
    assert "ledger.web.app" in imported_modules(MODULES["ledger.cli"])  # a lazy import inside a function


# The one masking rule of identity numbers, shared by every store and view: pure text functions
# over the standard library (checked below), so the domain may use it and stay pure.
REDACTION = Path(__file__).resolve().parents[3] / "libs" / "redaction" / "src" / "huanxin_redaction"
PURE_LIBRARIES = {"huanxin_redaction"}


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m == "ledger.domain" or m.startswith("ledger.domain.")))
def test_the_domain_imports_only_the_standard_library_and_itself(module):
    outside = {
        imported
        for imported in imported_modules(MODULES[module])
        if not (
            top_level(imported) in sys.stdlib_module_names
            or top_level(imported) in PURE_LIBRARIES
            or imported == "ledger.domain"
            or imported.startswith("ledger.domain.")
        )
    }
    assert not outside, f"{module} imports {sorted(outside)}"


def test_the_pure_libraries_the_domain_may_use_import_only_the_standard_library():
    paths = sorted(REDACTION.rglob("*.py"))
    assert paths, REDACTION
    for path in paths:
        absolute: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                absolute.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                absolute.add(node.module or "")
        outside = {m for m in absolute if top_level(m) not in sys.stdlib_module_names | PURE_LIBRARIES}
        assert not outside, f"{path.name} imports {sorted(outside)}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m != "ledger.db" and not m.startswith("ledger.db.")))
def test_only_ledger_db_imports_sqlalchemy_or_alembic(module):
    storage = {imported for imported in imported_modules(MODULES[module]) if top_level(imported) in STORAGE_LIBRARIES}
    assert not storage, f"{module} imports {sorted(storage)}; queries, storage errors and session types: ledger.db"
