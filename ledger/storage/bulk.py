"""Bulk inserts inside the caller's transaction: COPY on PostgreSQL, executemany elsewhere.

Ingesting 10,000 records writes 20,000 rows while holding the record log's lock, so the
write path matters: psycopg's executemany sends one INSERT per row (about 60 µs each
here), SQLAlchemy's multi-row VALUES spends longer compiling than inserting, while
COPY FROM STDIN moves the same rows in about a third of the executemany time. Inside a
pipeline (`driver_sql.transaction`, the access trail's few rows per batch) COPY is not
allowed, and one multi-row INSERT travels with the other statements instead (one
statement to parse and execute rather than one per row: a batch holds at most a few
dozen rows).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from ledger.storage import driver_sql

__all__ = ["bulk_insert"]

_CHUNK = 5_000


def bulk_insert(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert `rows` (all with the same keys) into `table` in the session's transaction."""
    if not rows:
        return
    columns = list(rows[0].keys())
    names = ", ".join(table.c[name].name for name in columns)
    if driver_sql.in_pipeline(session):  # COPY cannot be pipelined: one multi-row INSERT is
        row_sql = (", ".join(f":{name}{i}" for name in columns) for i in range(len(rows)))
        values = ", ".join(f"({one})" for one in row_sql)
        params = {f"{name}{i}": row[name] for i, row in enumerate(rows) for name in columns}
        driver_sql.execute(session, f"INSERT INTO {table.name} ({names}) VALUES {values}", params)
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
        raw: Any = connection.connection.dbapi_connection
        with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(tuple(row[name] for name in columns))
        return
    for i in range(0, len(rows), _CHUNK):
        session.execute(insert(table), list(rows[i : i + _CHUNK]))
