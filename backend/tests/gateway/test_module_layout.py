"""The gateway's modules depend one way: the app factory (web) imports the route modules
(chat_web, desk_web, wechat_web); they share state through keys and answer errors through
problems, and never import the factory or each other. The gateway enters the ledger through
one door (ledger.desk_door), and the door knows nothing of the gateway."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
GATEWAY = SRC / "gateway"
ROUTE_MODULES = (
    "canned_web",
    "chat_web",
    "desk_history_web",
    "desk_web",
    "insights_web",
    "policy_lab_web",
    "wechat_web",
)
LEDGER_DOOR = "ledger.desk_door"


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


def absolute_imports(path: Path) -> set[str]:
    """Every absolute module `path` imports, at the top or inside a function: ``import a.b`` gives
    ``a.b``, ``from a import b`` gives ``a.b`` (b may be a module), ``from a.b import c`` gives
    ``a.b.c``. Relative imports are the package's own business."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(f"{package}.")


@pytest.mark.parametrize("path", sorted(GATEWAY.rglob("*.py")), ids=lambda p: p.relative_to(GATEWAY).as_posix())
def test_the_gateway_enters_the_ledger_only_through_its_door(path):
    """No gateway file reaches past the door into the ledger's models, services or settings."""
    ledger = {name for name in absolute_imports(path) if within(name, "ledger")}
    assert not {name for name in ledger if not within(name, LEDGER_DOOR)}, f"{path.name} imports {sorted(ledger)}"


def door_files() -> list[Path]:
    door = SRC.joinpath(*LEDGER_DOOR.split("."))
    return sorted(door.rglob("*.py")) if door.is_dir() else [door.with_suffix(".py")]


def test_the_door_exists():
    assert all(path.is_file() for path in door_files())


@pytest.mark.parametrize("package", ("gateway", "sqlalchemy"))
def test_the_door_imports_no_gateway_module_and_no_sqlalchemy(package):
    """The door must not know the gateway (an HTTP client could replace it), and its queries live
    in ledger/db like every other query of the ledger."""
    for path in door_files():
        imported = absolute_imports(path)
        assert not {name for name in imported if within(name, package)}, f"{path.name} imports {package}"


def test_only_the_conversation_service_calls_its_private_methods():
    """Other modules use its public API (conversation_for, writing_transcript, add_line...): no
    ``service._x`` anywhere in the gateway but conversations.py itself."""
    import re

    from gateway.conversations import ConversationService

    private = {name for name in vars(ConversationService) if name.startswith("_") and not name.startswith("__")}
    call = re.compile(r"service(?:_key\])?\)?\.(_[a-z]\w*)")
    found = {
        (path.name, name)
        for path in GATEWAY.rglob("*.py")
        if path.name != "conversations.py"
        for name in call.findall(path.read_text(encoding="utf-8"))
        if name in private
    }
    assert not found
    assert call.findall("self.service._load_for(s)") == ["_load_for"]  # the pattern finds such a call
