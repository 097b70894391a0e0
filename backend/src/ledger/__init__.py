"""Huanxin loan ledger: money, rules, relief policy, verification and audit for the collections assistant."""

__version__ = "0.1.0"
