"""Application services: each call opens one session, owns its transaction, loads records,
asks the pure domain, writes the outcome and the audit entry, and returns plain values."""
