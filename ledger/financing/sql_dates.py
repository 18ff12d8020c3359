"""The expressions the KPIs group and filter by, compiled for PostgreSQL and SQLite.

SQL has no portable "year-month of a timestamp", "days from a date to a timestamp's
date" or "a field of a JSON text"; these constructs compile to each dialect's own
functions, so the aggregates stay in the database on both. Timestamps are UTC (the
ledger stores them so).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Integer, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

__all__ = ["days_after", "district_of", "industry_section_of", "month_text", "year_month"]


class year_month(FunctionElement[Any]):
    """The month of a UTC timestamp column: its first instant on PostgreSQL (`date_trunc`,
    about half the cost of formatting every row with `to_char` when measured), `YYYY-MM`
    on SQLite; `month_text` writes either as `YYYY-MM`."""

    inherit_cache = True


class district_of(FunctionElement[str]):
    """The GB/T 2260 region code in a USCC column (its 3rd to 8th characters), with literal
    positions: the same expression text as the statistics of migration 0009 name."""

    type = String()
    inherit_cache = True


@compiles(district_of)
def _district_of(element: district_of, compiler: Any, **kw: Any) -> str:
    return f"substr({compiler.process(element.clauses, **kw)}, 3, 6)"


def month_text(value: Any) -> str:
    """A `year_month` value as `YYYY-MM`."""
    return value.strftime("%Y-%m") if isinstance(value, datetime | date) else str(value)


class days_after(FunctionElement[int]):
    """Whole days from a date column (first argument) to a UTC timestamp's date (second)."""

    type = Integer()
    inherit_cache = True


@compiles(year_month, "postgresql")
def _pg_year_month(element: year_month, compiler: Any, **kw: Any) -> str:
    return f"date_trunc('month', {compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC')"


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


class industry_section_of(FunctionElement[str]):
    """The GB/T 4754-2017 section letter of a record's `industry` field (`C39` -> `C`), read
    from its `public_fields` JSON text: the field is level 1 (public), so it is stored in
    clear there and not sealed. NULL where the record has no such field (catalogue v1)."""

    type = String()
    inherit_cache = True


@compiles(industry_section_of, "postgresql")
def _pg_industry_section_of(element: industry_section_of, compiler: Any, **kw: Any) -> str:
    return f"substr(CAST({compiler.process(element.clauses, **kw)} AS json) ->> 'industry', 1, 1)"


@compiles(industry_section_of, "sqlite")
def _sqlite_industry_section_of(element: industry_section_of, compiler: Any, **kw: Any) -> str:
    return f"substr(json_extract({compiler.process(element.clauses, **kw)}, '$.industry'), 1, 1)"
