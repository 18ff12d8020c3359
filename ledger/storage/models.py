"""Tables of the platform database.

The chain is the authority on who may do what; the database keeps what must not be
public (records, the access trail's entries) and what makes requests safe to accept
(nonces seen), plus the MLPS audit records.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class RequestNonce(Base):
    """A signed API request's nonce, kept so that a replay is refused by every worker."""

    __tablename__ = "request_nonces"
    __table_args__ = (UniqueConstraint("signer", "nonce", name="uq_request_nonce"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    signer: Mapped[str] = mapped_column(String(42), nullable=False)
    nonce: Mapped[str] = mapped_column(String(80), nullable=False)
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)


class AuditEvent(Base):
    """One MLPS level-3 audit record: when, who, what, outcome (GB/T 22239-2019)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)
    actor: Mapped[str | None] = mapped_column(String(42), index=True)
    event: Mapped[str] = mapped_column(String(64), nullable=False)
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)
    detail: Mapped[str | None] = mapped_column(Text)
