"""A loan report parsed: exact units, its canonical content, and every malformed field named."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ledger.financing.loan_report import InvalidLoanReport, LoanDecision, Repayment, parse_loan_report
from ledger.records.samples import sample_uscc

SUBJECT = sample_uscc(1)


def decision(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "idempotency_key": "k-1",
        "loan_ref": "L-1",
        "kind": "decision",
        "subject": SUBJECT,
        "agreement_id": 1,
        "outcome": "approved",
        "amount": "1000000.50",
        "annual_rate": "3.85",
        "term_months": 12,
        "applied_on": "2026-11-01",
        "decided_on": "2026-11-08",
        "guarantee": "credit",
        "first_loan": True,
        "industry": "C",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


def problems(body: Any) -> list[dict[str, str]]:
    with pytest.raises(InvalidLoanReport) as info:
        parse_loan_report(json.dumps(body).encode())
    assert info.value.code == "invalid_loan_report"
    return info.value.body_extra["errors"]  # type: ignore[no-any-return]


def test_amount_and_rate_are_kept_exactly_as_integers() -> None:
    parsed = parse_loan_report(json.dumps(decision()).encode())
    r = parsed.report
    assert isinstance(r, LoanDecision)
    assert r.amount_fen == 100_000_050 and r.rate_ppm == 38_500
    assert len(parsed.content_hash) == 32


def test_the_idempotency_key_is_not_content_but_every_figure_is() -> None:
    a = parse_loan_report(json.dumps(decision()).encode())
    b = parse_loan_report(json.dumps(decision(idempotency_key="k-2")).encode())
    c = parse_loan_report(json.dumps(decision(amount="1000000.51")).encode())
    assert a.content_hash == b.content_hash != c.content_hash


def test_equal_figures_written_differently_are_the_same_content() -> None:
    a = parse_loan_report(json.dumps(decision(amount="1000", annual_rate="3.5")).encode())
    b = parse_loan_report(json.dumps(decision(amount="1000.00", annual_rate="3.5000")).encode())
    assert a.content_hash == b.content_hash


def test_a_repayment_status() -> None:
    body = {
        "idempotency_key": "r-1", "loan_ref": "L-1", "kind": "repayment", "subject": SUBJECT,
        "agreement_id": 1, "as_of": "2027-01-31", "days_overdue": 35,
    }  # fmt: skip
    r = parse_loan_report(body).report
    assert isinstance(r, Repayment) and r.days_overdue == 35


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"subject": "91350200776049653B"}, "subject"),  # wrong check character
        ({"amount": "12.345"}, "report"),
        ({"amount": "-5"}, "report"),
        ({"amount": 1000.5}, "amount"),  # a float, not a decimal string
        ({"annual_rate": "101"}, "report"),
        ({"industry": "Z"}, "industry"),
        ({"term_months": 0}, "term_months"),
        ({"decided_on": "2026-10-01"}, "report"),  # before the application
        ({"amount": ...}, "report"),  # approved without an amount
        ({"outcome": "maybe"}, "outcome"),
        ({"idempotency_key": "has space"}, "idempotency_key"),
        ({"agreement_id": 0}, "agreement_id"),
        ({"surprise": 1}, "surprise"),
        ({"guarantee": "collateral"}, "guarantee"),
    ],
)
def test_malformed_fields_are_named(overrides: dict[str, Any], field: str) -> None:
    found = problems(decision(**overrides))
    assert any(p["field"] == field for p in found), found


def test_a_declined_application_carries_no_rate_or_term() -> None:
    ok = decision(outcome="declined", amount=..., annual_rate=..., term_months=...)
    assert parse_loan_report(ok).report.outcome == "declined"  # type: ignore[union-attr]
    found = problems(decision(outcome="declined", amount=...))
    assert "no annual_rate or term_months" in found[0]["message"]


def test_not_json_and_unknown_kind_are_refused() -> None:
    with pytest.raises(InvalidLoanReport):
        parse_loan_report(b"{not json")
    assert problems({**decision(), "kind": "other"})
