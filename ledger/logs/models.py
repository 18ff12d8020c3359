"""Tables of the append-only Merkle logs (credit records, access trail, any other).

One row per log in `log_heads` holds its committed size and is the lock every writer
takes, so sequence numbers are contiguous whatever the number of writers; the entries
and the head commit in the caller's transaction, so a log never disagrees with the data
it commits to. `log_checkpoints` mirrors the checkpoints anchored on chain, with the
transaction that anchored each, so a proof can name it without scanning the chain.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.storage.models import Base


class LogHead(Base):
    """A log's committed size: the next sequence number, and the writers' lock row."""

    __tablename__ = "log_heads"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


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
