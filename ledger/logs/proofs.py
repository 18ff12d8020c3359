"""Proofs served from a log: inclusion in the latest anchored checkpoint, consistency.

A proof is only worth something against a root the prover cannot change, so inclusion
proofs are built against the latest checkpoint anchored on chain (never the live tree),
and the checkpoint's transaction is named so a verifier can find it on chain. Before a
proof is handed out, the path read from the tiles (`ledger.logs.tiles`) is verified
against the anchored root with the entry's leaf hash: a failure means the stored log is
not the anchored one, and nothing is served (fail closed). Nor is one served while the
chain watch (`ledger.services.chain_watch`) finds the chain behind: the checkpoint's
transaction may be among the lost blocks until the anchoring worker has re-anchored from
what the chain holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ledger.errors import Conflict, InvalidInput, NotFound
from ledger.logs.leaves import check_log_name
from ledger.logs.models import LogCheckpoint, LogEntry, LogTile
from ledger.logs.store import LogCorrupted, committed_size
from ledger.logs.tiles import TILE_WIDTH, TileMissing
from ledger.logs.tree import TreeCache, default_cache
from ledger.merkle.rfc9162 import MerkleError, hash_leaf, verify_inclusion
from ledger.storage.database import Database, DatabaseUnavailable

__all__ = [
    "AnchoredCheckpoint",
    "InclusionProof",
    "LogProofs",
    "NotYetAnchored",
    "latest_checkpoint",
    "record_checkpoint",
]


#: entry and latest checkpoint in one statement, prepared once: the hot path of every proof
_ENTRY_AND_CHECKPOINT = text(
    "SELECT e.leaf, e.leaf_hash, c.size, c.root, c.transaction_hash, c.block_number, c.anchored_at, "
    "t.hashes "
    "FROM log_entries AS e LEFT OUTER JOIN ("
    " SELECT size, root, transaction_hash, block_number, anchored_at FROM log_checkpoints"
    " WHERE log_name = :name ORDER BY size DESC LIMIT 1"
    ") AS c ON 1 = 1 "
    "LEFT OUTER JOIN log_tiles AS t ON t.log_name = :name AND t.level = 0 AND t.idx = :tile "
    "WHERE e.log_name = :name AND e.seq = :seq"
).columns(
    LogEntry.leaf,
    LogEntry.leaf_hash,
    LogCheckpoint.size,
    LogCheckpoint.root,
    LogCheckpoint.transaction_hash,
    LogCheckpoint.block_number,
    LogCheckpoint.anchored_at,
    LogTile.hashes,
)


class NotYetAnchored(Conflict):
    """The entry exists but no anchored checkpoint covers it yet; retry after the next anchor."""

    code = "not_yet_anchored"


@dataclass(frozen=True)
class AnchoredCheckpoint:
    log: str
    size: int
    root: bytes
    transaction_hash: bytes | None
    block_number: int | None
    anchored_at: datetime


@dataclass(frozen=True)
class InclusionProof:
    """Entry `index` of `log` (its exact leaf bytes and hash) and its audit path to `checkpoint`."""

    log: str
    index: int
    leaf: bytes
    leaf_hash: bytes
    path: list[bytes]
    checkpoint: AnchoredCheckpoint


def _checkpoint(row: LogCheckpoint) -> AnchoredCheckpoint:
    return AnchoredCheckpoint(
        log=row.log_name,
        size=int(row.size),
        root=bytes(row.root),
        transaction_hash=None if row.transaction_hash is None else bytes(row.transaction_hash),
        block_number=row.block_number,
        anchored_at=row.anchored_at,
    )


def latest_checkpoint(session: Session, name: str) -> AnchoredCheckpoint | None:
    row = session.execute(
        select(LogCheckpoint)
        .where(LogCheckpoint.log_name == name)
        .order_by(LogCheckpoint.size.desc())
        .limit(1)
    ).scalar_one_or_none()
    return None if row is None else _checkpoint(row)


def record_checkpoint(
    session: Session,
    name: str,
    size: int,
    root: bytes,
    transaction_hash: bytes | None,
    block_number: int | None,
) -> None:
    """Remember an anchored checkpoint (idempotent: a size already recorded is left alone,
    unless its transaction was unknown and is known now)."""
    row = session.get(LogCheckpoint, (name, size))
    if row is None:
        session.add(
            LogCheckpoint(
                log_name=name,
                size=size,
                root=root,
                transaction_hash=transaction_hash,
                block_number=block_number,
                anchored_at=datetime.now(UTC),
            )
        )
    elif bytes(row.root) != root:
        raise LogCorrupted(
            f"log {name}: checkpoint {size} recorded with root {bytes(row.root).hex()}, not {root.hex()}"
        )
    elif row.transaction_hash is None and transaction_hash is not None:
        row.transaction_hash = transaction_hash
        row.block_number = block_number
    session.flush()


class ChainGate(Protocol):
    def require_current(self) -> None:
        """Raise (an `Unavailable`) while the chain may lack blocks the platform relied on."""
        ...


class LogProofs:
    """Read side of the logs: checkpoints and proofs, over one database.

    `watch`, when given, must vouch for the chain before an inclusion proof is served.
    """

    def __init__(
        self, db: Database, cache: TreeCache | None = None, *, watch: ChainGate | None = None
    ) -> None:
        self.db = db
        self.cache = cache or default_cache()
        self.watch = watch

    def latest_checkpoint(self, name: str) -> AnchoredCheckpoint | None:
        check_log_name(name)
        with self.db.session() as session:
            return latest_checkpoint(session, name)

    def size(self, name: str) -> int:
        check_log_name(name)
        with self.db.session() as session:
            return committed_size(session, name)

    def _anchored_path(
        self, name: str, checkpoint: AnchoredCheckpoint, index: int, leaf_hash: bytes
    ) -> list[bytes]:
        """The audit path of `index` at the checkpoint's size, read from tiles and checked
        against the anchored root before it is handed out; read again without the cache of
        full tiles once if it fails, then refused (`LogCorrupted`) naming what disagrees."""
        reader = self.cache.reader(self.db)
        size = checkpoint.size
        for cached in (True, False):
            view = reader.view(name, size, cached=cached)
            try:
                path = view.inclusion_proof(index, size)
                verify_inclusion(leaf_hash, index, size, path, checkpoint.root)
            except (TileMissing, MerkleError):
                reader.forget()
                continue
            return path
        try:
            computed = view.root(size)
        except TileMissing as exc:
            raise LogCorrupted(f"log {name}: {exc}") from exc
        if computed != checkpoint.root:
            raise LogCorrupted(
                f"log {name}: stored tiles give root {computed.hex()} at size {size}, "
                f"the anchored root is {checkpoint.root.hex()}"
            )
        raise LogCorrupted(
            f"log {name}: stored entry {index} is not the entry that was anchored "
            f"(its leaf hash is not in the tree whose root {checkpoint.root.hex()} the chain holds)"
        )

    def inclusion(self, name: str, index: int) -> InclusionProof:
        """The audit path of entry `index` to the latest anchored checkpoint."""
        check_log_name(name)
        if self.watch is not None:
            self.watch.require_current()
        found = self._entry_and_checkpoint(name, index)
        if found is None:
            raise NotFound(f"log {name} has no entry {index}")
        leaf, digest, checkpoint, tile = found
        if tile is not None:  # the entry's own level-0 tile, read in the same statement
            self.cache.reader(self.db).prime(name, (0, index // TILE_WIDTH), tile)
        if checkpoint is None or checkpoint.size <= index:
            anchored = 0 if checkpoint is None else checkpoint.size
            raise NotYetAnchored(
                f"log {name} entry {index} is not anchored yet (anchored size {anchored}); "
                "retry after the next checkpoint"
            )
        if hash_leaf(leaf) != digest:
            raise LogCorrupted(f"log {name}: stored entry {index} does not hash to its leaf hash")
        return InclusionProof(
            log=name,
            index=index,
            leaf=leaf,
            leaf_hash=digest,
            path=self._anchored_path(name, checkpoint, index, digest),
            checkpoint=checkpoint,
        )

    def _entry_and_checkpoint(
        self, name: str, index: int
    ) -> tuple[bytes, bytes, AnchoredCheckpoint | None, bytes | None] | None:
        """Entry `index`, the latest checkpoint and the entry's level-0 tile in one statement on
        a plain connection: the hot path of every proof, where building an ORM query costs more
        than running it, and where the tile, the one a random entry's path is least likely to
        find cached, would otherwise cost a second round trip."""
        try:
            with self.db.engine.connect() as conn:
                params = {"name": name, "seq": index, "tile": index // TILE_WIDTH}
                row = conn.execute(_ENTRY_AND_CHECKPOINT, params).one_or_none()
        except SQLAlchemyError as exc:
            raise DatabaseUnavailable(f"database error: {exc.__class__.__name__}: {exc}") from exc
        if row is None:
            return None
        checkpoint = None
        if row.size is not None:
            checkpoint = AnchoredCheckpoint(
                log=name,
                size=int(row.size),
                root=bytes(row.root),
                transaction_hash=None if row.transaction_hash is None else bytes(row.transaction_hash),
                block_number=row.block_number,
                anchored_at=row.anchored_at,
            )
        tile = None if row.hashes is None else bytes(row.hashes)
        return bytes(row.leaf), bytes(row.leaf_hash), checkpoint, tile

    def consistency(self, name: str, first: int, second: int) -> tuple[bytes, bytes, list[bytes]]:
        """(root at first, root at second, RFC 9162 consistency proof) for committed sizes."""
        check_log_name(name)
        if not 0 <= first <= second:
            raise InvalidInput(f"sizes must satisfy 0 <= first <= second, got {first}, {second}")
        size = self.size(name)
        if second > size:
            raise InvalidInput(f"log {name} has {size} entries; no tree of size {second}")
        # not from cached tiles: no anchored root checks this answer (the inclusion path's does)
        tree = self.cache.tree(self.db, name, second, cached=False)
        try:
            return tree.root(first), tree.root(second), tree.consistency_proof(first, second)
        except TileMissing as exc:
            raise LogCorrupted(f"log {name}: {exc}") from exc
