"""Helpers shared by the backend's test suites and bench/fuzz_gateway.py: a real server over a
socket (served), and the gateway's fakes, clients and fuzzer (gw_*). Importable by this name
because backend/pyproject.toml puts tests/support on pytest's ``pythonpath``; a distinctive
name, so it cannot collide with another suite's package in the one ``make test-backend`` session."""
