"""The policy lab's pure core, compiled when it can be (docs/policy-lab.md, Speed).

The lab evaluates every loan of the portfolio under two policies, and in CPython that work is
the interpreter's more than the arithmetic's. ``make setup`` (scripts/build_lab_core.py)
compiles the modules of the pure core that the lab's workers run (``CORE_MODULES`` of
ledger.domain) with mypyc, mypy's compiler for typed Python, into a package of their own,
``huanxin_labcore`` in backend/build/labcore/, and writes a manifest with the sha256 of every
source it compiled and the Python it compiled for. ``load`` uses that package only when the
manifest matches the sources on disk and the running Python; otherwise the workers run
ledger.domain itself, as fast as before and with the same figures, and the report says why.
A stale build is never run: the figures always come from the code on disk.

The compiled package has classes of its own (``huanxin_labcore.policy.Policy`` is not
``ledger.domain.policy.Policy``): ``LabCore.to_core`` and ``LabCore.to_plain`` carry the
policies and profiles in and the partial reports out, field by field.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from ..domain import lab_rows

CORE_MODULES = ("errors", "money", "policy", "schedule", "account", "relief", "lab", "lab_rows")
PACKAGE = "huanxin_labcore"
DOMAIN_DIR = Path(lab_rows.__file__).resolve().parent
BUILD_DIR = Path(__file__).resolve().parents[3] / "build" / "labcore"  # backend/build/labcore
MODES = ("auto", "compiled", "pure")
ENV = "HUANXIN_LAB_CORE"  # auto (default) | compiled (an error when it cannot be used) | pure


class LabCoreUnavailable(RuntimeError):
    """HUANXIN_LAB_CORE=compiled and the compiled core cannot be used (the message says why)."""


def source_digests(domain_dir: Path = DOMAIN_DIR) -> dict[str, str]:
    return {m: hashlib.sha256((domain_dir / f"{m}.py").read_bytes()).hexdigest() for m in CORE_MODULES}


def manifest(domain_dir: Path = DOMAIN_DIR) -> dict[str, Any]:
    """What a build of the sources in ``domain_dir`` for this Python records."""
    return {"package": PACKAGE, "python": sys.version, "sources": source_digests(domain_dir)}


@dataclass(frozen=True)
class LabCore:
    lab_rows: ModuleType  # ledger.domain.lab_rows or huanxin_labcore.lab_rows
    compiled: bool
    note: str  # for the report: which core ran, and why not the compiled one

    def to_core(self, obj: Any) -> Any:
        """``obj`` (ledger.domain records, in tuples, lists and dicts) as the core's records."""
        if not self.compiled:
            return obj
        return _convert(obj, lambda cls: _sibling(cls, "ledger.domain.", f"{PACKAGE}."))

    def to_plain(self, obj: Any) -> Any:
        """The core's records as ledger.domain's (what the parent process merges and pickles)."""
        if not self.compiled:
            return obj
        return _convert(obj, lambda cls: _sibling(cls, f"{PACKAGE}.", "ledger.domain."))


def _sibling(cls: type, source: str, target: str) -> type | None:
    module = cls.__module__
    if not module.startswith(source):
        return None
    found = getattr(importlib.import_module(target + module[len(source) :]), cls.__qualname__, None)
    return found if isinstance(found, type) else None


def _convert(obj: Any, sibling: Callable[[type], type | None]) -> Any:
    kind = type(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        target = sibling(kind)
        if target is not None:
            values = {f.name: _convert(getattr(obj, f.name), sibling) for f in dataclasses.fields(obj) if f.init}
            return target(**values)
    if kind is tuple or kind is list:
        return kind(_convert(x, sibling) for x in obj)
    if kind is dict:
        return {_convert(k, sibling): _convert(v, sibling) for k, v in obj.items()}
    return obj


def _pure(note: str) -> LabCore:
    return LabCore(lab_rows, False, f"pure Python: {note}")


def load(mode: str | None = None, build_dir: Path = BUILD_DIR) -> LabCore:
    """The core the lab's workers run: the compiled one when its build matches the sources on
    disk and this Python (``mode`` auto, the default, from HUANXIN_LAB_CORE), else ledger.domain.
    Raises LabCoreUnavailable for mode ``compiled`` when the compiled core cannot be used."""
    mode = mode or os.environ.get(ENV, "auto") or "auto"
    if mode not in MODES:
        raise LabCoreUnavailable(f"{ENV} must be one of {', '.join(MODES)}, not {mode!r}")
    if mode == "pure":
        return _pure(f"{ENV}=pure")
    why = _stale(build_dir)
    if why is None:
        try:
            if str(build_dir) not in sys.path:
                sys.path.insert(0, str(build_dir))
            compiled = importlib.import_module(f"{PACKAGE}.lab_rows")
        except ImportError as exc:
            why = f"the compiled core does not load ({exc}); run `make setup`"
        else:
            if Path(compiled.__file__ or "").suffix == ".py":
                why = f"{build_dir} holds no compiled module; run `make setup`"
            else:
                return LabCore(compiled, True, "compiled (mypyc)")
    if mode == "compiled":
        raise LabCoreUnavailable(f"{ENV}=compiled, but {why}")
    return _pure(why)


def _stale(build_dir: Path) -> str | None:
    """Why the build in ``build_dir`` may not be used, or None."""
    try:
        built = json.loads((build_dir / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "the compiled core is not built; run `make setup`"
    except (OSError, ValueError) as exc:
        return f"the compiled core's manifest is unreadable ({exc}); run `make setup`"
    now = manifest()
    if not isinstance(built, dict) or built.get("package") != PACKAGE:
        return "the compiled core's manifest is not this project's; run `make setup`"
    if built.get("python") != now["python"]:
        return "the compiled core was built for another Python; run `make setup`"
    sources = built.get("sources")
    changed = [m for m in CORE_MODULES if not isinstance(sources, dict) or sources.get(m) != now["sources"][m]]
    if changed:
        return f"ledger/domain/{changed[0]}.py changed since the compiled core was built; run `make setup`"
    return None
