"""Each log's Merkle tree as this process sees it: read from tiles, never held whole.

A `TreeCache` hands out `TileView`s (`ledger.logs.tiles`) over the tiles stored with
the entries (`ledger.logs.tile_store`), so a root or a proof at any size reads O(log n)
tiles, a cold start reads nothing, and memory is bounded by the cache of full tiles
(32 MiB per database at most), whatever the logs' size. It keeps the name and the
calls of the in-memory cache it replaced (`tree`, `forget`).
"""

from __future__ import annotations

import threading

from ledger.logs.store import LogCorrupted, committed_size
from ledger.logs.tile_store import TileReader
from ledger.logs.tiles import TileView
from ledger.storage.database import Database

__all__ = ["TreeCache", "default_cache"]


class TreeCache:
    """Tile readers of the logs' databases, shared by every thread of the process."""

    def __init__(self) -> None:
        self._readers: dict[str, TileReader] = {}
        self._lock = threading.Lock()

    def reader(self, db: Database) -> TileReader:
        with self._lock:
            reader = self._readers.get(db.url)
            if reader is None:
                reader = self._readers[db.url] = TileReader(db)
            return reader

    def tree(self, db: Database, name: str, size: int | None = None, *, cached: bool = True) -> TileView:
        """The tree of log `name` at sizes up to `size` (default: every committed entry).

        Raises `LogCorrupted` when fewer than `size` entries are committed.
        """
        with db.session() as session:
            committed = committed_size(session, name)
        want = committed if size is None else size
        if want > committed:
            raise LogCorrupted(f"log {name} has {committed} entries, {want} needed")
        return self.reader(db).view(name, want, cached=cached)

    def forget(self, db: Database, name: str) -> None:
        """Read the tiles afresh from now on (a cached tile proved wrong)."""
        del name  # tiles are cached per database; one wrong tile casts doubt on all of them
        self.reader(db).forget()


_DEFAULT = TreeCache()


def default_cache() -> TreeCache:
    """The process-wide cache (API workers and the anchoring worker each have their own)."""
    return _DEFAULT
