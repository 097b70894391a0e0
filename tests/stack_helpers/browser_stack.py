"""Constants shared by the browser tests and their conftest."""

AGENT_PASSWORD = "desk-password-123"
LEDGER_TOKEN = "browser-test-ledger-token"
