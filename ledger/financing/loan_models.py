"""Tables of loan reporting: every accepted submission, and each loan's current state.

`loan_reports` is append-only: one row per accepted submission (a decision or a repayment
status, each correction a new version), with the idempotency key it came under, the
SHA-256 of its canonical content and that content. `loans` is the current state of each
loan (the latest decision version and the latest repayment status), written in the same
transaction as the report; the KPIs aggregate it in SQL. Month, district and decision
time are stored once, at write, so that every aggregate is a plain GROUP BY on PostgreSQL
and SQLite alike.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ledger.storage.models import Base


class LoanReportRow(Base):
    """One accepted submission: a decision or a repayment status, versioned per loan and kind."""

    __tablename__ = "loan_reports"
    __table_args__ = (
        UniqueConstraint("institution", "idempotency_key", name="uq_loan_reports_key"),
        UniqueConstraint("institution", "loan_ref", "kind", "version", name="uq_loan_reports_version"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    institution: Mapped[str] = mapped_column(String(42), nullable=False)
    idempotency_key: Mapped[str] = mapped_column(String(80), nullable=False)
    loan_ref: Mapped[str] = mapped_column(String(80), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # decision | repayment
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    subject: Mapped[str] = mapped_column(String(18), nullable=False, index=True)
    agreement_id: Mapped[str] = mapped_column(String(78), nullable=False)  # uint256, decimal
    content_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)  # RFC 8785 form, as hashed
    block_number: Mapped[int] = mapped_column(BigInteger, nullable=False)  # agreement checked at
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class LoanRow(Base):
    """A loan's current state: its latest decision and latest repayment status."""

    __tablename__ = "loans"
    __table_args__ = (
        UniqueConstraint("institution", "loan_ref", name="uq_loans_ref"),
        Index("ix_loans_month", "decided_month", "district", "industry"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    institution: Mapped[str] = mapped_column(String(42), nullable=False)
    loan_ref: Mapped[str] = mapped_column(String(80), nullable=False)
    subject: Mapped[str] = mapped_column(String(18), nullable=False, index=True)
    district: Mapped[str] = mapped_column(String(6), nullable=False)  # GB/T 2260, the USCC's 3rd-8th
    industry: Mapped[str] = mapped_column(String(1), nullable=False)  # GB/T 4754-2017 section
    approved: Mapped[bool] = mapped_column(Boolean, nullable=False)
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    rate_ppm: Mapped[int | None] = mapped_column(Integer)  # annual rate, parts per million
    term_months: Mapped[int | None] = mapped_column(Integer)
    credit: Mapped[bool] = mapped_column(Boolean, nullable=False)  # 信用贷款 (no collateral, no guarantee)
    first_loan: Mapped[bool] = mapped_column(Boolean, nullable=False)  # 首贷
    applied_on: Mapped[date] = mapped_column(Date, nullable=False)
    decided_on: Mapped[date] = mapped_column(Date, nullable=False)
    decided_month: Mapped[str] = mapped_column(String(7), nullable=False)  # YYYY-MM
    decision_days: Mapped[int] = mapped_column(Integer, nullable=False)
    decision_version: Mapped[int] = mapped_column(Integer, nullable=False)
    days_overdue: Mapped[int | None] = mapped_column(Integer)
    status_as_of: Mapped[date | None] = mapped_column(Date)
    repayment_version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
