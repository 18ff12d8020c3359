"""MLPS level-3 audit records: every authenticated act and every refusal, with its outcome.

Every writer goes through `record_all`, which bounds and sanitises each field before it
is stored: a field is cut to its column's cap (a marker says how much was dropped), and
NUL, control and unpaired-surrogate characters are escaped (`\\x00`, `\\u200b` …), so a
hostile value can neither grow the records without bound nor make the insert fail
(PostgreSQL refuses NUL in text) and leave no trace.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select

from ledger.storage.database import Database
from ledger.storage.models import AuditEvent

#: caps of the stored fields, in characters (actor, event and outcome are the column widths)
ACTOR_CAP = 42
EVENT_CAP = 64
OUTCOME_CAP = 16
DETAIL_CAP = 2048

#: general categories escaped: controls, format characters, surrogates, private use, unassigned
_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def _escape(ch: str) -> str:
    if ch == "\\":
        return "\\\\"
    if unicodedata.category(ch) not in _ESCAPED_CATEGORIES:
        return ch
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def bounded(value: str, cap: int) -> str:
    """`value` with control characters escaped, cut to at most `cap` characters.

    Work is proportional to `cap`, not to `value`: a 20 MiB value costs what its first
    `cap` characters cost.
    """
    escaped = "".join(_escape(ch) for ch in value[: cap + 1])
    if len(value) <= cap and len(escaped) <= cap:
        return escaped
    marker = f"…[{len(value)} chars]"
    return escaped[: max(cap - len(marker), 0)] + marker


def _optional(value: str | None, cap: int) -> str | None:
    return None if value is None else bounded(value, cap)


def row(at: datetime, actor: str | None, event: str, outcome: str, detail: str | None) -> AuditEvent:
    """One audit record with every field bounded and sanitised, for a caller's own transaction."""
    return AuditEvent(
        at=at,
        actor=_optional(actor, ACTOR_CAP),
        event=bounded(event, EVENT_CAP),
        outcome=bounded(outcome, OUTCOME_CAP),
        detail=_optional(detail, DETAIL_CAP),
    )


def record(db: Database, *, actor: str | None, event: str, outcome: str, detail: str | None = None) -> None:
    record_all(db, [(actor, event, outcome, detail)])


def record_all(db: Database, events: Iterable[tuple[str | None, str, str, str | None]]) -> None:
    """Record (actor, event, outcome, detail) tuples in one transaction (a batch's refusals)."""
    now = datetime.now(UTC)
    rows = [row(now, actor, event, outcome, detail) for actor, event, outcome, detail in events]
    with db.session() as session:
        session.add_all(rows)


def recent(db: Database, limit: int = 100, actor: str | None = None) -> list[AuditEvent]:
    with db.session() as session:
        query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
        if actor is not None:
            query = query.where(AuditEvent.actor == actor)
        return list(session.scalars(query))


@dataclass(frozen=True)
class AuditRecordsSize:
    """How much the MLPS audit records hold: rows, stored characters, oldest and newest time."""

    records: int
    refusals: int
    stored_chars: int
    oldest: datetime | None
    newest: datetime | None


def size(db: Database) -> AuditRecordsSize:
    """The size of the audit records (characters of the stored fields, a bound on their bytes/4)."""
    chars = (
        func.coalesce(func.length(AuditEvent.actor), 0)
        + func.length(AuditEvent.event)
        + func.length(AuditEvent.outcome)
        + func.coalesce(func.length(AuditEvent.detail), 0)
    )
    with db.session() as session:
        count, stored, oldest, newest = session.execute(
            select(func.count(AuditEvent.id), func.coalesce(func.sum(chars), 0), func.min(AuditEvent.at),
                   func.max(AuditEvent.at))
        ).one()  # fmt: skip
        refusals = session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.outcome == "refused"))
    return AuditRecordsSize(int(count), int(refusals or 0), int(stored), oldest, newest)


#: the shortest retention the MLPS level-3 requirement allows (six months)
MIN_RETENTION_DAYS = 183


def prune(db: Database, retention_days: int, *, now: datetime | None = None) -> int:
    """Delete audit records older than `retention_days` (never fewer than six months); the count."""
    if retention_days < MIN_RETENTION_DAYS:
        raise ValueError(f"audit records are kept at least {MIN_RETENTION_DAYS} days, not {retention_days}")
    cutoff = (now or datetime.now(UTC)) - timedelta(days=retention_days)
    with db.session() as session:
        result = session.execute(delete(AuditEvent).where(AuditEvent.at < cutoff))
        return int(result.rowcount)  # type: ignore[attr-defined]
