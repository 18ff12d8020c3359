"""What the platform relied on: the calls it relayed and the highest block it trusted.

Two tables, written by the chain client and the chain watch (`ledger.services.chain_watch`):

- `relayed_calls`: every call the relayer sent and the chain included: the contract,
  the function and the exact calldata (a member's act carries the member's signature,
  nonce and deadline inside it, so the same bytes can be sent again), with the
  transaction and block that included it and a status: `included` (not yet durable,
  not acknowledged), `durable` (acknowledged), `resubmitted` (lost by the chain and sent
  again), `superseded` (lost, and redone by its owner: anchors, which the anchoring
  worker re-proves from what the chain holds), `lost` (lost and refused when sent again:
  reported to operators, with the reason in `detail`).
- `chain_watermarks`: the highest block the platform relied on (number and hash), one
  row per chain: acknowledged acts raise it at once, release decisions through the
  watch. A chain whose head is below it, or whose block there has another hash, came
  back behind.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Integer, LargeBinary, String, Text, select, update
from sqlalchemy.orm import Mapped, mapped_column
from web3.types import TxReceipt

from ledger.storage.database import Database
from ledger.storage.models import Base

__all__ = ["ActJournal", "ChainWatermark", "RelayedCall", "Watermark"]

logger = logging.getLogger("ledger.chain.journal")

#: the statuses of `relayed_calls.status`
INCLUDED, DURABLE, RESUBMITTED, SUPERSEDED, LOST = "included", "durable", "resubmitted", "superseded", "lost"
LIVE_STATUSES = (INCLUDED, DURABLE, RESUBMITTED)


class RelayedCall(Base):
    """One call the relayer sent and a block included (see the module docstring)."""

    __tablename__ = "relayed_calls"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    contract: Mapped[str] = mapped_column(String(42), nullable=False)
    function: Mapped[str] = mapped_column(String(64), nullable=False)
    calldata: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    transaction_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    block_number: Mapped[int] = mapped_column(BigInteger, nullable=False, index=True)
    block_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    detail: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class ChainWatermark(Base):
    """The highest block (number, hash) the platform relied on, per chain id."""

    __tablename__ = "chain_watermarks"

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    block_number: Mapped[int] = mapped_column(BigInteger, nullable=False)
    block_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


@dataclass(frozen=True)
class Watermark:
    number: int
    hash: bytes


class ActJournal:
    """`relayed_calls` and `chain_watermarks` of one database, for one chain id.

    Plugged into `ChainClient.journal`: the client calls `included` when a receipt
    arrives and `durable` once the finality rule let the act be acknowledged.
    """

    def __init__(self, db: Database, chain_id: int) -> None:
        self.db = db
        self.chain_id = chain_id

    # -- the client's hooks ----------------------------------------------------------------

    def included(self, to: str, function: str, calldata: bytes, receipt: TxReceipt) -> int:
        with self.db.session() as session:
            row = RelayedCall(
                contract=to,
                function=function,
                calldata=calldata,
                transaction_hash=bytes(receipt["transactionHash"]),
                block_number=int(receipt["blockNumber"]),
                block_hash=bytes(receipt["blockHash"]),
                status=INCLUDED,
                recorded_at=datetime.now(UTC),
            )
            session.add(row)
            session.flush()
            return int(row.id)

    def durable(self, entry: int, receipt: TxReceipt) -> None:
        with self.db.session() as session:
            session.execute(
                update(RelayedCall)
                .where(RelayedCall.id == entry, RelayedCall.status == INCLUDED)
                .values(status=DURABLE)
            )
        self.raise_watermark(Watermark(int(receipt["blockNumber"]), bytes(receipt["blockHash"])))

    # -- the watermark ---------------------------------------------------------------------

    def watermark(self) -> Watermark | None:
        with self.db.session() as session:
            row = session.get(ChainWatermark, self.chain_id)
            return None if row is None else Watermark(int(row.block_number), bytes(row.block_hash))

    def raise_watermark(self, mark: Watermark) -> None:
        """Move the watermark up to `mark` (never down: see `reset_watermark`)."""
        self._set_watermark(mark, lower=False)

    def reset_watermark(self, mark: Watermark) -> None:
        """Set the watermark to `mark`, down included: after a reconciliation."""
        self._set_watermark(mark, lower=True)

    def _set_watermark(self, mark: Watermark, *, lower: bool) -> None:
        now = datetime.now(UTC)
        with self.db.session() as session:
            row = session.get(ChainWatermark, self.chain_id, with_for_update=True)
            if row is None:
                session.add(
                    ChainWatermark(
                        chain_id=self.chain_id, block_number=mark.number, block_hash=mark.hash, updated_at=now
                    )
                )
            elif lower or row.block_number < mark.number:
                row.block_number, row.block_hash, row.updated_at = mark.number, mark.hash, now

    # -- reconciliation --------------------------------------------------------------------

    def live_calls(self, from_block: int) -> list[RelayedCall]:
        """Calls believed on chain, included at `from_block` or later, in relaying order."""
        with self.db.session() as session:
            rows = session.execute(
                select(RelayedCall)
                .where(RelayedCall.block_number >= from_block, RelayedCall.status.in_(LIVE_STATUSES))
                .order_by(RelayedCall.id)
            ).scalars()
            found = list(rows)
            session.expunge_all()
            return found

    def latest_live_blocks(self, limit: int) -> list[Watermark]:
        """The distinct (number, hash) of the latest blocks holding live calls, highest first."""
        with self.db.session() as session:
            rows = session.execute(
                select(RelayedCall.block_number, RelayedCall.block_hash)
                .where(RelayedCall.status.in_(LIVE_STATUSES))
                .distinct()
                .order_by(RelayedCall.block_number.desc())
                .limit(limit)
            ).all()
        return [Watermark(int(n), bytes(h)) for n, h in rows]

    def resubmitted(self, entry: int, receipt: TxReceipt) -> None:
        self._settle(entry, RESUBMITTED, None, receipt)

    def superseded(self, entry: int, detail: str) -> None:
        self._settle(entry, SUPERSEDED, detail, None)

    def lost(self, entry: int, detail: str) -> None:
        logger.error("relayed call %d was lost by the chain and cannot be re-submitted: %s", entry, detail)
        self._settle(entry, LOST, detail, None)

    def lost_calls(self) -> list[RelayedCall]:
        """Calls the chain lost and that could not be re-submitted: for operators."""
        with self.db.session() as session:
            rows = session.execute(
                select(RelayedCall).where(RelayedCall.status == LOST).order_by(RelayedCall.id)
            )
            found = list(rows.scalars())
            session.expunge_all()
            return found

    def _settle(self, entry: int, status: str, detail: str | None, receipt: TxReceipt | None) -> None:
        values: dict[str, object] = {"status": status, "detail": detail}
        if receipt is not None:
            values |= {
                "transaction_hash": bytes(receipt["transactionHash"]),
                "block_number": int(receipt["blockNumber"]),
                "block_hash": bytes(receipt["blockHash"]),
            }
        with self.db.session() as session:
            session.execute(update(RelayedCall).where(RelayedCall.id == entry).values(**values))
