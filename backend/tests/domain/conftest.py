import sys
from pathlib import Path

import pytest

try:  # the package is normally installed (editable) in backend/.venv
    import ledger  # noqa: F401
except ImportError:  # pragma: no cover - fallback when the env was synced before src/ledger existed
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

from ledger.policy_file import load_policy  # noqa: E402


@pytest.fixture(scope="session")
def policy():
    return load_policy()
