"""The portal's one table: sessions opened by a signed sign-in challenge."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.storage.models import Base


class PortalSession(Base):
    """A browser's session: what its cookie opens (read views only; acts are signed one by one).

    The cookie's token is never stored, only its SHA-256, so the table alone opens nothing.
    """

    __tablename__ = "portal_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(String(42), nullable=False, index=True)
    subject: Mapped[str | None] = mapped_column(String(18))  # an enterprise's USCC
    csrf_token: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)
