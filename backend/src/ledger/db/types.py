"""Column types that keep money exact and instants timezone-aware on every backend.

PostgreSQL stores money as NUMERIC(14,2). SQLite has no exact decimal type (its NUMERIC
affinity would store a binary float), so there the same column is TEXT holding the canonical
decimal string; CHECK constraints use CAST(... AS NUMERIC) so they hold on both.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime, Integer, Numeric, String
from sqlalchemy.types import TypeDecorator


class ExactDecimal(TypeDecorator):
    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int = 14, scale: int = 2):
        super().__init__()
        self.precision = precision
        self.scale = scale
        self._quantum = Decimal(1).scaleb(-scale)

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(self.precision + 2))
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("money must never be a float")
        d = Decimal(value).quantize(self._quantum)
        return str(d) if dialect.name == "sqlite" else d

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return Decimal(value).quantize(self._quantum)


def Money() -> ExactDecimal:  # named like a type: it is used as one in column definitions
    return ExactDecimal(14, 2)


def Rate() -> ExactDecimal:
    return ExactDecimal(8, 6)


def SerialId() -> BigInteger:
    """The type of an autoincrementing integer key: BIGINT on PostgreSQL, INTEGER on SQLite
    (only an INTEGER PRIMARY KEY autoincrements there)."""
    return BigInteger().with_variant(Integer, "sqlite")


class UTCDateTime(TypeDecorator):
    """An aware instant stored in UTC; naive values read back from SQLite are tagged UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
