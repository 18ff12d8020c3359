"""Tables of the self-service workflows (migration 0004).

The credit-record log is the authority on what happened (every state change below is a
leaf of it); these rows are the current state, so the release path can ask "disputed?
repaired?" with one indexed query, and listings need no log scan.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, DateTime, Dialect, Index, Integer, String, Text, TypeDecorator
from sqlalchemy.orm import Mapped, mapped_column

from ledger.storage.models import Base

__all__ = [
    "CalendarDay",
    "CaseColumns",
    "HashList",
    "Notice",
    "Objection",
    "RepairApplication",
    "SelfDeclaration",
    "case_indexes",
]

_ID = BigInteger().with_variant(Integer, "sqlite")


class HashList(TypeDecorator[list[str]]):
    """A list of 0x hashes, stored as its JSON text (the columns are TEXT)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: list[str] | None, dialect: Dialect) -> str | None:
        return None if value is None else json.dumps(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> list[str] | None:
        return None if value is None else list(json.loads(value))


class CaseColumns(Base):
    """The columns of every case table (`ledger.selfservice.cases`): the record version the
    case is about, who filed it, its state and the deadline of its current stage, its
    escalation and decision, and its leaves in the credit-record log."""

    __abstract__ = True  # no table of its own: each kind's table has these columns

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(36), nullable=False)
    record_version: Mapped[int] = mapped_column(Integer, nullable=False)
    subject: Mapped[str] = mapped_column(String(18), nullable=False)
    enterprise: Mapped[str] = mapped_column(String(42), nullable=False)  # the account that filed
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    filed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    filed_on: Mapped[date] = mapped_column(Date, nullable=False)
    due_on: Mapped[date] = mapped_column(Date, nullable=False)  # of the current stage
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(42))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_reasons: Mapped[str | None] = mapped_column(Text)
    log_seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    decision_log_seq: Mapped[int | None] = mapped_column(BigInteger)


def case_indexes(table: str) -> tuple[Index, ...]:
    """The indexes every case table has: a record's cases by state, an enterprise's by filing,
    the overdue by state and deadline."""
    return (
        Index(f"ix_{table}_record", "record_id", "status"),
        Index(f"ix_{table}_subject", "subject", "filed_at"),
        Index(f"ix_{table}_status_due", "status", "due_on"),
    )


class Objection(CaseColumns):
    """An enterprise's objection (异议) to one record version, and how it was decided.

    States: open (with the platform), forwarded (with the provider), corrected, upheld,
    withdrawn; `due_on` stays within `outer_due_on`.
    """

    __tablename__ = "objections"
    __table_args__ = (*case_indexes("objections"), Index("ix_objections_provider", "provider", "status"))

    provider: Mapped[str] = mapped_column(String(42), nullable=False)  # the record's provider
    reasons: Mapped[str] = mapped_column(Text, nullable=False)
    evidence: Mapped[list[str]] = mapped_column(HashList, nullable=False)
    forward_by: Mapped[date] = mapped_column(Date, nullable=False)
    outer_due_on: Mapped[date] = mapped_column(Date, nullable=False)
    forwarded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    corrected_version: Mapped[int | None] = mapped_column(Integer)


class RepairApplication(CaseColumns):
    """An application for credit repair (信用修复) of one dishonesty record.

    States: pending, approved, rejected.
    """

    __tablename__ = "repair_applications"
    __table_args__ = case_indexes("repair_applications")

    category: Mapped[str] = mapped_column(String(64), nullable=False)
    severity: Mapped[str] = mapped_column(String(16), nullable=False)
    commitment_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    proofs: Mapped[list[str]] = mapped_column(HashList, nullable=False)
    statement: Mapped[str | None] = mapped_column(Text)


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
