"""Compile the policy lab's pure core with mypyc into backend/build/labcore/ (`make setup`).

    backend/.venv/bin/python scripts/build_lab_core.py

Copies the modules ledger.services.lab_core.CORE_MODULES of backend/src/ledger/domain/ into a
package of their own (``huanxin_labcore``: its classes never mix with ledger.domain's), compiles
them with mypyc (mypy's compiler, already the project's type checker; setuptools drives the C
compiler), and writes manifest.json with the sha256 of each source and the Python it was built
for. The lab uses the build only while the manifest matches (services/lab_core.py). The new
build replaces the old one only once it is complete; a failed build leaves no build at all, so
the lab runs the pure core and says so. About 25 s on 2 cores.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend" / "src"))

from ledger.services.lab_core import BUILD_DIR, CORE_MODULES, DOMAIN_DIR, PACKAGE, manifest  # noqa: E402


def _check_imports(source: Path) -> None:
    """Every module of the core imports only the standard library and the core's other modules
    (a relative import of anything else would not exist in the compiled package)."""
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            if node.level != 1 or node.module not in CORE_MODULES:
                raise SystemExit(f"{source.name} imports .{node.module or ''}, which is not in CORE_MODULES")


def build(target: Path = BUILD_DIR) -> None:
    from mypyc.build import mypycify
    from setuptools import setup

    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="labcore-", dir=target.parent))
    work.chmod(0o755)
    try:
        package = work / PACKAGE
        package.mkdir()
        (package / "__init__.py").write_text('"""The policy lab\'s core, compiled (scripts/build_lab_core.py)."""\n')
        for name in CORE_MODULES:
            shutil.copyfile(DOMAIN_DIR / f"{name}.py", package / f"{name}.py")
            _check_imports(package / f"{name}.py")
        built = manifest(package)  # the sha256 of exactly the bytes compiled
        if built["sources"] != manifest()["sources"]:
            raise SystemExit("a source changed while it was copied; run the build again")
        here = Path.cwd()
        os.chdir(work)
        try:
            setup(
                name=PACKAGE,
                ext_modules=mypycify(
                    ["--config-file=", *(f"{PACKAGE}/{name}.py" for name in CORE_MODULES)], opt_level="3"
                ),
                script_args=["--quiet", "build_ext", "--inplace"],
            )
        finally:
            os.chdir(here)
        for leftover in ("build", ".mypy_cache"):
            shutil.rmtree(work / leftover, ignore_errors=True)
        (work / "manifest.json").write_text(json.dumps(built, indent=2) + "\n", encoding="utf-8")
        shutil.rmtree(target, ignore_errors=True)
        work.rename(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    shutil.rmtree(BUILD_DIR, ignore_errors=True)  # a failed build leaves none (never a stale one)
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        raise SystemExit(f"no C compiler ({compiler}) on this machine: the policy lab runs its Python sources")
    build()
    print(f"compiled {len(CORE_MODULES)} modules of the policy lab's core into {BUILD_DIR}")
