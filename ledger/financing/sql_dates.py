"""Two date expressions the KPIs group and filter by, compiled for PostgreSQL and SQLite.

SQL has no portable "year-month of a timestamp" or "days from a date to a timestamp's
date"; these constructs compile to each dialect's own functions, so the aggregates stay
in the database on both. Timestamps are UTC (the ledger stores them so).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

__all__ = ["days_after", "year_month"]


class year_month(FunctionElement[str]):
    """`YYYY-MM` of a UTC timestamp column."""

    type = String()
    inherit_cache = True


class days_after(FunctionElement[int]):
    """Whole days from a date column (first argument) to a UTC timestamp's date (second)."""

    type = Integer()
    inherit_cache = True


@compiles(year_month, "postgresql")
def _pg_year_month(element: year_month, compiler: Any, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC', 'YYYY-MM')"


@compiles(year_month, "sqlite")
def _sqlite_year_month(element: year_month, compiler: Any, **kw: Any) -> str:
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)})"


@compiles(days_after, "postgresql")
def _pg_days_after(element: days_after, compiler: Any, **kw: Any) -> str:
    day, ts = list(element.clauses)
    return f"(CAST({compiler.process(ts, **kw)} AT TIME ZONE 'UTC' AS DATE) - {compiler.process(day, **kw)})"


@compiles(days_after, "sqlite")
def _sqlite_days_after(element: days_after, compiler: Any, **kw: Any) -> str:
    day, ts = list(element.clauses)
    return (
        f"CAST(julianday(date({compiler.process(ts, **kw)})) - julianday({compiler.process(day, **kw)}) "
        "AS INTEGER)"
    )
