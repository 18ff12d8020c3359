"""A per-process cache of each log's Merkle tree, extended from the table as it grows.

Proofs must cost O(log n) even at 10^6 entries, so each process keeps a `MerkleTree`
(about 64 bytes a leaf) per (database, log) and loads only the leaf hashes it has not
seen. Before use the cache checks its last leaf against the table: if the table was
replaced (a restore, a test that emptied it) the tree is rebuilt rather than trusted.
"""

from __future__ import annotations

import threading

from sqlalchemy import select

from ledger.logs.models import LogEntry
from ledger.logs.store import LogCorrupted, committed_size, leaf_hashes
from ledger.merkle.rfc9162 import MerkleTree
from ledger.storage.database import Database

__all__ = ["TreeCache", "default_cache"]

_LOAD_CHUNK = 200_000


class TreeCache:
    """Merkle trees of the logs, shared by every thread of the process."""

    def __init__(self) -> None:
        self._trees: dict[tuple[str, str], MerkleTree] = {}
        self._lock = threading.Lock()

    def tree(self, db: Database, name: str, size: int | None = None) -> MerkleTree:
        """The tree of log `name` holding at least `size` leaves (default: every committed one).

        The returned tree may hold more leaves than asked for; callers pass the size they
        mean to `root`/`inclusion_proof`/`consistency_proof`. Raises `LogCorrupted` when
        the table holds fewer entries than `size`.
        """
        key = (db.url, name)
        with self._lock, db.session() as session:
            tree = self._trees.get(key)
            if tree is not None and tree.size:
                last = session.execute(
                    select(LogEntry.leaf_hash).where(LogEntry.log_name == name, LogEntry.seq == tree.size - 1)
                ).scalar_one_or_none()
                if last is None or bytes(last) != tree.leaf_hash(tree.size - 1):
                    tree = None  # the table changed under us: rebuild from scratch
            if tree is None:
                tree = MerkleTree()
            want = committed_size(session, name) if size is None else size
            while tree.size < want:
                stop = min(want, tree.size + _LOAD_CHUNK)
                tree.extend(leaf_hashes(session, name, tree.size, stop))
            self._trees[key] = tree
        if tree.size < want:  # pragma: no cover - leaf_hashes raises first
            raise LogCorrupted(f"log {name} has {tree.size} entries, {want} needed")
        return tree

    def cached(self, db: Database, name: str, size: int) -> MerkleTree | None:
        """The cached tree if it already holds `size` leaves, without touching the database.

        For hot paths that check the result against an anchored root anyway (and call
        `tree` to rebuild when that check fails)."""
        with self._lock:
            tree = self._trees.get((db.url, name))
        return tree if tree is not None and tree.size >= size else None

    def forget(self, db: Database, name: str) -> None:
        with self._lock:
            self._trees.pop((db.url, name), None)


_DEFAULT = TreeCache()


def default_cache() -> TreeCache:
    """The process-wide cache (API workers and the anchoring worker each have their own)."""
    return _DEFAULT
