"""An index of the access trail by subject and institution.

The trail itself is the authority (its leaves are anchored); this table, written in the
same transaction as each leaf, only lets an enterprise find the releases of its data,
and an institution its own, without scanning the whole log.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.storage.models import Base


class AccessRelease(Base):
    __tablename__ = "access_releases"
    __table_args__ = (
        Index("ix_access_releases_subject", "subject", "seq"),
        Index("ix_access_releases_institution", "institution", "seq"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    subject: Mapped[str] = mapped_column(String(18), nullable=False)
    institution: Mapped[str] = mapped_column(String(42), nullable=False)
    released_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
