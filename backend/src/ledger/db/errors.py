"""Storage failures as the layers above see them, so that services and the web edge never name
SQLAlchemy's (or the driver's) exception classes."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

try:  # the asyncpg status path (db/status_queries.py) raises the driver's own errors
    from asyncpg import InterfaceError as _PgInterfaceError
    from asyncpg import PostgresConnectionError as _PgConnectionError

    _DRIVER_OUTAGES: tuple[type[BaseException], ...] = (_PgConnectionError, _PgInterfaceError)
except ImportError:  # pragma: no cover - SQLite-only installs
    _DRIVER_OUTAGES = ()


class DuplicateRow(Exception):
    """An insert the database refused on an integrity constraint (typically a UNIQUE key a
    concurrent transaction took first). Raised by repositories.add_in_savepoint, from the
    driver's IntegrityError, after only the savepoint was rolled back."""


STORAGE_UNAVAILABLE: tuple[type[BaseException], ...] = (OperationalError, InterfaceError, *_DRIVER_OUTAGES)
"""The database could not be reached or dropped the connection: an outage, not an input (retry later)."""

STORAGE_FAILURE: tuple[type[BaseException], ...] = (DBAPIError, DuplicateRow)
"""Any other error the database reported: not the caller's fault and not an outage (a bug).
Check STORAGE_UNAVAILABLE first: its SQLAlchemy classes are DBAPIErrors too."""
