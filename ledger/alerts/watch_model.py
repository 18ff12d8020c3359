"""The tables of watches, operators' evasion flags and the gate's clearances (migration 0011).

- `alert_watches`: an institution watches a subject's categories under one of its
  agreements, for post-loan management; ended, never deleted (an ended watch yields nothing).
- `evasion_flags`: an operator's signed flag of malicious debt evasion (恶意逃废债) on a
  subject; each flag is the state change its alerts are enqueued with.
- `alert_clearances`: the access-trail entry the gate appended for an alert, written in
  the trail's transaction, so asking the gate again (a sender that crashed before storing
  the clearance) returns the same entry instead of logging the alert twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ledger.storage.models import Base

__all__ = ["AlertClearance", "EvasionFlag", "Watch"]


class Watch(Base):
    __tablename__ = "alert_watches"
    __table_args__ = (
        Index("ix_alert_watches_subject", "subject", "ended_at"),
        Index("ix_alert_watches_institution", "institution", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    institution: Mapped[str] = mapped_column(String(42), nullable=False)
    subject: Mapped[str] = mapped_column(String(18), nullable=False)
    #: JSON list of catalogue category names, in catalogue order
    categories: Mapped[str] = mapped_column(Text, nullable=False)
    #: the same as the on-chain bit mask, decimal
    category_mask: Mapped[str] = mapped_column(String(80), nullable=False)
    agreement_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    #: the purpose bit alerts are authorized for (post-loan management)
    purpose_bit: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    #: the block the chain allowed the watch at, and the grant that covered it (0: public)
    created_block: Mapped[int] = mapped_column(BigInteger, nullable=False)
    grant_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class EvasionFlag(Base):
    __tablename__ = "evasion_flags"
    __table_args__ = (Index("ix_evasion_flags_subject", "subject", "flagged_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    subject: Mapped[str] = mapped_column(String(18), nullable=False)
    operator: Mapped[str] = mapped_column(String(42), nullable=False)
    reference: Mapped[str] = mapped_column(String(200), nullable=False)
    flagged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    alerts: Mapped[int] = mapped_column(Integer, nullable=False)


class AlertClearance(Base):
    __tablename__ = "alert_clearances"

    alert_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    trail_seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    block: Mapped[int] = mapped_column(BigInteger, nullable=False)
