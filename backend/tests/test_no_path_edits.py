"""Backend tests find the code under test (src) and their shared helpers (the huanxin_testkit
package in tests/support) through pytest's ``pythonpath`` setting in backend/pyproject.toml,
never by editing ``sys.path``: the helpers are imported by package name, the same way in every
suite of the one ``make test-backend`` session."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


def touches_sys_path(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and (node.value.id, node.attr) == ("sys", "path")
        ):
            return True
        if isinstance(node, ast.ImportFrom) and node.module == "sys" and any(a.name == "path" for a in node.names):
            return True
    return False


@pytest.mark.parametrize("path", sorted(TESTS.rglob("*.py")), ids=lambda p: p.relative_to(TESTS).as_posix())
def test_no_backend_test_file_edits_sys_path(path):
    assert not touches_sys_path(path)


def test_the_shared_helpers_are_one_package_in_tests_support():
    from huanxin_testkit import gw_helpers, served

    assert all(Path(m.__file__).parent == TESTS / "support" / "huanxin_testkit" for m in (gw_helpers, served))
