"""Helpers shared by the stack suites (tests/e2e, tests/browser, tests/faults, tests/multi): one
package, so that a suite imports another's helpers by name instead of editing the import path.

Importable because tests/pytest.ini puts tests/ on the path (`pythonpath = .`); every way these
suites are run (scripts/e2e.sh, scripts/faults.sh, `make test-multi`, `pytest ../tests/browser`
from backend/) picks that file up.
"""
