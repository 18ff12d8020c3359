"""The table of institutions' webhook endpoints (one per institution).

A row exists only for an endpoint that passed the verification handshake
(`ledger.alerts.endpoints`). `secret` signs every message; during a rotation the
`previous_secret` signs too until `previous_until_ms`, so the receiver can switch keys
without losing a message (Standard Webhooks: several space-separated signatures). Both
are stored sealed under the records' keyring (`ledger.alerts.secret_seal`).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ledger.storage.models import Base

__all__ = ["ACTIVE", "DISABLED", "AlertEndpoint"]

ACTIVE = "active"
DISABLED = "disabled"  # a 410 Gone, or the institution removed it


class AlertEndpoint(Base):
    __tablename__ = "alert_endpoints"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    institution: Mapped[str] = mapped_column(String(42), nullable=False, unique=True)
    url: Mapped[str] = mapped_column(Text, nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    reason: Mapped[str | None] = mapped_column(String(200))
    #: sealed at rest (`ledger.alerts.secret_seal`, migration 0013)
    secret: Mapped[str] = mapped_column(Text, nullable=False)
    previous_secret: Mapped[str | None] = mapped_column(Text)
    previous_until_ms: Mapped[int | None] = mapped_column(BigInteger)
    created_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
    updated_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
