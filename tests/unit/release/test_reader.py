"""The record reader on SQLite: the current version of each record asked for, with its flags.

One read serves a batch: only the subjects and categories asked for, the latest version
of each record, whether an objection is open (disputed) or a repair approved (repaired),
and the fields opened once per version (a version never changes).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from ledger.records.models import CreditRecord
from ledger.records.samples import sample_uscc
from ledger.release.reader import CurrentRecord, RecordReader
from ledger.selfservice.models import Objection, RepairApplication
from ledger.storage.database import Database

ACME, OTHER, THIRD = sample_uscc(0), sample_uscc(1), sample_uscc(2)
_seq = itertools.count()
AT = datetime(2027, 1, 1, tzinfo=UTC)


class FakeRecords:
    """`RecordsService` as the reader uses it: its database, and opening a stored version."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.opened: list[tuple[str, int]] = []

    def open_row(self, row: CreditRecord) -> SimpleNamespace:
        self.opened.append((row.record_id, row.version))
        return SimpleNamespace(fields={"record": row.record_id, "version": row.version})


def add_record(
    db: Database,
    record_id: str,
    subject: str = ACME,
    category: str = "tax",
    *,
    version: int = 1,
    event_date: date = date(2026, 3, 1),
    severity: str | None = None,
    public_fields: str = "{}",
) -> None:
    n = next(_seq)
    with db.session() as session:
        session.add(
            CreditRecord(
                record_id=record_id, version=version, provider="0x" + "aa" * 20, source_ref=f"ref-{n}",
                category=category, subject=subject, event_date=event_date, severity=severity,
                catalogue_version=1, public_fields=public_fields, sealed=b"", key_id="k",
                content_mac=bytes(32), commitment=bytes(32), log_seq=n, leaf_hash=bytes(32), created_at=AT,
            )
        )  # fmt: skip


def add_objection(db: Database, record_id: str, status: str) -> None:
    n = next(_seq)
    with db.session() as session:
        session.add(
            Objection(
                id=f"objection-{n}", record_id=record_id, record_version=1, subject=ACME,
                enterprise="0x" + "ee" * 20, provider="0x" + "aa" * 20, reasons="wrong", evidence="[]",
                status=status, filed_at=AT, filed_on=AT.date(), forward_by=AT.date(), due_on=AT.date(),
                outer_due_on=AT.date(), log_seq=n,
            )
        )  # fmt: skip


def add_repair(db: Database, record_id: str, status: str) -> None:
    n = next(_seq)
    with db.session() as session:
        session.add(
            RepairApplication(
                id=f"repair-{n}", record_id=record_id, record_version=1, subject=ACME,
                enterprise="0x" + "ee" * 20, category="tax", severity="minor", commitment_id=1, proofs="[]",
                status=status, filed_at=AT, filed_on=AT.date(), due_on=AT.date(), log_seq=n,
            )
        )  # fmt: skip


@pytest.fixture
def records(sqlite_db: Database) -> FakeRecords:
    return FakeRecords(sqlite_db)


@pytest.fixture
def reader(records: FakeRecords) -> Iterator[RecordReader]:
    found = RecordReader(records)  # type: ignore[arg-type]
    yield found
    found.close()


def read(reader: RecordReader, db: Database, subjects: list[str], categories: list[str]) -> dict[str, Any]:
    with db.autocommit_session() as session:
        return reader.current(session, subjects, categories)


def test_the_latest_version_of_each_record_of_the_asked_subjects_and_categories(
    reader: RecordReader, sqlite_db: Database
) -> None:
    add_record(sqlite_db, "r1", version=1)
    add_record(sqlite_db, "r1", version=3, event_date=date(2026, 5, 2), severity="serious")
    add_record(sqlite_db, "r1", version=2)
    add_record(sqlite_db, "r2", category="court")
    add_record(sqlite_db, "r3", OTHER, "tax", version=1)
    add_record(sqlite_db, "r4", OTHER, "registration")  # a category not asked for
    add_record(sqlite_db, "r5", THIRD, "tax")  # a subject not asked for
    found = read(reader, sqlite_db, [OTHER, ACME], ["tax", "court"])
    assert found == {
        ACME: [
            CurrentRecord(
                "r1",
                3,
                ACME,
                "tax",
                date(2026, 5, 2),
                "serious",
                False,
                False,
                {"record": "r1", "version": 3},
            ),
            CurrentRecord(
                "r2", 1, ACME, "court", date(2026, 3, 1), None, False, False, {"record": "r2", "version": 1}
            ),
        ],
        OTHER: [
            CurrentRecord(
                "r3", 1, OTHER, "tax", date(2026, 3, 1), None, False, False, {"record": "r3", "version": 1}
            ),
        ],
    }
    assert type(found[ACME][0].event_date) is date
    assert read(reader, sqlite_db, [THIRD], ["court"]) == {}


def test_disputed_while_an_objection_is_open_and_repaired_once_a_repair_is_approved(
    reader: RecordReader, sqlite_db: Database
) -> None:
    for record_id in ("open", "forwarded", "decided", "approved", "pending", "plain"):
        add_record(sqlite_db, record_id)
    add_objection(sqlite_db, "open", "open")
    add_objection(sqlite_db, "forwarded", "forwarded")
    add_objection(sqlite_db, "decided", "upheld")
    add_repair(sqlite_db, "approved", "approved")
    add_repair(sqlite_db, "pending", "pending")
    flags = {r.record_id: (r.disputed, r.repaired) for r in read(reader, sqlite_db, [ACME], ["tax"])[ACME]}
    assert flags == {
        "open": (True, False),
        "forwarded": (True, False),
        "decided": (False, False),
        "approved": (False, True),
        "pending": (False, False),
        "plain": (False, False),
    }
    assert all(type(d) is bool and type(r) is bool for d, r in flags.values())


def test_each_version_is_opened_once(reader: RecordReader, records: FakeRecords, sqlite_db: Database) -> None:
    add_record(sqlite_db, "r1")
    add_record(sqlite_db, "r2")
    first = read(reader, sqlite_db, [ACME], ["tax"])
    assert sorted(records.opened) == [("r1", 1), ("r2", 1)]
    add_record(sqlite_db, "r2", version=2)  # a correction: a new version, opened once too
    again = read(reader, sqlite_db, [ACME], ["tax"])
    assert sorted(records.opened) == [("r1", 1), ("r2", 1), ("r2", 2)]
    assert again[ACME][0] == first[ACME][0]
    assert again[ACME][1].fields == {"record": "r2", "version": 2}
    read(reader, sqlite_db, [ACME], ["tax"])
    assert len(records.opened) == 3
