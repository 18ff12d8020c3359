"""Tiles in the database: written with the entries they cover, read a few at a time.

Writing (`write_tiles`) adds hashes at the end of each touched tile with one multi-row
upsert: a new tile is inserted, a partial one grows in place (`hashes || new`). It runs
inside the append's transaction, under the log's lock, and is a plain statement, so it
also travels in the access trail's pipelined transaction (`driver_sql.transaction`)
without adding a round trip.

Reading (`TileReader`) fetches the tiles one proof needs in one statement. Full tiles
never change (a log is append-only), so the reader keeps a bounded cache of them
(`BoundedCache`); partial tiles are always read. A cached tile that turns out wrong (the
table was restored or rewritten) is caught by the caller's check against the anchored
root, which then reads again without the cache (`TileReader.fresh`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ledger.bounded_cache import BoundedCache
from ledger.logs.tiles import TileAppend, TileKey, TileView, full_tile_bytes
from ledger.storage import driver_sql
from ledger.storage.database import Database, DatabaseUnavailable

__all__ = ["TileReader", "read_tiles", "write_tiles"]

#: full tiles kept per process: 4,096 of 8 KiB, 32 MiB at most, whatever the logs' size
CACHED_TILES = 4_096


def _upsert(postgres: bool, rows: int) -> str:
    values = ", ".join(f"(:log_name, :level{i}, :idx{i}, :hashes{i})" for i in range(rows))
    grown = "log_tiles.hashes || excluded.hashes"
    if not postgres:  # SQLite's || yields text: cast back, the bytes are kept as they are
        grown = f"CAST({grown} AS BLOB)"
    return (
        f"INSERT INTO log_tiles (log_name, level, idx, hashes) VALUES {values} "
        f"ON CONFLICT (log_name, level, idx) DO UPDATE SET hashes = {grown}"
    )


def write_tiles(session: Session, name: str, appends: Sequence[TileAppend]) -> None:
    """Add each append's hashes at the end of its tile, in the session's transaction."""
    if not appends:
        return
    params: dict[str, Any] = {"log_name": name}
    for i, a in enumerate(appends):
        params[f"level{i}"], params[f"idx{i}"], params[f"hashes{i}"] = a.level, a.index, a.hashes
    driver_sql.execute(session, _upsert(driver_sql.is_postgres(session), len(appends)), params)


def read_tiles(conn: Connection, name: str, keys: Iterable[TileKey]) -> dict[TileKey, bytes]:
    """The stored bytes of tiles `keys` of log `name` (absent tiles are left out)."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    where = " OR ".join(f"(level = :l{i} AND idx = :i{i})" for i in range(len(wanted)))
    params: dict[str, Any] = {"name": name}
    for i, (level, index) in enumerate(wanted):
        params[f"l{i}"], params[f"i{i}"] = level, index
    sql = text(f"SELECT level, idx, hashes FROM log_tiles WHERE log_name = :name AND ({where})")
    return {(int(r[0]), int(r[1])): bytes(r[2]) for r in conn.execute(sql, params)}


class TileReader:
    """Tiles of one database, with a bounded cache of full tiles shared by the process's threads."""

    def __init__(self, db: Database, cache_size: int = CACHED_TILES) -> None:
        self.db = db
        self._full: BoundedCache[tuple[str, int, int], bytes] = BoundedCache(cache_size)

    def fetch(self, name: str, keys: Iterable[TileKey], *, cached: bool = True) -> Mapping[TileKey, bytes]:
        """Tiles `keys` of log `name`: full ones from the cache when there, the rest in one read."""
        found: dict[TileKey, bytes] = {}
        missing: list[TileKey] = []
        for key in keys:
            hit = self._full.get((name, *key)) if cached else None
            if hit is None:
                missing.append(key)
            else:
                found[key] = hit
        if missing:
            try:
                with self.db.engine.connect() as conn:
                    read = read_tiles(conn, name, missing)
            except SQLAlchemyError as exc:
                raise DatabaseUnavailable(f"database error: {exc.__class__.__name__}: {exc}") from exc
            full = full_tile_bytes()
            for key, data in read.items():
                if len(data) == full:
                    self._full.put((name, *key), data)
            found.update(read)
        return found

    def prime(self, name: str, key: TileKey, data: bytes) -> None:
        """Keep tile `key` of log `name`, read by another statement, if it is full (a partial
        tile still grows, so only full ones are cached, as `fetch` does)."""
        if len(data) == full_tile_bytes():
            self._full.put((name, *key), data)

    def view(self, name: str, size: int, *, cached: bool = True) -> TileView:
        """Roots and proofs of log `name` at sizes up to `size`."""
        return TileView(lambda keys: self.fetch(name, keys, cached=cached), size)

    def forget(self) -> None:
        """Drop every cached tile (after a cached one proved wrong)."""
        self._full.clear()
