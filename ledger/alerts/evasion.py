"""Malicious debt evasion (恶意逃废债) flagged by an operator: joint action through alerts.

An operator's signed request flags a subject with a reference (the decision or case it
rests on); the flag and the alerts to every institution told about the subject
(`ledger.alerts.triggers.recipients`) are written in one transaction. The alerts go
through the delivery gate like any other: within the consent rules, each authorized on
chain at its own block B and logged in the access trail.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from pydantic import Field

from ledger.alerts.triggers import AlertTriggers
from ledger.alerts.watch_model import EvasionFlag
from ledger.domain.identifiers import validate_uscc
from ledger.errors import InvalidInput
from ledger.services import audit_events
from ledger.storage.database import Database

__all__ = ["EvasionFlagView", "EvasionService"]


class EvasionFlagInvalid(InvalidInput):
    code = "evasion_flag_invalid"


@dataclass(frozen=True)
class EvasionFlagView:
    id: Annotated[str, Field(description="the flag's id")]
    subject: Annotated[str, Field(description="the flagged enterprise's 统一社会信用代码")]
    operator: Annotated[str, Field(description="the operator who flagged it")]
    reference: Annotated[str, Field(description="the decision or case the flag rests on")]
    flagged_at: Annotated[str, Field(description="when (ISO 8601, UTC)")]
    alerts: Annotated[int, Field(description="alerts enqueued with the flag, one per institution told")]


class EvasionService:
    def __init__(self, db: Database, *, triggers: AlertTriggers) -> None:
        self.db = db
        self.triggers = triggers

    def flag(self, operator: str, subject: str, reference: str) -> EvasionFlagView:
        """Record the flag and enqueue its alerts together (the caller checked the operator role)."""
        canonical = validate_uscc(subject, field="subject").code
        if canonical != subject:
            raise EvasionFlagInvalid(f"subject must be the canonical 统一社会信用代码 {canonical!r}")
        reference = reference.strip()
        if not 1 <= len(reference) <= 200:
            raise EvasionFlagInvalid("reference: 1 to 200 characters naming the decision or case")
        now = datetime.now(UTC)
        with self.db.session() as session:
            alerts = self.triggers.on_evasion_flag(session, subject)
            row = EvasionFlag(
                id=f"flag_{uuid.uuid4().hex}",
                subject=subject,
                operator=operator,
                reference=reference,
                flagged_at=now,
                alerts=len(alerts),
            )
            session.add(row)
            session.add(
                audit_events.row(
                    now,
                    operator,
                    "evasion.flag",
                    "accepted",
                    f"{row.id} subject={subject} alerts={len(alerts)}",
                )
            )
        return EvasionFlagView(row.id, subject, operator, reference, now.isoformat(), len(alerts))
