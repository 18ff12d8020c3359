"""Driver-level statements on both databases: parameters, conversions, errors, transactions."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from ledger.records.models import CreditRecord
from ledger.storage import driver_sql
from ledger.storage.database import Database, DatabaseUnavailable
from ledger.storage.models import RequestNonce


def test_named_parameters_and_in_lists(database: Database) -> None:
    with database.session() as session:
        values, params = driver_sql.in_list("v", ["a", "b", "c"])
        assert values == "(:v0, :v1, :v2)" and params == {"v0": "a", "v1": "b", "v2": "c"}
        rows = driver_sql.query(session, "SELECT :x + 1, :y", {"x": 41, "y": "text with : colon"})
        assert rows == [(42, "text with : colon")]


def test_values_are_stored_and_read_as_sqlalchemy_does(database: Database) -> None:
    seen = datetime(2026, 11, 26, 8, 30, 1, 250, tzinfo=UTC)
    with database.session() as session:
        bound = driver_sql.bind(session, RequestNonce.__table__.c.seen_at.type, seen)
        driver_sql.execute(
            session,
            "INSERT INTO request_nonces (signer, nonce, seen_at) VALUES (:s, :n, :t)",
            {"s": "0xabc", "n": "n-1", "t": bound},
        )
    with database.session() as session:  # the ORM reads what the driver wrote
        row = session.scalars(select(RequestNonce).where(RequestNonce.nonce == "n-1")).one()
        assert row.seen_at.replace(tzinfo=UTC) == seen
        date_type = CreditRecord.__table__.c.event_date.type
        as_date = driver_sql.from_driver(session, date_type)
        stored = driver_sql.bind(session, date_type, date(2026, 3, 1))  # text on SQLite
        (raw,) = driver_sql.query(session, "SELECT :d", {"d": stored})[0]
        assert as_date(raw) == date(2026, 3, 1) and as_date(None) is None


def test_statements_share_the_session_transaction(database: Database) -> None:
    insert = "INSERT INTO request_nonces (signer, nonce, seen_at) VALUES (:s, :n, :t)"
    with pytest.raises(RuntimeError), database.session() as session:
        t = driver_sql.bind(session, RequestNonce.__table__.c.seen_at.type, datetime.now(UTC))
        for i in range(3):
            driver_sql.execute(session, insert, {"s": "0x1", "n": f"n{i}", "t": t})
        raise RuntimeError("roll back")
    with database.session() as session:
        assert driver_sql.query(session, "SELECT COUNT(*) FROM request_nonces WHERE signer = '0x1'") == [(0,)]


def test_driver_errors_are_database_unavailable(database: Database) -> None:
    with pytest.raises(DatabaseUnavailable, match="no_such_table"), database.session() as session:
        driver_sql.query(session, "SELECT * FROM no_such_table")
    with database.session() as session:  # the pool still serves
        assert driver_sql.query(session, "SELECT 1") == [(1,)]


_INSERT_NONCE = "INSERT INTO request_nonces (signer, nonce, seen_at) VALUES (:s, :n, :t)"


def _count(database: Database, signer: str) -> int:
    with database.session() as session:
        sql = "SELECT COUNT(*) FROM request_nonces WHERE signer = :s"
        rows = driver_sql.query(session, sql, {"s": signer})
    return int(rows[0][0])


def test_an_explicit_transaction_commits_its_statements_together(database: Database) -> None:
    with database.autocommit_session() as session, driver_sql.transaction(session):
        t = driver_sql.bind(session, RequestNonce.__table__.c.seen_at.type, datetime.now(UTC))
        driver_sql.execute(session, _INSERT_NONCE, {"s": "0x2", "n": "first", "t": t})
        # a read inside sees the transaction's own write
        seen = driver_sql.query(session, "SELECT nonce FROM request_nonces WHERE signer = '0x2'")
        assert seen == [("first",)]
        driver_sql.execute(session, _INSERT_NONCE, {"s": "0x2", "n": "second", "t": t})
    assert _count(database, "0x2") == 2


def test_an_explicit_transaction_that_fails_keeps_nothing(database: Database) -> None:
    seen_at = RequestNonce.__table__.c.seen_at.type
    with pytest.raises(RuntimeError), database.autocommit_session() as s, driver_sql.transaction(s):
        t = driver_sql.bind(s, seen_at, datetime.now(UTC))
        driver_sql.execute(s, _INSERT_NONCE, {"s": "0x3", "n": "kept?", "t": t})
        raise RuntimeError("before the commit")
    with pytest.raises(DatabaseUnavailable), database.autocommit_session() as s, driver_sql.transaction(s):
        t = driver_sql.bind(s, seen_at, datetime.now(UTC))
        driver_sql.execute(s, _INSERT_NONCE, {"s": "0x3", "n": "dup", "t": t})
        driver_sql.execute(s, _INSERT_NONCE, {"s": "0x3", "n": "dup", "t": t})  # unique violation
    assert _count(database, "0x3") == 0
    # the pool hands out working connections, none left inside a transaction
    for _ in range(3):
        with database.autocommit_session() as session, driver_sql.transaction(session):
            assert driver_sql.query(session, "SELECT 1") == [(1,)]


def test_a_failed_transaction_with_an_unread_statement_keeps_no_lock(database: Database) -> None:
    """A statement sent but not read when the block raises must not keep the transaction alive.

    On SQLite an unread `INSERT ... RETURNING` kept the connection, and its write lock, open
    after the block failed: every later writer waited until its busy timeout.
    """
    seen_at = RequestNonce.__table__.c.seen_at.type
    unread: list[object] = []  # the statement's answer, still referenced (as a caller's closure keeps it)
    with pytest.raises(RuntimeError), database.autocommit_session() as s, driver_sql.transaction(s):
        t = driver_sql.bind(s, seen_at, datetime.now(UTC))
        returning = _INSERT_NONCE + " RETURNING nonce"
        unread.append(driver_sql.query_deferred(s, returning, {"s": "0x5", "n": "unread", "t": t}))
        raise RuntimeError("before the answer is read")
    started = time.monotonic()
    with database.autocommit_session() as s, driver_sql.transaction(s):  # would wait for the lock
        t = driver_sql.bind(s, seen_at, datetime.now(UTC))
        driver_sql.execute(s, _INSERT_NONCE, {"s": "0x5", "n": "next", "t": t})
    assert time.monotonic() - started < 2
    assert _count(database, "0x5") == 1


def test_a_standing_session_keeps_its_connection_until_an_error(database: Database) -> None:
    standing = database.standing_session()
    try:
        with standing.use() as session:
            first = driver_sql.query(session, "SELECT 1")
            kept, connection = session, session.connection()
        with standing.use() as session:  # the same session and connection: no checkout
            assert session is kept and session.connection() is connection
            assert driver_sql.query(session, "SELECT 1") == first
        with pytest.raises(DatabaseUnavailable), standing.use() as session:
            driver_sql.query(session, "SELECT * FROM no_such_table")
        assert connection.closed  # given back to the pool
        with standing.use() as session:  # a fresh session after the failure, working
            assert session is not kept
            assert driver_sql.query(session, "SELECT 1") == first
    finally:
        standing.close()


def test_a_standing_session_serves_no_object_twice(database: Database) -> None:
    standing = database.standing_session()
    t = datetime.now(UTC)
    try:
        with database.session() as session:
            session.add(RequestNonce(signer="0x4", nonce="n", seen_at=t))
        with standing.use() as session:
            row = session.scalars(select(RequestNonce).where(RequestNonce.signer == "0x4")).one()
            assert row in session
        with standing.use() as session:  # expunged after the use before: read afresh if asked again
            assert row not in session and len(session.identity_map) == 0
    finally:
        standing.close()
