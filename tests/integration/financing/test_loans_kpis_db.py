"""Loan reporting and the KPIs on real SQLite and PostgreSQL (chain and applications faked here;
`test_loans_api.py` runs them on anvil through the API).

Reports: idempotent (same key, same content: the same answer; other content: 409, nothing
stored), corrections as versions, refusals named, recorded, nothing stored. KPIs: figures
checked by hand on a small book, the database's aggregates checked against the snapshot's
independent recomputation on a synthetic one, and a changed loan amount caught.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from ledger.chain.membership import Role
from ledger.errors import Unavailable
from ledger.financing.kpi_snapshot import check_export, export_document, report_csv, snapshot_hash
from ledger.financing.kpis import KpiFilter, KpiService
from ledger.financing.loan_models import LoanReportRow, LoanRow
from ledger.financing.loan_report import InvalidLoanReport
from ledger.financing.loans import (
    AgreementNotActive,
    IdempotencyKeyReused,
    LoanNotApproved,
    LoanReports,
    LoanSubjectChanged,
    NoApplication,
)
from ledger.financing.samples import loan_rows, record_rows
from ledger.records.models import CreditRecord
from ledger.records.samples import sample_uscc
from ledger.services import audit_events
from ledger.storage.bulk import bulk_insert
from ledger.storage.database import Database

BANK = "0x" + "b1" * 20
OTHER_BANK = "0x" + "b2" * 20
PROVIDER = "0x" + "a1" * 20
A, B, C = sample_uscc(1), sample_uscc(2), sample_uscc(3)


class FakeAgreements:
    """Agreement 1 is BANK's and active; every other is not."""

    def active_block(self, agreement_id: int, institution: str) -> int:
        if agreement_id != 1 or institution != BANK:
            raise AgreementNotActive(f"agreement {agreement_id} is not active")
        return 42


class FakeApplications:
    def __init__(self, *pairs: tuple[str, str]) -> None:
        self.pairs = set(pairs)

    def holds_application(self, institution: str, subject: str) -> bool:
        return (institution, subject) in self.pairs


@pytest.fixture
def loans(database: Database) -> LoanReports:
    return LoanReports(
        database, agreements=FakeAgreements(), applications=FakeApplications((BANK, A), (BANK, B), (BANK, C))
    )


def decision(key: str, ref: str, subject: str = A, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "idempotency_key": key, "loan_ref": ref, "kind": "decision", "subject": subject, "agreement_id": 1,
        "outcome": "approved", "amount": "500000.00", "annual_rate": "4.00", "term_months": 12,
        "applied_on": "2026-11-02", "decided_on": "2026-11-06", "guarantee": "credit", "first_loan": True,
        "industry": "C",
    }  # fmt: skip
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


def repayment(key: str, ref: str, days: int, as_of: str = "2027-01-31", subject: str = A) -> dict[str, Any]:
    return {
        "idempotency_key": key, "loan_ref": ref, "kind": "repayment", "subject": subject, "agreement_id": 1,
        "as_of": as_of, "days_overdue": days,
    }  # fmt: skip


def stored(db: Database) -> tuple[int, int]:
    with db.session() as s:
        return (
            int(s.scalar(select(func.count()).select_from(LoanReportRow)) or 0),
            int(s.scalar(select(func.count()).select_from(LoanRow)) or 0),
        )


# -- reports ---------------------------------------------------------------------------------


def test_same_key_same_content_is_the_same_answer(loans: LoanReports, database: Database) -> None:
    first = loans.report(BANK, json.dumps(decision("k1", "L1")).encode())
    again = loans.report(BANK, json.dumps(decision("k1", "L1")).encode())
    assert first.version == again.version == 1 and not first.replayed and again.replayed
    assert (first.content_hash, first.received_at, first.block) == (
        again.content_hash,
        again.received_at,
        again.block,
    )
    assert stored(database) == (1, 1)


def test_same_key_other_content_is_refused_and_nothing_stored(loans: LoanReports, database: Database) -> None:
    loans.report(BANK, decision("k1", "L1"))
    with pytest.raises(IdempotencyKeyReused) as info:
        loans.report(BANK, decision("k1", "L1", amount="500000.01"))
    assert info.value.code == "idempotency_key_reused"
    assert stored(database) == (1, 1)
    # the 409 is recorded by the HTTP edge (test_loans_api), not a second time here
    assert [e.outcome for e in audit_events.recent(database, 10, actor=BANK)] == ["accepted"]


def test_a_correction_is_a_new_version_and_the_loan_takes_it(loans: LoanReports, database: Database) -> None:
    loans.report(BANK, decision("k1", "L1"))
    second = loans.report(BANK, decision("k2", "L1", amount="450000"))
    assert second.version == 2
    with database.session() as s:
        loan = s.scalars(select(LoanRow)).one()
        assert (loan.amount_fen, loan.decision_version) == (45_000_000, 2)
    versions = loans.versions(BANK, "L1")
    assert [v["content"]["amount"] for v in versions] == ["500000.00", "450000.00"]
    with pytest.raises(LoanSubjectChanged):
        loans.report(BANK, decision("k3", "L1", subject=B))
    assert stored(database) == (2, 1)
    loans.report(BANK, decision("k4", "L2", subject=B))
    recent = loans.recent(BANK, limit=2)  # the institution's latest, any loan, newest first
    assert [(r["loan_ref"], r["version"], r["content"]["amount"]) for r in recent] == [
        ("L2", 1, "500000.00"),
        ("L1", 2, "450000.00"),
    ]
    assert loans.recent(OTHER_BANK) == []


def test_repayment_status_needs_an_approved_decision(loans: LoanReports, database: Database) -> None:
    with pytest.raises(LoanNotApproved):
        loans.report(BANK, repayment("r1", "L1", 0))
    loans.report(BANK, decision("k1", "L1"))
    assert loans.report(BANK, repayment("r1", "L1", 0)).version == 1
    assert loans.report(BANK, repayment("r2", "L1", 31)).version == 2
    with database.session() as s:
        assert s.scalars(select(LoanRow.days_overdue)).one() == 31
    loans.report(BANK, decision("k2", "L2", outcome="declined", annual_rate=..., term_months=...))
    with pytest.raises(LoanNotApproved):
        loans.report(BANK, repayment("r3", "L2", 0))


@pytest.mark.parametrize(
    ("institution", "body", "error", "code"),
    [
        (BANK, decision("k1", "L1", agreement_id=2), AgreementNotActive, "agreement_not_active"),
        (OTHER_BANK, decision("k1", "L1"), AgreementNotActive, "agreement_not_active"),
        (BANK, decision("k1", "L1", subject=sample_uscc(9)), NoApplication, "no_application"),
        (BANK, decision("k1", "L1", amount="1.001"), InvalidLoanReport, "invalid_loan_report"),
    ],
)
def test_refusals_are_named_and_store_nothing(
    loans: LoanReports, database: Database, institution: str, body: dict[str, Any], error: type, code: str
) -> None:
    with pytest.raises(error) as info:
        loans.report(institution, body)
    assert info.value.code == code
    assert stored(database) == (0, 0)
    # answered 4xx: recorded once, by the HTTP edge (test_refusals_recorded_once), not here
    assert audit_events.recent(database, 1, actor=institution) == []


def test_a_defect_refuses_as_unavailable(database: Database) -> None:
    class Broken:
        def holds_application(self, institution: str, subject: str) -> bool:
            raise RuntimeError("boom")

    service = LoanReports(database, agreements=FakeAgreements(), applications=Broken())
    with pytest.raises(Unavailable):
        service.report(BANK, decision("k1", "L1"))
    assert stored(database) == (0, 0)
    # a 503, which the edge does not record: recorded here
    (refusal,) = audit_events.recent(database, 10, actor=BANK)
    assert (refusal.event, refusal.outcome) == ("loan.report", "refused") and "boom" in (refusal.detail or "")


# -- KPIs ------------------------------------------------------------------------------------


def seed_records(db: Database, rows: list[tuple[str, ...]]) -> None:
    """(subject, category, received_at ISO, event date ISO[, public fields JSON]) first versions."""
    base = next(record_rows(1, enterprises=1, providers=[PROVIDER]))
    with db.session() as s:
        bulk_insert(
            s,
            CreditRecord.__table__,  # type: ignore[arg-type]
            [
                {
                    **base,
                    "record_id": f"R{n}",
                    "source_ref": f"S{n}",
                    "log_seq": n,
                    "subject": subject,
                    "category": category,
                    "created_at": datetime.fromisoformat(received).replace(tzinfo=UTC),
                    "event_date": date.fromisoformat(event),
                    "public_fields": public[0] if public else "{}",
                }
                for n, (subject, category, received, event, *public) in enumerate(rows)
            ],
        )


@pytest.fixture
def book(loans: LoanReports, database: Database) -> KpiService:
    seed_records(
        database,
        [
            (A, "tax", "2026-10-20T10:00:00", "2026-10-19"),  # October, timely
            (A, "registration", "2026-11-03T23:59:00", "2026-10-01", '{"industry": "C39"}'),  # late; v2
            (B, "tax", "2026-11-10T00:00:00", "2026-11-10"),  # timely
            (C, "tax", "2026-11-30T23:59:59", "2026-11-25"),  # timely (5 days)
        ],
    )
    loans.report(BANK, decision("k1", "LA", A))  # credit, first, 500,000 at 4 %, 4 days
    loans.report(
        BANK,
        decision("k2", "LB", B, amount="300000.00", annual_rate="5.00", guarantee="secured", first_loan=False,
                 industry="F", applied_on="2026-11-01", decided_on="2026-11-11"),
    )  # fmt: skip
    loans.report(
        BANK,
        decision("k3", "LC", C, outcome="declined", amount=..., annual_rate=..., term_months=...,
                 decided_on="2026-12-01"),
    )  # fmt: skip
    return KpiService(database, market_entities=1000, timely_days=7)


def test_the_figures_of_a_small_book(book: KpiService) -> None:
    r = book.report(KpiFilter())
    assert r["records"]["collected"] == 4 and r["records"]["timely"] == 3
    assert r["records"]["timely_share"] == "0.7500"
    assert [(x["key"], x["collected"], x["timely"]) for x in r["records"]["by_month"]] == [
        ("2026-10", 1, 1),
        ("2026-11", 3, 2),
    ]
    # A's registration names its industry (C39: section C); B's and C's industry is unknown
    assert r["enterprises"] == {
        "onboarded": 3, "market_entities": 1000, "onboarded_share": "0.0030", "with_loan": 2,
        "with_loan_share": "0.6667",
        "by_industry": [
            {"key": "C", "onboarded": 1, "with_loan": 1, "with_loan_share": "1.0000"},
            {"key": None, "onboarded": 2, "with_loan": 1, "with_loan_share": "0.5000"},
        ],
    }  # fmt: skip
    assert [(x["key"], x["collected"]) for x in r["records"]["by_industry"]] == [("C", 2), (None, 2)]
    loans = r["loans"]
    assert (loans["decisions"], loans["approved"], loans["declined"]) == (3, 2, 1)
    assert loans["volume_fen"] == 80_000_000 and loans["credit_loans"] == 1
    assert loans["credit_volume_fen"] == 50_000_000 and loans["first_time_borrowers"] == 1
    assert loans["average_rate_percent"] == "4.5000"
    assert loans["average_decision_days"] == "14.33"  # (4 + 10 + 29) / 3
    assert [x["key"] for x in loans["by_month"]] == ["2026-11", "2026-12"]
    assert [(x["key"], x["approved"]) for x in loans["by_industry"]] == [("C", 1), ("F", 1)]


def test_a_month_counts_its_flows_and_the_stocks_at_its_end(book: KpiService) -> None:
    october = book.report(KpiFilter(month="2026-10"))
    assert october["records"]["collected"] == 1 and october["enterprises"]["onboarded"] == 1
    assert october["enterprises"]["with_loan"] == 0 and october["loans"]["decisions"] == 0
    november = book.report(KpiFilter(month="2026-11"))
    assert november["records"]["collected"] == 3 and november["enterprises"]["onboarded"] == 3
    assert november["loans"]["decisions"] == 2 and november["enterprises"]["with_loan"] == 2


def test_district_and_industry_filters(book: KpiService) -> None:
    district = A[2:8]
    r = book.report(KpiFilter(district=district))
    assert r["enterprises"]["market_entities"] is None  # the setting is city-wide
    assert all(x["key"] == district for x in r["loans"]["by_district"])
    assert book.report(KpiFilter(industry="F"))["loans"]["approved"] == 1
    # records and enterprises by the enterprise's industry (its registration), loans by the loan's
    c = book.report(KpiFilter(industry="C"))
    assert c["records"]["collected"] == 2 and c["enterprises"]["onboarded"] == 1
    assert c["enterprises"]["with_loan"] == 1 and c["enterprises"]["market_entities"] is None
    assert [x["key"] for x in c["enterprises"]["by_industry"]] == ["C"]
    assert c["loans"]["approved"] == 1
    # before A's registration arrived (November), its industry was not known
    october = book.report(KpiFilter(month="2026-10"))
    assert [x["key"] for x in october["records"]["by_industry"]] == [None]


def test_csv_has_one_line_per_figure(book: KpiService) -> None:
    text = report_csv(book.report(KpiFilter()))
    lines = text.splitlines()
    assert lines[0] == "section,breakdown,key,figure,value"
    assert "loans,total,,volume_fen,80000000" in lines
    assert "records,month,2026-11,collected,3" in lines


def test_the_snapshot_recomputes_and_a_changed_amount_fails(book: KpiService) -> None:
    raw = export_document(book, "2026-11")
    anchored = snapshot_hash(raw)
    assert check_export(raw, anchored).ok
    document = json.loads(raw)
    amount = document["inputs"]["loans"]["columns"].index("amount_fen")
    row = next(r for r in document["inputs"]["loans"]["rows"] if r[amount])
    row[amount] += 100
    tampered = check_export(json.dumps(document).encode(), anchored)
    assert not tampered.hash_matches and not tampered.figures_match
    assert any("volume_fen" in d for d in tampered.differences)


@pytest.fixture
def synthetic_book(database: Database) -> Iterator[KpiService]:
    providers = ["0x" + f"{n:02x}" * 20 for n in range(1, 6)]
    with database.session() as s:
        bulk_insert(s, CreditRecord.__table__, list(record_rows(3_000, enterprises=400, providers=providers)))  # type: ignore[arg-type]
        bulk_insert(
            s, LoanRow.__table__, list(loan_rows(600, enterprises=500, institutions=[BANK, OTHER_BANK]))
        )  # type: ignore[arg-type]
    yield KpiService(database, market_entities=5000, timely_days=7)


@pytest.mark.parametrize("month", ["2026-03", "2026-11"])
def test_the_database_and_the_recomputation_agree_on_a_synthetic_book(
    synthetic_book: KpiService, month: str
) -> None:
    check = check_export(export_document(synthetic_book, month), None)
    assert check.figures_match, check.differences
    figures = json.loads(export_document(synthetic_book, month))["figures"]
    assert figures["loans"]["decisions"] > 0 and figures["records"]["collected"] > 0


def test_small_cells_are_suppressed_for_members_but_operators_and_auditors(book: KpiService) -> None:
    # three enterprises decided on: the total stands; every industry and month rests on one or two
    public = book.report_for(Role.INSTITUTION, KpiFilter())
    loans = public["loans"]
    assert not loans["suppressed"] and loans["volume_fen"] == 80_000_000
    assert [(x["key"], x["suppressed"], x["volume_fen"]) for x in loans["by_industry"]] == [
        ("C", True, None),
        ("F", True, None),
    ]
    assert all(x["suppressed"] and x["decisions"] is None for x in loans["by_month"])
    assert public["enterprises"]["with_loan"] == 2  # three onboarded: the total stands
    assert all(x["with_loan"] is None for x in public["enterprises"]["by_industry"])
    # a filter down to one enterprise: its loan is not shown
    one = book.report_for(Role.ENTERPRISE, KpiFilter(industry="F"))
    assert one["loans"]["suppressed"] and one["loans"]["volume_fen"] is None
    for role in (Role.OPERATOR, Role.AUDITOR):
        exact = book.report_for(role, KpiFilter(industry="F"))
        assert exact["loans"]["volume_fen"] == 30_000_000 and "disclosure" not in exact
