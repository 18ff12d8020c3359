"""Loan reporting, the KPIs and their anchored snapshot through the API, signed by each member
via the SDK, against a real anvil and SQLite/PostgreSQL.

An enterprise applies to the bank's product (finmarket's path); the bank reports its
decision under its active agreement; replays, reused keys, a report without an application
and one under another's agreement are refused by name, recorded, nothing stored. The KPIs
count the loan; an operator publishes the month's snapshot, anchored on chain; `kpi
verify` matches the file to the chain, and fails once a loan amount in it is changed. The
reported outcome becomes a cohort line that `model train --outcomes` counts.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from sqlalchemy import func, select
from typer.testing import CliRunner

from ledger.chain.publications import PublicationKind, document_id
from ledger.cli import app as cli
from ledger.evaluation.cohort_file import read_cohort
from ledger.evaluation.schema import default_indicators
from ledger.financing.kpi_snapshot import check_export
from ledger.financing.loan_models import LoanReportRow, LoanRow
from ledger.financing.outcomes import OutcomesExport
from ledger.records.samples import sample_uscc
from ledger.release.reader import RecordReader
from ledger.sdk import ApiError
from ledger.storage.models import AuditEvent
from ledger.wiring import records_service
from tests.integration.test_release import SUBJECT, World, world  # noqa: F401  (fixture)

START = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0)
DECIDED = "2025-03-12"
MONTH = DECIDED[:7]


def product() -> dict[str, Any]:
    return {
        "key": "zz-credit", "version": 1, "valid_from": START.isoformat(), "name": "科技贷",
        "product_kind": "科技贷", "amount": {"min": 100_000, "max": 3_000_000},
        "term_months": {"min": 6, "max": 36}, "annual_rate_percent": {"min": 3.45, "max": 4.35},
        "guarantee": "credit", "eligibility": [],
    }  # fmt: skip


def decision(w: World, key: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "idempotency_key": key, "loan_ref": "ZZB-1", "kind": "decision", "subject": SUBJECT,
        "agreement_id": w.agreement, "outcome": "approved", "amount": "800000.00", "annual_rate": "3.85",
        "term_months": 12, "applied_on": "2025-03-01", "decided_on": DECIDED, "guarantee": "credit",
        "first_loan": True, "industry": "I",
    }  # fmt: skip
    body.update(overrides)
    return body


def refused(call: Any, status: int, code: str) -> dict[str, Any]:
    with pytest.raises(ApiError) as info:
        call()
    assert info.value.status == status, info.value.body
    assert isinstance(info.value.body, dict) and info.value.body["error"] == code, info.value.body
    return info.value.body


def stored(w: World) -> tuple[int, int]:
    with w.platform.db.session() as s:
        return (
            int(s.scalar(select(func.count()).select_from(LoanReportRow)) or 0),
            int(s.scalar(select(func.count()).select_from(LoanRow)) or 0),
        )


@pytest.fixture
def applied(world: World) -> World:  # noqa: F811
    w = world
    w.sdk(w.bank).publish_product(product())
    expires = int(w.platform.chain.w3.eth.get_block("latest")["timestamp"]) + 86400
    w.sdk(w.enterprise).apply_for_loan(SUBJECT, "zz-credit", 1, categories=["tax"], expires_at=expires)
    return w


def test_reports_are_idempotent_and_refused_by_name(applied: World) -> None:
    w = applied
    bank, guarantor = w.sdk(w.bank), w.sdk(w.guarantor)
    first = bank.report_loan(decision(w, "k-1"))
    assert first["version"] == 1 and not first["replayed"] and first["block"] > 0
    again = bank.report_loan(decision(w, "k-1"))
    assert again == {**first, "replayed": True}
    refused(lambda: bank.report_loan(decision(w, "k-1", amount="800000.01")), 409, "idempotency_key_reused")
    assert stored(w) == (1, 1)

    # without an application with the bank, under another's agreement, malformed: nothing stored
    refused(lambda: bank.report_loan(decision(w, "k-2", subject=sample_uscc(5))), 403, "no_application")
    refused(lambda: guarantor.report_loan(decision(w, "k-3")), 403, "agreement_not_active")
    refused(lambda: bank.report_loan(decision(w, "k-4", agreement_id=999)), 403, "agreement_not_active")
    body = refused(lambda: bank.report_loan(decision(w, "k-5", industry="Z")), 422, "invalid_loan_report")
    assert body["errors"][0]["field"] == "industry"
    # only institutions report
    refused(lambda: w.sdk(w.enterprise).report_loan(decision(w, "k-6")), 403, "not_authorized")
    assert stored(w) == (1, 1)
    with w.platform.db.session() as s:
        details = s.scalars(
            select(AuditEvent.detail).where(
                AuditEvent.event == "POST /loans/reports", AuditEvent.outcome == "refused"
            )
        ).all()
    for code in ("idempotency_key_reused", "no_application", "agreement_not_active", "invalid_loan_report"):
        assert any(code in (d or "") for d in details), code

    # a correction is a version; repayment status follows
    assert bank.report_loan(decision(w, "k-7", amount="750000"))["version"] == 2
    status = {"idempotency_key": "r-1", "loan_ref": "ZZB-1", "kind": "repayment", "subject": SUBJECT,
              "agreement_id": w.agreement, "as_of": "2026-04-01", "days_overdue": 0}  # fmt: skip
    assert bank.report_loan(status)["version"] == 1
    versions = bank.loan_versions("ZZB-1")
    assert [(v["kind"], v["version"]) for v in versions] == [
        ("decision", 1),
        ("decision", 2),
        ("repayment", 1),
    ]
    refused(lambda: guarantor.loan_versions("ZZB-1"), 404, "loan_unknown")


def test_kpis_snapshot_anchored_and_verified(applied: World, tmp_path: Path) -> None:
    w = applied
    w.sdk(w.bank).report_loan(decision(w, "k-1"))
    op = w.sdk(w.operators[0])
    kpis = op.kpis()  # operators (and auditors) see the exact figures
    assert kpis["loans"]["approved"] == 1 and kpis["loans"]["volume_fen"] == 80_000_000
    assert kpis["loans"]["first_time_borrowers"] == 1 and kpis["enterprises"]["with_loan"] == 1
    assert "loans,industry,I,credit_loans,1" in op.kpis(format="csv")
    # one enterprise's loan: to anyone else, every loan figure and whether it borrowed are suppressed
    public = w.sdk(w.guarantor).kpis()
    assert public["loans"]["suppressed"] and public["loans"]["volume_fen"] is None
    assert public["loans"]["approved"] is None and public["loans"]["average_rate_percent"] is None
    assert all(row["suppressed"] and row["volume_fen"] is None for row in public["loans"]["by_industry"])
    assert public["enterprises"]["with_loan"] is None and public["enterprises"]["onboarded"] == 1
    assert public["disclosure"]["min_enterprises"] == 3
    csv = w.sdk(w.guarantor).kpis(format="csv")
    assert "loans,total,,volume_fen," in csv.splitlines() and "80000000" not in csv
    refused(lambda: w.sdk(w.bank).kpis(month="2025-13"), 422, "invalid_kpi_filter")
    refused(lambda: w.sdk(w.bank).kpi_export(MONTH), 403, "not_authorized")

    published = op.publish_kpi_snapshot(MONTH)
    anchor = published["anchor"]
    pubs = w.platform.contracts.publications
    on_chain = pubs.latest(PublicationKind.KPI_SNAPSHOT, document_id(PublicationKind.KPI_SNAPSHOT, MONTH))
    assert on_chain is not None and anchor["content_hash"] == "0x" + on_chain.content_hash.hex()
    assert published["document"]["body"]["figures"]["loans"]["volume_fen"] == 80_000_000
    assert op.publish_kpi_snapshot(MONTH)["anchor"]["version"] == 2  # a new snapshot is a new version

    # a snapshot whose figures do not recompute from its rows: refused, nothing anchored
    export = op.kpi_export(MONTH)
    export["figures"]["loans"]["volume_fen"] += 1
    from ledger.financing.documents import KpiSnapshotDocument

    forged = KpiSnapshotDocument(key=MONTH, version=3, valid_from=START, body=export)
    refused(lambda: op.send_kpi_snapshot(forged), 422, "kpi_snapshot_mismatch")
    assert (
        pubs.version_count(PublicationKind.KPI_SNAPSHOT, document_id(PublicationKind.KPI_SNAPSHOT, MONTH))
        == 2
    )

    # the snapshot holds a row per loan: operators and auditors read it, no other member
    body = refused(lambda: w.sdk(w.bank).kpi_snapshot(MONTH, version=1), 403, "not_authorized")
    assert "this needs operator or auditor" in body["detail"]
    refused(lambda: w.sdk(w.enterprise).kpi_snapshot(MONTH), 403, "not_authorized")
    # anyone with the file and a chain node: recompute, match the anchored hash
    fetched = op.kpi_snapshot(MONTH, version=1)
    raw = bytes(rfc8785.dumps(fetched["document"]))
    path = tmp_path / "kpi-2025-03.json"
    path.write_bytes(raw)
    runner = CliRunner()
    args = ["kpi", "verify", str(path), "--rpc", w.platform.chain.rpc_url,
            "--publications", w.platform.deployment.addresses.publications]  # fmt: skip
    ok = runner.invoke(cli, args)
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["ok"] and json.loads(ok.stdout)["version"] == 1

    document = json.loads(raw)
    loans = document["body"]["inputs"]["loans"]
    loans["rows"][0][loans["columns"].index("amount_fen")] += 100  # one loan amount changed
    path.write_text(json.dumps(document))
    failed = runner.invoke(cli, args)
    assert failed.exit_code == 1
    assert "not the anchored hash" in failed.output and "do not recompute" in failed.output
    assert not check_export(path.read_bytes(), on_chain.content_hash).ok


def test_reported_outcomes_become_a_cohort(applied: World, tmp_path: Path) -> None:
    w = applied
    bank = w.sdk(w.bank)
    bank.report_loan(decision(w, "k-1"))
    status = {"idempotency_key": "r-1", "loan_ref": "ZZB-1", "kind": "repayment", "subject": SUBJECT,
              "agreement_id": w.agreement, "as_of": "2026-04-01", "days_overdue": 0}  # fmt: skip
    bank.report_loan(status)
    reader = RecordReader(records_service(w.platform))
    export = OutcomesExport(
        w.platform.db,
        reader=reader,
        indicators=default_indicators(),
        default_days_overdue=90,
        window_months=12,
    )
    path = tmp_path / "outcomes.jsonl"
    with path.open("w", encoding="utf-8") as out:
        header = export.write(out, as_of=datetime.now(UTC).date())
    reader.close()
    assert header["outcomes"] == 1 and header["defaults"] == 0 and header["synthetic"] is False
    cohort = read_cohort(path)
    assert not cohort.synthetic and [(e.subject, e.default) for e in cohort.entries] == [(SUBJECT, 0)]

    # 90 days overdue later: a default
    bank.report_loan({**status, "idempotency_key": "r-2", "as_of": "2026-07-01", "days_overdue": 95})
    assert export.outcomes()[0][0].default == 1

    # one observed outcome is below the minimum: training refuses it without a synthetic fallback
    result = CliRunner().invoke(
        cli, ["model", "train", "--outcomes", str(path), "--min-outcomes", "50", "--out", str(tmp_path / "m")]
    )
    assert result.exit_code == 1 and "usable observed outcome" in result.output
