"""Tables of the financing services (migration 0008).

`financing_documents` keeps every published version of a public document exactly as
hashed (white lists, loan products, KPI snapshots), beside its on-chain anchor;
`white_list_entries` indexes the enterprises of each white-list version so that an
enterprise's lists are one indexed read. Demands and applications are private.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ledger.storage.models import Base


class FinancingDocumentRow(Base):
    """One anchored version of a public financing document."""

    __tablename__ = "financing_documents"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # white_list, loan_product, kpi_snapshot
    document_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    content: Mapped[str] = mapped_column(Text, nullable=False)  # RFC 8785 form, as hashed
    content_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    publisher: Mapped[str] = mapped_column(String(42), nullable=False, index=True)
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    valid_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    block_number: Mapped[int] = mapped_column(BigInteger, nullable=False)
    transaction: Mapped[str] = mapped_column(String(66), nullable=False)
    stored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class WhiteListEntryRow(Base):
    """Enterprise `uscc` is on version `version` of white list `list_key`."""

    __tablename__ = "white_list_entries"

    list_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), primary_key=True, index=True)


class DemandRow(Base):
    """An enterprise's financing demand (private to the enterprise)."""

    __tablename__ = "financing_demands"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    subject: Mapped[str] = mapped_column(String(18), nullable=False, index=True)
    enterprise: Mapped[str] = mapped_column(String(42), nullable=False)
    amount: Mapped[int] = mapped_column(BigInteger, nullable=False)  # yuan
    term_months: Mapped[int] = mapped_column(Integer, nullable=False)
    use: Mapped[str] = mapped_column(Text, nullable=False)
    collateral: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class ApplicationRow(Base):
    """An enterprise's loan application to an institution, backed by its consent grant."""

    __tablename__ = "loan_applications"
    __table_args__ = (
        Index("ix_loan_applications_institution_subject", "institution", "subject"),
        UniqueConstraint("grant_id", name="uq_loan_application_grant"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    subject: Mapped[str] = mapped_column(String(18), nullable=False, index=True)
    enterprise: Mapped[str] = mapped_column(String(42), nullable=False)
    institution: Mapped[str] = mapped_column(String(42), nullable=False)
    product_key: Mapped[str] = mapped_column(String(128), nullable=False)
    product_version: Mapped[int] = mapped_column(Integer, nullable=False)
    demand_id: Mapped[str | None] = mapped_column(String(36))
    grant_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    grant_block: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
