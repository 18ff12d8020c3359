"""MLPS level-3 audit records: every authenticated act and every refusal, with its outcome."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from ledger.storage.database import Database
from ledger.storage.models import AuditEvent


def record(db: Database, *, actor: str | None, event: str, outcome: str, detail: str | None = None) -> None:
    with db.session() as session:
        session.add(
            AuditEvent(at=datetime.now(UTC), actor=actor, event=event, outcome=outcome, detail=detail)
        )


def recent(db: Database, limit: int = 100, actor: str | None = None) -> list[AuditEvent]:
    with db.session() as session:
        query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
        if actor is not None:
            query = query.where(AuditEvent.actor == actor)
        return list(session.scalars(query))
