"""A database-held lock that one process at a time may hold, by name.

The anchoring worker takes one per log (`ledger.logs.anchor_worker`), so only one
worker at a time checkpoints it; the chain watch one to reconcile
(`ledger.services.chain_watch`). Anchoring's correctness does not depend on it: the
contract accepts only a checkpoint consistent with the anchored one and treats a
repeat as a no-op, so two workers cannot fork or double-anchor a log. The lock spares
the loser reverted transactions and gas.

Both kinds are released by the operating system when their holder dies, so a crashed
worker never blocks its successor:
- PostgreSQL: a session-level advisory lock on a dedicated autocommit connection;
- SQLite: `flock` on a file beside the database (all SQLite users share one machine).

Who holds a lock is visible (`lock_holder`: "host:pid", for `credit-ledger anchor status`
and `alerts status`) and read from the lock itself, so it can never name a dead holder:
the holder's connection carries it as its `application_name`, found through `pg_locks`;
the lock file holds it as its content, read only while the file is locked.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import socket
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from ledger.storage.database import Database

__all__ = [
    "AnchorLock",
    "FileLock",
    "NoLock",
    "PostgresAdvisoryLock",
    "anchor_lock",
    "holder_tag",
    "lock_holder",
]


def holder_tag() -> str:
    """This process as a lock's holder: "host:pid" (at most 63 characters, PostgreSQL's limit)."""
    pid = str(os.getpid())
    return f"{socket.gethostname()[: 62 - len(pid)]}:{pid}"


class AnchorLock(Protocol):
    def acquire(self) -> bool:
        """Take (or confirm we still hold) the lock without waiting; True when held."""
        ...

    def release(self) -> None: ...

    def holder(self) -> str | None:
        """Who holds the lock now ("host:pid"), whichever process asks; None when nobody does."""
        ...


class PostgresAdvisoryLock:
    """`pg_try_advisory_lock` held by one connection for as long as the worker lives."""

    def __init__(self, db: Database, key: int) -> None:
        self._db = db
        self._key = key
        self._conn: Connection | None = None

    def acquire(self) -> bool:
        conn: Connection | None = None
        try:
            if self._conn is not None:
                self._conn.execute(text("SELECT 1"))  # still connected, so still holding it
                return True
            conn = self._db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            # labelled first, so that the lock is never seen held without its holder's name
            conn.execute(text("SELECT set_config('application_name', :tag, false)"), {"tag": holder_tag()})
            held = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key}).scalar())
            if not held:
                conn.execute(text("RESET application_name"))  # back to the pool unlabelled
        except SQLAlchemyError:
            if conn is not None:
                with contextlib.suppress(SQLAlchemyError):
                    conn.invalidate()
            self._drop()
            return False
        if held:
            self._conn = conn
        else:
            conn.close()
        return held

    def holder(self) -> str | None:
        """The holder's tag, from the backend holding the lock (None: nobody holds it)."""
        key = self._key & 0xFFFF_FFFF_FFFF_FFFF  # a bigint key: classid its high half, objid its low
        with self._db.engine.connect() as conn:
            name = conn.execute(
                text(
                    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                    "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
                    "AND l.classid = CAST(:hi AS oid) AND l.objid = CAST(:lo AS oid) "
                    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                ),
                {"hi": key >> 32, "lo": key & 0xFFFF_FFFF},
            ).scalar()
        return None if name is None else str(name) or "unnamed"

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(SQLAlchemyError):
                self._conn.invalidate()
            self._conn = None

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
                self._conn.execute(text("RESET application_name"))  # back to the pool unlabelled
                self._conn.close()
            except SQLAlchemyError:
                pass
            self._conn = None


class FileLock:
    """An exclusive `flock` on `path`; also excludes other holders in the same process."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        if self._fd is not None:
            return True
        self._path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.pwrite(fd, holder_tag().encode(), 0)
        self._fd = fd
        return True

    def holder(self) -> str | None:
        """The holder's tag, read from the file while it is locked (None: nobody holds it)."""
        try:
            fd = os.open(self._path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:  # held: its content names the holder
                return os.pread(fd, 256, 0).decode(errors="replace").strip() or "unnamed"
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class NoLock:
    """For an in-memory database, which only one process can see anyway."""

    def acquire(self) -> bool:
        return True

    def holder(self) -> str | None:
        return None

    def release(self) -> None:
        return None


def _key(name: str) -> int:
    return int.from_bytes(
        hashlib.sha256(f"credit-ledger anchor {name}".encode()).digest()[:8], "big", signed=True
    )


def anchor_lock(db: Database, name: str) -> AnchorLock:
    """The anchoring lock of log `name` in database `db`."""
    url = db.engine.url
    if url.get_backend_name() == "postgresql":
        return PostgresAdvisoryLock(db, _key(name))
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return FileLock(Path(f"{url.database}.anchor-{name}.lock"))
    return NoLock()


def lock_holder(db: Database, name: str) -> str | None:
    """Who holds lock `name` of database `db` now: "host:pid", or None."""
    return anchor_lock(db, name).holder()
