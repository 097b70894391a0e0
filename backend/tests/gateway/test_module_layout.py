"""The gateway's modules depend one way: the app factory (web) imports the route modules
(chat_web, desk_web, wechat_web); they share state through keys and answer errors through
problems, and never import the factory or each other."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

GATEWAY = Path(__file__).resolve().parents[2] / "src" / "gateway"
ROUTE_MODULES = ("chat_web", "desk_web", "wechat_web")


def gateway_imports(module: str) -> set[str]:
    """The gateway modules `module` imports, anywhere in the file (lazy imports included)."""
    tree = ast.parse((GATEWAY / f"{module}.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("gateway."):
            found.add(node.module.split(".")[1])
    return found


@pytest.mark.parametrize("module", ROUTE_MODULES)
def test_route_modules_import_neither_the_factory_nor_each_other(module):
    imported = gateway_imports(module)
    assert "web" not in imported
    assert not imported & (set(ROUTE_MODULES) - {module})


@pytest.mark.parametrize("module", ("keys", "problems"))
def test_shared_state_and_problem_modules_import_no_route_module_or_factory(module):
    assert not gateway_imports(module) & {"web", *ROUTE_MODULES}


def test_the_factory_imports_every_route_module():
    assert set(ROUTE_MODULES) <= gateway_imports("web")
