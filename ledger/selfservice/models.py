"""Tables of the self-service workflows (migration 0004).

The credit-record log is the authority on what happened (every state change below is a
leaf of it); these rows are the current state, so the release path can ask "disputed?
repaired?" with one indexed query, and listings need no log scan.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ledger.storage.models import Base

__all__ = ["CalendarDay", "Notice", "Objection", "RepairApplication", "SelfDeclaration"]

_ID = BigInteger().with_variant(Integer, "sqlite")


class Objection(Base):
    """An enterprise's objection (异议) to one record version, and how it was decided."""

    __tablename__ = "objections"
    __table_args__ = (
        Index("ix_objections_record", "record_id", "status"),
        Index("ix_objections_subject", "subject", "filed_at"),
        Index("ix_objections_provider", "provider", "status"),
        Index("ix_objections_status_due", "status", "due_on"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(36), nullable=False)
    record_version: Mapped[int] = mapped_column(Integer, nullable=False)
    subject: Mapped[str] = mapped_column(String(18), nullable=False)
    enterprise: Mapped[str] = mapped_column(String(42), nullable=False)  # the account that filed
    provider: Mapped[str] = mapped_column(String(42), nullable=False)  # the record's provider
    reasons: Mapped[str] = mapped_column(Text, nullable=False)
    evidence: Mapped[str] = mapped_column(Text, nullable=False)  # JSON list of 0x hashes
    status: Mapped[str] = mapped_column(
        String(16), nullable=False
    )  # open forwarded corrected upheld withdrawn
    filed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    filed_on: Mapped[date] = mapped_column(Date, nullable=False)
    forward_by: Mapped[date] = mapped_column(Date, nullable=False)
    due_on: Mapped[date] = mapped_column(Date, nullable=False)  # of the current stage, within the bound
    outer_due_on: Mapped[date] = mapped_column(Date, nullable=False)
    forwarded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(42))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_reasons: Mapped[str | None] = mapped_column(Text)
    corrected_version: Mapped[int | None] = mapped_column(Integer)
    log_seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    decision_log_seq: Mapped[int | None] = mapped_column(BigInteger)


class RepairApplication(Base):
    """An application for credit repair (信用修复) of one dishonesty record."""

    __tablename__ = "repair_applications"
    __table_args__ = (
        Index("ix_repair_applications_record", "record_id", "status"),
        Index("ix_repair_applications_subject", "subject", "filed_at"),
        Index("ix_repair_applications_status_due", "status", "due_on"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(36), nullable=False)
    record_version: Mapped[int] = mapped_column(Integer, nullable=False)
    subject: Mapped[str] = mapped_column(String(18), nullable=False)
    enterprise: Mapped[str] = mapped_column(String(42), nullable=False)
    category: Mapped[str] = mapped_column(String(64), nullable=False)
    severity: Mapped[str] = mapped_column(String(16), nullable=False)
    commitment_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    proofs: Mapped[str] = mapped_column(Text, nullable=False)  # JSON list of 0x hashes
    statement: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), nullable=False)  # pending approved rejected
    filed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    filed_on: Mapped[date] = mapped_column(Date, nullable=False)
    due_on: Mapped[date] = mapped_column(Date, nullable=False)
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(42))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_reasons: Mapped[str | None] = mapped_column(Text)
    log_seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    decision_log_seq: Mapped[int | None] = mapped_column(BigInteger)


class SelfDeclaration(Base):
    """A self-declared record version (自愿申报) and the truthfulness commitment it was made under."""

    __tablename__ = "self_declarations"

    record_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    subject: Mapped[str] = mapped_column(String(18), nullable=False, index=True)
    enterprise: Mapped[str] = mapped_column(String(42), nullable=False)
    commitment_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    log_seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class Notice(Base):
    """A notice to an enterprise: one of its objections or applications changed state."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_subject", "subject", "created_at"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    subject: Mapped[str] = mapped_column(String(18), nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    ref: Mapped[str] = mapped_column(String(36), nullable=False)  # objection or application id
    record_id: Mapped[str] = mapped_column(String(36), nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class CalendarDay(Base):
    """An exception to the Monday-Friday week, maintained by operators."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), nullable=False)  # holiday | workday
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    set_by: Mapped[str] = mapped_column(String(42), nullable=False)
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
