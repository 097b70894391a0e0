"""The layering of bot/actions (its package docstring): the composition root (actions/__init__.py)
imports the features; a feature imports only shared modules, never another feature; a shared
module imports no feature; and no import (function-level ones included) closes a circle."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import tomli  # pytest's own TOML reader on Python 3.10
from rasa_sdk import Action

ACTIONS_DIR = Path(__file__).resolve().parents[2] / "bot" / "actions"
ROOT = "actions"
PYPROJECT = Path(__file__).resolve().parents[2] / "bot" / "pyproject.toml"


def feature_modules() -> set[str]:
    """The modules whose actions answer the borrower, as listed once, in the import-linter
    independence contract of bot/pyproject.toml. Everything else in the package is shared."""
    config = tomli.loads(PYPROJECT.read_text(encoding="utf-8"))
    contract = next(c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "independence")
    return {name.removeprefix(f"{ROOT}.") for name in contract["modules"]}


FEATURES = feature_modules()


def module_names() -> list[str]:
    return sorted(p.stem for p in ACTIONS_DIR.glob("*.py") if p.stem != "__init__")


def imports_of(name: str) -> set[str]:
    """The modules of the package that `name` imports anywhere in its source (inside functions
    too); "actions" is the package's __init__ (the composition root)."""
    path = ACTIONS_DIR / ("__init__.py" if name == ROOT else f"{name}.py")
    local = set(module_names())
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = ROOT if node.level else (node.module or "")
            if node.level and node.module:
                base = f"{ROOT}.{node.module}"
            if base == ROOT:
                targets = [f"{ROOT}.{alias.name}" if alias.name in local else ROOT for alias in node.names]
            else:
                targets = [base]
        else:
            continue
        for target in targets:
            parts = target.split(".")
            if parts[0] != ROOT:
                continue
            found.add(parts[1] if len(parts) > 1 and parts[1] in local else ROOT)
    found.discard(name)
    return found


def import_graph() -> dict[str, set[str]]:
    return {name: imports_of(name) for name in [ROOT, *module_names()]}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_actions_package_has_no_import_cycle():
    assert cycles(import_graph()) == []


def test_features_import_no_other_feature_and_shared_modules_import_no_feature():
    wrong = {
        name: sorted(targets & (FEATURES | {ROOT}))
        for name, targets in import_graph().items()
        if name != ROOT and targets & (FEATURES | {ROOT})
    }
    assert wrong == {}


def test_every_module_that_defines_an_action_is_listed_as_a_feature():
    defining = set()
    for name in module_names():
        module = importlib.import_module(f"{ROOT}.{name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and issubclass(cls, Action) and not inspect.isabstract(cls):
                defining.add(name)
    assert defining == FEATURES
