"""Tables of the credit records and of the catalogue versions they were validated against.

A record is never updated in place: a correction is a new row with the next version,
and every row is one leaf of the credit-record log (`log_seq`). Fields the catalogue
marks sensitive live only in `sealed` (encrypted with key `key_id`, together with the
record's salt); `public_fields` holds the rest as JSON. `content_mac` is a keyed hash of
the submitted content, so a re-submission is recognised without a guessable plain hash
of low-entropy data such as ID numbers.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ledger.storage.models import Base


class CatalogueVersionRow(Base):
    """A catalogue version as published: exact content, its hash, and the anchoring transaction.

    A row is written before the on-chain publication is sent (transaction still empty),
    so a crash in between never leaves a chain version whose content nobody holds.
    """

    __tablename__ = "catalogue_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    content_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    public_categories: Mapped[str] = mapped_column(String(80), nullable=False)  # uint256, decimal
    operator: Mapped[str] = mapped_column(String(42), nullable=False)
    transaction_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class CreditRecord(Base):
    """One version of one credit record."""

    __tablename__ = "credit_records"
    __table_args__ = (
        UniqueConstraint("provider", "source_ref", "version", name="uq_credit_record_source_version"),
        UniqueConstraint("record_id", "version", name="uq_credit_record_version"),
        UniqueConstraint("log_seq", name="uq_credit_record_log_seq"),
        Index("ix_credit_records_subject", "subject", "category"),
        # the KPIs of a month read the records received in it (ledger.financing.kpis, migration 0009)
        Index("ix_credit_records_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(36), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    provider: Mapped[str] = mapped_column(String(42), nullable=False)
    source_ref: Mapped[str] = mapped_column(String(200), nullable=False)
    category: Mapped[str] = mapped_column(String(64), nullable=False)
    subject: Mapped[str] = mapped_column(String(18), nullable=False)
    event_date: Mapped[date] = mapped_column(Date, nullable=False)
    severity: Mapped[str | None] = mapped_column(String(16))
    catalogue_version: Mapped[int] = mapped_column(Integer, nullable=False)
    public_fields: Mapped[str] = mapped_column(Text, nullable=False)
    sealed: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    key_id: Mapped[str] = mapped_column(String(64), nullable=False)
    content_mac: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    commitment: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    log_seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    warnings: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
