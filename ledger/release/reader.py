"""The records a batch of releases draws from: current versions, flags and opened fields.

One statement answers a whole batch: the subjects' records of the asked categories with
whether each is disputed or repaired (correlated EXISTS on the objection and repair
tables), so the release path pays one round trip per batch, not two per release. It
goes straight to the driver (`storage.driver_sql`: a third of SQLAlchemy's CPU per
statement), so it can travel in the access trail's transaction with its other first
statements (psycopg pipeline mode). The full ORM row is loaded only to open (decrypt
and check) a record version not opened before, on the reader's own session: ORM results
cannot be read from a connection in pipeline mode, and a record version, once
committed, never changes, so any connection reads the same row.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.bounded_cache import BoundedCache
from ledger.domain.cases import OPEN_OBJECTION, RepairStatus
from ledger.records.models import CreditRecord
from ledger.records.service import RecordsService
from ledger.storage import driver_sql

__all__ = ["CurrentRecord", "RecordReader"]

#: record versions kept opened in memory (immutable, so never stale)
OPENED_CACHE_SIZE = 20_000

# disputed: an objection is open; repaired: credit repair approved (`ledger.domain.cases`)
_CURRENT = (
    "SELECT r.id, r.record_id, r.version, r.subject, r.category, r.event_date, r.severity,"
    " EXISTS (SELECT 1 FROM objections o WHERE o.record_id = r.record_id AND o.status IN {open}),"
    " EXISTS (SELECT 1 FROM repair_applications a WHERE a.record_id = r.record_id"
    " AND a.status = :approved)"
    " FROM credit_records r WHERE r.subject IN {subjects} AND r.category IN {categories}"
    " ORDER BY r.record_id, r.version"
)


class _Row(NamedTuple):
    id: int
    record_id: str
    version: int
    subject: str
    category: str
    event_date: Any  # as the driver returns it
    severity: str | None
    disputed: Any
    repaired: Any


@dataclass(frozen=True)
class CurrentRecord:
    """The current version of a record, opened, with its flags."""

    record_id: str
    version: int
    subject: str
    category: str
    event_date: date
    severity: str | None
    disputed: bool  # an objection is open
    repaired: bool  # credit repair approved: never shared again
    fields: dict[str, Any]


class RecordReader:
    """Reads current records for many subjects at once, opening each version only once.

    A record version never changes (a correction is a new version), so its opened fields
    are kept in a bounded cache: later reads skip decryption and the commitment check,
    which the auditor's verifier repeats independently anyway.
    """

    def __init__(self, records: RecordsService) -> None:
        self.records = records
        self._opened: BoundedCache[tuple[str, int], dict[str, Any]] = BoundedCache(OPENED_CACHE_SIZE)
        self._openings = records.db.standing_session()  # loads versions not opened before

    def close(self) -> None:
        self._openings.close()

    def current(
        self, session: Session, subjects: Collection[str], categories: Collection[str]
    ) -> dict[str, list[CurrentRecord]]:
        """Per subject, the latest version of each of its records in `categories`."""
        open_sql, open_params = driver_sql.in_list("open", OPEN_OBJECTION)
        subjects_sql, subject_params = driver_sql.in_list("subject", sorted(subjects))
        categories_sql, category_params = driver_sql.in_list("category", sorted(categories))
        sql = _CURRENT.format(open=open_sql, subjects=subjects_sql, categories=categories_sql)
        params = {"approved": RepairStatus.APPROVED.value, **open_params, **subject_params, **category_params}
        rows = driver_sql.query(session, sql, params)
        latest: dict[str, _Row] = {}
        for row in rows:  # ordered by version: the last one per record wins
            latest[row[1]] = _Row(*row)
        opened = self._open(list(latest.values()))
        as_date = driver_sql.from_driver(session, CreditRecord.__table__.c.event_date.type)
        found: dict[str, list[CurrentRecord]] = {}
        for row in latest.values():
            found.setdefault(row.subject, []).append(
                CurrentRecord(
                    row.record_id, row.version, row.subject, row.category, as_date(row.event_date),
                    row.severity, bool(row.disputed), bool(row.repaired),
                    opened[(row.record_id, row.version)],
                )
            )  # fmt: skip
        return found

    def _open(self, rows: list[_Row]) -> dict[tuple[str, int], dict[str, Any]]:
        opened: dict[tuple[str, int], dict[str, Any]] = {}
        missing: list[int] = []
        for row in rows:
            key = (row.record_id, row.version)
            fields = self._opened.get(key)
            if fields is None:
                missing.append(row.id)
            else:
                opened[key] = fields
        if missing:
            with self._openings.use() as session:
                for record in session.scalars(select(CreditRecord).where(CreditRecord.id.in_(missing))):
                    key = (record.record_id, record.version)
                    opened[key] = self.records.open_row(record).fields  # checks it against its commitment
                    self._opened.put(key, opened[key])
        return opened
