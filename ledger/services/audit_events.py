"""MLPS level-3 audit records: every authenticated act and every refusal, with its outcome."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import select

from ledger.storage.database import Database
from ledger.storage.models import AuditEvent


def record(db: Database, *, actor: str | None, event: str, outcome: str, detail: str | None = None) -> None:
    record_all(db, [(actor, event, outcome, detail)])


def record_all(db: Database, events: Iterable[tuple[str | None, str, str, str | None]]) -> None:
    """Record (actor, event, outcome, detail) tuples in one transaction (a batch's refusals)."""
    now = datetime.now(UTC)
    with db.session() as session:
        session.add_all(
            AuditEvent(at=now, actor=actor, event=event, outcome=outcome, detail=detail)
            for actor, event, outcome, detail in events
        )


def recent(db: Database, limit: int = 100, actor: str | None = None) -> list[AuditEvent]:
    with db.session() as session:
        query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
        if actor is not None:
            query = query.where(AuditEvent.actor == actor)
        return list(session.scalars(query))
