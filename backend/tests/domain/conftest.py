import pytest

from ledger.policy_file import load_policy


@pytest.fixture(scope="session")
def policy():
    return load_policy()
