"""Tables of the append-only Merkle logs (credit records, access trail, any other).

One row per log in `log_heads` holds its committed size and is the lock every writer
takes, so sequence numbers are contiguous whatever the number of writers; the entries
and the head commit in the caller's transaction, so a log never disagrees with the data
it commits to. `log_checkpoints` mirrors the checkpoints anchored on chain, with the
transaction that anchored each, so a proof can name it without scanning the chain.
`log_tiles` holds the tree itself as C2SP tlog-tiles (`ledger.logs.tiles`), written in
the same transaction as the entries they cover; the head row keeps the tree's right
edge (its frontier), from which an append derives the new tiles without reading any.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, LargeBinary, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.storage.models import Base


class LogHead(Base):
    """A log's committed size: the next sequence number, and the writers' lock row."""

    __tablename__ = "log_heads"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    #: roots of the perfect subtrees along the right edge, largest first (`tiles.extend`)
    frontier: Mapped[bytes] = mapped_column(LargeBinary, nullable=False, default=b"")


class LogEntry(Base):
    """One leaf: its exact bytes (RFC 8785 JSON with type and sequence) and their RFC 9162 hash."""

    __tablename__ = "log_entries"

    log_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    leaf: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)


class LogCheckpoint(Base):
    """A checkpoint (size, root) anchored on chain; transaction and block when known."""

    __tablename__ = "log_checkpoints"

    log_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    transaction_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    anchored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class LogTile(Base):
    """A tlog-tiles tile: up to 256 hashes of the nodes at height 8·level, a partial one growing in place."""

    __tablename__ = "log_tiles"

    log_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hashes: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
