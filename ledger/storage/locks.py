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
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from ledger.storage.database import Database

__all__ = ["AnchorLock", "FileLock", "NoLock", "PostgresAdvisoryLock", "anchor_lock"]


class AnchorLock(Protocol):
    def acquire(self) -> bool:
        """Take (or confirm we still hold) the lock without waiting; True when held."""
        ...

    def release(self) -> None: ...


class PostgresAdvisoryLock:
    """`pg_try_advisory_lock` held by one connection for as long as the worker lives."""

    def __init__(self, db: Database, key: int) -> None:
        self._db = db
        self._key = key
        self._conn: Connection | None = None

    def acquire(self) -> bool:
        try:
            if self._conn is not None:
                self._conn.execute(text("SELECT 1"))  # still connected, so still holding it
                return True
            conn = self._db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            held = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key}).scalar())
        except SQLAlchemyError:
            self._drop()
            return False
        if held:
            self._conn = conn
        else:
            conn.close()
        return held

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(SQLAlchemyError):
                self._conn.invalidate()
            self._conn = None

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
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
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class NoLock:
    """For an in-memory database, which only one process can see anyway."""

    def acquire(self) -> bool:
        return True

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
