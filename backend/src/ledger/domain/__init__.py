"""Pure domain core of the ledger: standard library only, no IO, no web or ORM imports."""
