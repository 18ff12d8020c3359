"""Appending to a log inside the caller's transaction, and reading it back.

`open_for_append` takes the log's write lock for the rest of the caller's transaction:
on PostgreSQL the head row is locked `FOR UPDATE`; on SQLite the transaction is begun
`IMMEDIATE`, which takes the database's single write lock up front (a deferred
transaction that read first could otherwise fail when it tries to write). Writers are
therefore serialised per log, commit in sequence order, and a rolled-back writer
releases its sequence numbers with everything else: no gap, no duplicate.

Take the lock *before* reading anything the append depends on (e.g. whether a record
already exists): reads made after it see every earlier writer's committed rows.

The locked head row also carries the tree's frontier, so an append writes the tiles its
entries complete or extend (`ledger.logs.tiles`, `ledger.logs.tile_store`) in the same
transaction, under the same lock, without reading a tile: the round trips of an append
are the ones it had before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, select, text
from sqlalchemy.orm import Session

from ledger.errors import Unavailable
from ledger.logs.leaves import check_log_name, encode_leaf
from ledger.logs.models import LogEntry, LogHead
from ledger.logs.tile_store import write_tiles
from ledger.logs.tiles import FrontierError, extend
from ledger.merkle.rfc9162 import hash_leaf
from ledger.storage import driver_sql
from ledger.storage.bulk import bulk_insert

__all__ = [
    "AppendedEntry",
    "LogCorrupted",
    "LogWriter",
    "committed_size",
    "entry",
    "held_size",
    "leaf_hashes",
    "open_for_append",
]

_ENTRIES = cast(Table, LogEntry.__table__)  # Core inserts: the ORM bulk path is several times slower


# Sent to the driver (`storage.driver_sql`): every release batch and ingestion runs them.
_HEAD = "SELECT size, frontier FROM log_heads WHERE name = :log_name"
_ENSURE_HEAD = (
    "INSERT INTO log_heads (name, size, frontier) VALUES (:log_name, 0, :empty) ON CONFLICT DO NOTHING"
)
_SET_HEAD = "UPDATE log_heads SET size = :new_size, frontier = :frontier WHERE name = :log_name"

_LEAF_HASHES = text(
    "SELECT leaf_hash FROM log_entries WHERE log_name = :name AND seq >= :start AND seq < :stop ORDER BY seq"
).columns(LogEntry.leaf_hash)


class LogCorrupted(Unavailable):
    """The stored log contradicts itself or its anchors; nothing is served from it (503)."""

    code = "log_corrupted"


@dataclass(frozen=True)
class AppendedEntry:
    """Where an entry landed: its sequence number (leaf index), bytes and leaf hash."""

    seq: int
    leaf: bytes
    leaf_hash: bytes


def _begin_write(session: Session) -> None:
    """On SQLite, start the transaction IMMEDIATE unless it already holds the write lock."""
    if driver_sql.is_postgres(session):
        return
    connection = session.connection()
    raw: Any = connection.connection.dbapi_connection
    if not raw.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class LogWriter:
    """Appends to one log within the transaction that opened it (see `open_for_append`)."""

    def __init__(self, session: Session, name: str, head: Callable[[], tuple[int, bytes]]) -> None:
        self._session = session
        self.name = name
        self._head = head
        self._size: int | None = None
        self._frontier = b""

    @property
    def size(self) -> int:
        """The log's size including what this transaction appended so far."""
        if self._size is None:
            # the locked head, read when first needed (see open_for_append)
            self._size, self._frontier = self._head()
        return self._size

    def append(self, items: Sequence[tuple[str, Mapping[str, Any]]]) -> list[AppendedEntry]:
        """Append (type tag, payload) leaves in order; returns where each landed."""
        if not items:
            return []
        start = self.size
        appended: list[AppendedEntry] = []
        rows: list[dict[str, Any]] = []
        for offset, (type_tag, payload) in enumerate(items):
            seq = start + offset
            leaf = encode_leaf(type_tag, seq, payload)
            digest = hash_leaf(leaf)
            appended.append(AppendedEntry(seq, leaf, digest))
            rows.append({"log_name": self.name, "seq": seq, "leaf": leaf, "leaf_hash": digest})
        try:
            frontier, tiles = extend(start, self._frontier, [a.leaf_hash for a in appended])
        except FrontierError as exc:
            raise LogCorrupted(f"log {self.name}: {exc}") from exc
        bulk_insert(self._session, _ENTRIES, rows)
        write_tiles(self._session, self.name, tiles)
        self._size, self._frontier = start + len(items), frontier
        driver_sql.execute(
            self._session, _SET_HEAD, {"log_name": self.name, "new_size": self._size, "frontier": frontier}
        )
        return appended


def _locked_head(session: Session) -> str:
    # SQLite has no row locks: the IMMEDIATE transaction already holds the write lock
    return _HEAD + (" FOR UPDATE" if driver_sql.is_postgres(session) else "")


def open_for_append(session: Session, name: str) -> LogWriter:
    """Lock log `name` for the rest of `session`'s transaction and return its writer.

    The head row is locked when the statement runs; inside `driver_sql.transaction`
    (pipeline mode) its size is read only when the writer first needs it, so what the
    caller sends next (the access trail's nonce check) shares the round trip and still
    runs after the lock. Elsewhere the size is read at once: reads made after this call
    see every earlier writer's rows. A log's very first append finds no head: it creates
    it, then locks it (a concurrent first writer waits on the new row's key, then locks).
    """
    check_log_name(name)
    _begin_write(session)
    params = {"log_name": name}
    locked = driver_sql.query_deferred(session, _locked_head(session), params)

    def head() -> tuple[int, bytes]:
        rows = locked()
        if not rows:
            driver_sql.execute(session, _ENSURE_HEAD, {**params, "empty": b""})
            rows = driver_sql.query(session, _locked_head(session), params)
        return int(rows[0][0]), bytes(rows[0][1])

    writer = LogWriter(session, name, head)
    if not driver_sql.in_pipeline(session):
        _ = writer.size  # takes the lock now
    return writer


def held_size(session: Session, name: str) -> Callable[[], int]:
    """Hold log `name` still for the rest of the transaction; its size when the returned
    function is called.

    A reader's lock: on PostgreSQL the head row is locked `FOR SHARE`, which waits for a
    writer holding it and keeps any new writer (`open_for_append` locks it `FOR UPDATE`) out
    until this transaction ends, so the statements sent after this one see exactly the
    log's first `size` entries and the rows written with them. On SQLite the caller's
    transaction must hold the database's write lock already (`driver_sql.transaction`
    begins IMMEDIATE), which keeps every writer out. Sent at once (pipeline mode: its
    answer shares the round trip of what follows); a log never written has size 0.
    """
    check_log_name(name)
    sql = _HEAD + (" FOR SHARE" if driver_sql.is_postgres(session) else "")
    rows = driver_sql.query_deferred(session, sql, {"log_name": name})
    return lambda: int(next(iter(rows()), (0,))[0])


def committed_size(session: Session, name: str) -> int:
    """The number of committed entries of log `name` (0 for a log never written)."""
    size = session.execute(select(LogHead.size).where(LogHead.name == name)).scalar_one_or_none()
    return int(size or 0)


def entry(session: Session, name: str, seq: int) -> LogEntry | None:
    return session.get(LogEntry, (name, seq))


def leaf_hashes(session: Session, name: str, start: int, stop: int) -> list[bytes]:
    """Leaf hashes of entries [start, stop) in order; `LogCorrupted` on any gap.

    (log_name, seq) is the primary key, so `stop - start` rows between the bounds are
    exactly the entries start..stop-1: counting them is the contiguity check.
    """
    rows = session.execute(_LEAF_HASHES, {"name": name, "start": start, "stop": stop}).scalars().all()
    if len(rows) != stop - start:
        raise LogCorrupted(f"log {name}: expected entries {start}..{stop - 1}, found {len(rows)} of them")
    return [bytes(h) for h in rows]
