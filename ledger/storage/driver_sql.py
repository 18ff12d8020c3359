"""Statements sent straight to the driver, inside a session's transaction, for hot paths.

Through SQLAlchemy each statement costs 150-300 µs of CPU on the development machine
(statement caching, execution context, result wrapping, session bookkeeping): about
1,200 Python calls for the seven statements of one access-trail append, which made the
database layer the largest CPU share of a release. The same statements on the driver
cursor of the session's own connection cost a third of that, and the pool and the
error handling stay SQLAlchemy's, as does the transaction unless `transaction` sends
BEGIN and COMMIT with the statements (the access trail's append). Only the release path
and the log append use this; everything else goes through SQLAlchemy.

Statements are written once with `:name` parameters, which sqlite3 takes as they are and
which become `%(name)s` for psycopg (so a statement holds no `:word` or `%` of its own:
values travel as parameters). A driver error is reported as `DatabaseUnavailable`
and, if it means the connection is gone, the connection is invalidated like SQLAlchemy
does, so the pool replaces it instead of handing it out again.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect, event
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.types import TypeEngine

from ledger.storage.database import DatabaseUnavailable

__all__ = [
    "bind",
    "execute",
    "from_driver",
    "in_list",
    "in_pipeline",
    "is_postgres",
    "query",
    "query_deferred",
    "transaction",
]

_NAMED = re.compile(r"(?<!:):([A-Za-z_][A-Za-z0-9_]*)")


@functools.lru_cache(maxsize=512)
def _for_driver(sql: str, paramstyle: str) -> str:
    if paramstyle == "pyformat":  # psycopg
        return _NAMED.sub(r"%(\1)s", sql)
    return sql  # sqlite3: named parameters as written


def in_list(name: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """SQL `(:name0, :name1, ...)` and its parameters, for `IN` with a list of values."""
    params = {f"{name}{i}": value for i, value in enumerate(values)}
    return "(" + ", ".join(f":{key}" for key in params) + ")", params


@dataclass(frozen=True)
class _Driver:
    """A session's connection as the driver sees it."""

    connection: Connection
    raw: Any  # the driver's own connection: psycopg's or sqlite3's
    dialect: Dialect
    postgres: bool

    def statement(self, sql: str) -> str:
        return _for_driver(sql, self.dialect.paramstyle)

    def report(self, exc: Any, cursor: Any = None) -> DatabaseUnavailable:
        """A driver error as `DatabaseUnavailable`; a lost connection is invalidated."""
        if self.dialect.is_disconnect(exc, self.connection.connection.dbapi_connection, cursor):
            self.connection.invalidate(exc)
        return DatabaseUnavailable(f"database error: {exc.__class__.__name__}: {exc}")


_DRIVER_KEY = "ledger.driver_sql"


def _driver(session: Session) -> _Driver:
    """The session's connection, looked up once per session transaction.

    Why cached: `Session.connection()` walks the session's transaction state each time
    (15-40 µs here), and one access-trail append asked for it sixteen times. The entry is
    dropped when the session's transaction ends (`_forget_driver`), since the next one
    may hold another connection.
    """
    found: _Driver | None = session.info.get(_DRIVER_KEY)
    if found is None:
        connection = session.connection()
        dialect = connection.dialect
        raw = connection.connection.driver_connection
        found = _Driver(connection, raw, dialect, dialect.name == "postgresql")
        session.info[_DRIVER_KEY] = found
    return found


@event.listens_for(Session, "after_transaction_end")
def _forget_driver(session: Session, _transaction: SessionTransaction) -> None:
    session.info.pop(_DRIVER_KEY, None)


def is_postgres(session: Session) -> bool:
    return _driver(session).postgres


def bind(session: Session, type_: TypeEngine[Any], value: Any) -> Any:
    """`value` as SQLAlchemy would send it for a column of `type_` (e.g. a datetime as
    text on SQLite)."""
    dialect = _driver(session).dialect
    processor = type_.dialect_impl(dialect).bind_processor(dialect)
    return value if processor is None or value is None else processor(value)


def from_driver(session: Session, type_: TypeEngine[Any]) -> Callable[[Any], Any]:
    """What turns a driver value of a column of `type_` into what SQLAlchemy would return."""
    dialect = _driver(session).dialect
    processor = type_.dialect_impl(dialect).result_processor(dialect, None)
    if processor is None:
        return lambda value: value
    convert = processor
    return lambda value: None if value is None else convert(value)


@contextmanager
def transaction(session: Session) -> Iterator[None]:
    """One transaction whose BEGIN and COMMIT travel with its statements.

    `session` must be an autocommit session (`Database.autocommit_session`): the block's
    statements then run between an explicit BEGIN and COMMIT sent here. On PostgreSQL they
    go in psycopg's pipeline mode: a statement's answer is awaited only when its rows are
    read (`query`, or calling what `query_deferred` returned), and the COMMIT is awaited
    when the block ends, so a transaction of a read-then-write costs two round trips.
    (A session's own transaction costs two more: psycopg waits for the answer to the BEGIN
    it sends, and SQLAlchemy sends the COMMIT after the block's writes came back.) On
    SQLite the BEGIN is IMMEDIATE: the write lock is taken up front.

    If the block raises, or the COMMIT fails, the connection is invalidated rather than
    rolled back: its server session ends, and with it the transaction, so nothing of it
    is kept and the pool never hands out a connection left inside a transaction. The
    error surfaces as `DatabaseUnavailable` (a driver error) or as raised.
    """
    driver = _driver(session)
    try:
        with driver.raw.pipeline() if driver.postgres else nullcontext():
            execute(session, "BEGIN" if driver.postgres else "BEGIN IMMEDIATE")
            yield
            execute(session, "COMMIT")
    except BaseException as exc:
        # a driver error here was raised by the pipeline's final sync (statements report their own)
        error = driver.report(exc) if isinstance(exc, driver.dialect.loaded_dbapi.Error) else None
        if not driver.postgres:
            # SQLite closes a connection that still has a statement unread (a deferred query's
            # cursor) only once that cursor is collected, holding the write lock till then: a
            # rollback resets every statement and ends the transaction now
            with suppress(driver.dialect.loaded_dbapi.Error):
                driver.raw.rollback()
        if not driver.connection.invalidated:
            driver.connection.invalidate()
        if error is not None:
            raise error from exc
        raise


def in_pipeline(session: Session) -> bool:
    """Whether the session's connection is in pipeline mode (`transaction`), where COPY is not allowed."""
    pgconn = getattr(_driver(session).raw, "pgconn", None)
    return pgconn is not None and int(pgconn.pipeline_status) != 0  # psycopg.pq.PipelineStatus.OFF


def query(session: Session, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """The rows `sql` returns."""
    return query_deferred(session, sql, params)()


def query_deferred(
    session: Session, sql: str, params: Mapping[str, Any] | None = None
) -> Callable[[], list[tuple[Any, ...]]]:
    """Send `sql` now; its rows when the returned function is called (once).

    Inside `transaction`, statements sent in between travel in the same round trip.
    """
    driver = _driver(session)
    error = driver.dialect.loaded_dbapi.Error
    cursor = driver.raw.cursor()
    try:
        cursor.execute(driver.statement(sql), params or {})
    except error as exc:
        cursor.close()
        raise driver.report(exc, cursor) from exc
    except BaseException:
        cursor.close()
        raise

    def rows() -> list[tuple[Any, ...]]:
        try:
            return list(cursor.fetchall())
        except error as exc:
            raise driver.report(exc, cursor) from exc
        finally:
            cursor.close()

    return rows


def execute(session: Session, sql: str, params: Mapping[str, Any] | None = None) -> None:
    driver = _driver(session)
    cursor = driver.raw.cursor()
    try:
        cursor.execute(driver.statement(sql), params or {})
    except driver.dialect.loaded_dbapi.Error as exc:
        raise driver.report(exc, cursor) from exc
    finally:
        cursor.close()
