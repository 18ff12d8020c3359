"""The model documents the platform evaluates with, stored by content hash.

The chain holds each model version's hashes (`ModelRegistry`); the documents themselves -
the scorecard JSON and its card, exactly as published - are kept here, so the platform
applies exactly the document whose hash the operators approved.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ledger.storage.models import Base


class EvaluationModelRow(Base):
    __tablename__ = "evaluation_models"

    model_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    document: Mapped[str] = mapped_column(Text, nullable=False)  # RFC 8785 form, as hashed
    card_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    card: Mapped[str] = mapped_column(Text, nullable=False)  # RFC 8785 form, as hashed
    stored_by: Mapped[str] = mapped_column(String(42), nullable=False)
    stored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
