"""The user docs stay true: docs/policy.md to the shipped policy file, docs/intents.md to the
bot's intent list, and every link to a file of the repository.

docs/policy.md lists every key of default_policy.yaml in tables whose rows start with the key
path in backticks and its default (`| `charges.late_fee_min` | 10.00 | ... |`), and the buckets
in a table of their own. Prose anywhere in the docs may quote a default as
"`verification.lock_minutes` (default 30)". Each such value must equal the file's, read by the
ledger's own loader; a key of the file missing from the doc fails too, so new keys get documented.
"""

import re
from dataclasses import is_dataclass
from datetime import time
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from ledger.policy_file import DEFAULT_POLICY_FILE

REPO = Path(__file__).resolve().parents[3]
POLICY_DOC = REPO / "docs" / "policy.md"
USER_DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
RAW = yaml.safe_load((REPO / "backend" / "src" / "ledger" / DEFAULT_POLICY_FILE).read_text(encoding="utf-8"))

KEY_ROW = re.compile(r"^\|\s*`([a-z_0-9.]+)`\s*\|\s*([^|]*?)\s*\|", re.MULTILINE)
BUCKET_ROW = re.compile(r"^\|\s*(M[0-9]\+?)\s*\|\s*(\d+)\s*\|\s*(\d+|none)\s*\|", re.MULTILINE)
QUOTED_DEFAULT = re.compile(r"`([a-z_0-9.]+)` \(default ([^)]+)\)")
PERCENT = re.compile(r"^(.*?) \(([0-9.]+)%\)$")
MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)\)")
FILE_SUFFIXES = {"py", "yml", "yaml", "md", "js", "sh"}  # `relief.py` names a file, not a key


def leaf_keys(node, prefix=""):
    """Dotted paths of the file's settings; a list of scalars is one setting. The texts are
    prose (their own section) and the buckets a table of their own, so neither is listed."""
    for key, value in node.items():
        path = f"{prefix}{key}"
        if path in ("texts", "buckets"):
            continue
        if isinstance(value, dict):
            yield from leaf_keys(value, f"{path}.")
        else:
            yield path


def policy_node(policy, path):
    """What the ledger loaded at ``path``: a setting or a section. A top-level key the Policy
    does not carry (``version``) is the file's own integer, so no binary float creeps in."""
    if "." not in path and not hasattr(policy, path):
        assert isinstance(RAW[path], int), f"{path}: read it through the ledger's loader"
        return RAW[path]
    node = policy
    for part in path.split("."):
        assert hasattr(node, part), f"{path}: no such policy key"
        node = getattr(node, part)
    return node


def policy_value(policy, path):
    value = policy_node(policy, path)
    assert not is_dataclass(value), f"{path} is a section, not a setting"
    return value


def as_written(value):
    """How docs/policy.md writes a default: decimals exactly as in the file (10.00, 0.5),
    times HH:MM, lists comma-separated, an open end as none."""
    if value is None:
        return "none"
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, (tuple, list)):
        return ", ".join(value)
    return str(value)


def check_cell(path, cell, policy):
    value = policy_value(policy, path)
    written = cell
    percent = PERCENT.match(cell)
    if percent:
        written = percent.group(1)
        assert isinstance(value, Decimal), f"{path}: only a decimal may carry a percentage"
        assert Decimal(percent.group(2)) / 100 == value, f"{path}: {cell!r} but the file says {value}"
    expected = as_written(value)
    assert written == expected, f"{path}: the doc says {cell!r}, default_policy.yaml says {expected!r}"


@pytest.fixture(scope="module")
def doc():
    return POLICY_DOC.read_text(encoding="utf-8")


def test_every_key_of_the_policy_file_is_in_the_doc_with_its_default(doc, policy):
    rows = {path: cell for path, cell in KEY_ROW.findall(doc) if path.split(".")[0] in RAW}
    missing = [path for path in leaf_keys(RAW) if path not in rows]
    assert not missing, f"docs/policy.md has no row for: {', '.join(missing)}"
    for path, cell in rows.items():
        check_cell(path, cell, policy)


def test_the_bucket_table_is_the_files(doc, policy):
    rows = [(name, int(low), None if high == "none" else int(high)) for name, low, high in BUCKET_ROW.findall(doc)]
    assert rows == [(b.name, b.min_dpd, b.max_dpd) for b in policy.buckets]


def test_every_text_of_the_policy_file_is_named_in_the_doc(doc):
    for key in RAW["texts"]:
        assert f"`texts.{key}`" in doc


def test_defaults_quoted_in_any_user_doc_are_the_files(policy):
    for path in USER_DOCS:
        for key, cell in QUOTED_DEFAULT.findall(path.read_text(encoding="utf-8")):
            if key.split(".")[0] in RAW:
                check_cell(key, cell, policy)


def test_every_policy_key_a_doc_names_exists(policy):
    """A renamed or removed key leaves no stale name behind in the docs."""
    sections = {name for name, value in RAW.items() if isinstance(value, dict)}
    for path in USER_DOCS:
        for name in re.findall(r"`([a-z_0-9]+(?:\.[a-z_0-9]+)+)`", path.read_text(encoding="utf-8")):
            first, *_, last = name.split(".")
            if first in sections and last not in FILE_SUFFIXES:
                policy_node(policy, name)


def test_user_docs_link_only_to_files_of_the_repository():
    for path in USER_DOCS:
        for target in MARKDOWN_LINK.findall(path.read_text(encoding="utf-8")):
            assert "://" not in target and not target.startswith("mailto:"), f"{path.name} links outside: {target}"
            file = (path.parent / target.split("#")[0]).resolve()
            assert file.is_relative_to(REPO) and file.exists(), f"{path.name}: {target} is not a file of the repository"


def test_the_intent_table_is_the_bots_intent_list():
    doc = (REPO / "docs" / "intents.md").read_text(encoding="utf-8")
    documented = re.findall(r"^\| ([a-z_]+) \|.*\n(?!\|---)", doc, re.MULTILINE)  # not the header row
    domain = yaml.safe_load((REPO / "bot" / "domain" / "intents.yml").read_text(encoding="utf-8"))
    assert documented == domain["intents"]
