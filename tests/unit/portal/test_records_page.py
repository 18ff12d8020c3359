"""The enterprise's records page on SQLite: the right page of N records, newest event first,
the total counted by the database, and no sealed field opened for a listing."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import pytest

from ledger.chain.membership import InstitutionKind, Member, Role, Status, uscc_hash
from ledger.records.models import CreditRecord
from ledger.records.samples import sample_uscc
from ledger.selfservice.context import SelfServiceContext
from ledger.selfservice.errors import NotTheSubject
from ledger.selfservice.models import Objection
from ledger.selfservice.selfquery import SelfQueryService
from ledger.services import audit_events
from ledger.settings import Settings
from ledger.storage.database import Database
from tests.unit.release.test_reader import add_record

ACME, OTHER = sample_uscc(0), sample_uscc(1)
CALLER = "0x" + "ee" * 20
AT = datetime(2027, 1, 1, tzinfo=UTC)
_seq = itertools.count()


def enterprise(subject: str) -> Member:
    return Member(
        CALLER, Role.ENTERPRISE, Status.ACTIVE, InstitutionKind.NONE, 1, bytes(32), uscc_hash(subject)
    )


class FakeRecords:
    """`RecordsService.open_row`, counting what is opened."""

    def __init__(self) -> None:
        self.opened: list[tuple[str, int]] = []

    def open_row(self, row: CreditRecord) -> SimpleNamespace:
        self.opened.append((row.record_id, row.version))
        return SimpleNamespace(fields={"sector": "work_safety", "secret": "opened"})


@pytest.fixture
def records() -> FakeRecords:
    return FakeRecords()


@pytest.fixture
def service(sqlite_db: Database, records: FakeRecords) -> SelfQueryService:
    ctx = SelfServiceContext(
        db=sqlite_db, settings=Settings(), chain=cast(Any, None), contracts=cast(Any, None),
        records=cast(Any, records), bundles=cast(Any, None),
    )  # fmt: skip
    return SelfQueryService(ctx)


def add(db: Database, record_id: str, event_date: date, **kw: Any) -> None:
    add_record(db, record_id, kw.pop("subject", ACME), kw.pop("category", "tax"), event_date=event_date, **kw)


def test_pages_of_25_of_60_records_newest_event_first_with_the_total(
    sqlite_db: Database, service: SelfQueryService, records: FakeRecords
) -> None:
    start = date(2026, 1, 1)
    for n in range(60):
        add(sqlite_db, f"r{n:03d}", start + timedelta(days=n))
    add(sqlite_db, "r005", start + timedelta(days=100), version=2)  # a correction: its newest event counts
    for n in range(5):
        add(sqlite_db, f"other{n}", start + timedelta(days=200), subject=OTHER)  # another enterprise's
    newest_first = ["r005"] + [f"r{n:03d}" for n in range(59, -1, -1) if n != 5]

    seen: list[str] = []
    for offset in (0, 25, 50):
        page, total = service.page(CALLER, enterprise(ACME), ACME, offset, 25)
        assert total == 60
        seen += [r.record_id for r in page]
    assert seen == newest_first
    first, _ = service.page(CALLER, enterprise(ACME), ACME, 0, 25)
    assert [v.version for v in first[0].versions] == [1, 2]
    assert records.opened == []  # a listing opens no sealed field

    past, total = service.page(CALLER, enterprise(ACME), ACME, 75, 25)
    assert past == [] and total == 60
    none, total = service.page(CALLER, enterprise(OTHER), OTHER, 0, 25)
    assert total == 5 and len(none) == 5


def test_a_listed_record_shows_its_dispute_and_the_publicity_of_its_public_sector(
    sqlite_db: Database, service: SelfQueryService, records: FakeRecords
) -> None:
    add(sqlite_db, "pen", date(2026, 3, 1), category="administrative_penalty", severity="general",
        public_fields='{"sector": "general"}')  # fmt: skip
    add(
        sqlite_db, "pen2", date(2026, 3, 2), category="administrative_penalty", severity="general"
    )  # sector sealed
    with sqlite_db.session() as session:
        session.add(
            Objection(
                id="objection-1", record_id="pen", record_version=1, subject=ACME, enterprise=CALLER,
                provider="0x" + "aa" * 20, reasons="wrong", evidence="[]", status="open", filed_at=AT,
                filed_on=AT.date(), forward_by=AT.date(), due_on=AT.date(), outer_due_on=AT.date(), log_seq=1,
            )
        )  # fmt: skip
    page, total = service.page(CALLER, enterprise(ACME), ACME, 0, 25)
    assert total == 2
    by_id = {r.record_id: r for r in page}
    assert by_id["pen"].disputed and by_id["pen"].publicity is not None
    assert by_id["pen"].versions[0].fields == {"sector": "general"}
    assert records.opened == [("pen2", 1)]  # its sector is not public: opened for its window
    assert not by_id["pen2"].disputed


def test_only_the_enterprise_itself_lists_its_records_and_each_listing_is_audited(
    sqlite_db: Database, service: SelfQueryService
) -> None:
    add(sqlite_db, "r1", date(2026, 1, 1))
    with pytest.raises(NotTheSubject):
        service.page(CALLER, enterprise(OTHER), ACME, 0, 25)
    service.page(CALLER, enterprise(ACME), ACME, 0, 25)
    events = [(e.event, e.outcome) for e in audit_events.recent(sqlite_db, limit=10)]
    assert ("self.query", "refused") in events and ("self.query", "served") in events
