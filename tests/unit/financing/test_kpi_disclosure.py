"""Small-cell suppression of the public KPI figures, on hand-made reports: a cell of fewer than
k enterprises is nulled, the smallest other row of its breakdown with it, a small total takes
its whole breakdown, and the onboarded counts stay."""

from __future__ import annotations

from typing import Any

from ledger.financing.kpi_disclosure import protect
from ledger.financing.kpis import loan_metrics


def _loans(sums: list[int]) -> dict[str, Any]:
    return loan_metrics(sums)


def report(
    district_sizes: dict[str, int], total: int, onboarded: dict[str | None, int]
) -> tuple[dict[str, Any], dict[str, Any]]:
    row = [2, 2, 100, 1, 50, 1, 80_000, 10]
    loans = {
        **_loans(row),
        "by_district": [{"key": k, **_loans(row)} for k in district_sizes],
        "by_industry": [{"key": "C", **_loans(row)}],
        "by_month": [{"key": "2026-11", **_loans(row)}],
    }
    enterprises = {
        "onboarded": sum(onboarded.values()), "market_entities": None, "onboarded_share": None,
        "with_loan": 1, "with_loan_share": "0.5000",
        "by_industry": [
            {"key": k, "onboarded": n, "with_loan": 1, "with_loan_share": "0.5000"}
            for k, n in onboarded.items()
        ],
    }  # fmt: skip
    sizes = {
        "": total,
        "by_district": district_sizes,
        "by_industry": {"C": total},
        "by_month": {"2026-11": total},
    }
    return {"records": {}, "enterprises": enterprises, "loans": loans}, sizes


def test_a_small_row_is_suppressed_with_the_smallest_other_row_of_its_breakdown() -> None:
    r, sizes = report({"410102": 1, "410105": 9, "410106": 4}, 14, {"C": 5, "F": 6})
    out = protect(r, sizes, 3)
    rows = {row["key"]: row for row in out["loans"]["by_district"]}
    assert rows["410102"]["suppressed"] and rows["410102"]["volume_fen"] is None
    assert rows["410102"]["average_rate_percent"] is None and rows["410102"]["decisions"] is None
    # 410106 (4 enterprises) is suppressed too: total minus 410105 no longer isolates 410102
    assert rows["410106"]["suppressed"] and rows["410106"]["volume_fen"] is None
    assert not rows["410105"]["suppressed"] and rows["410105"]["volume_fen"] == 100
    assert not out["loans"]["suppressed"] and out["loans"]["volume_fen"] == 100
    assert out["disclosure"]["min_enterprises"] == 3


def test_no_small_row_suppresses_nothing() -> None:
    r, sizes = report({"410102": 3, "410105": 9}, 12, {"C": 5, "F": 6})
    out = protect(r, sizes, 3)
    assert [row["suppressed"] for row in out["loans"]["by_district"]] == [False, False]
    assert [row["suppressed"] for row in out["enterprises"]["by_industry"]] == [False, False]


def test_a_small_total_suppresses_every_loan_figure() -> None:
    r, sizes = report({"410102": 1, "410105": 1}, 2, {"C": 2})
    out = protect(r, sizes, 3)
    loans = out["loans"]
    assert loans["suppressed"] and loans["volume_fen"] is None and loans["approved"] is None
    for name in ("by_district", "by_industry", "by_month"):
        assert all(row["suppressed"] and row["volume_fen"] is None for row in loans[name])
    # two enterprises onboarded: whether they borrowed is not said; that they are onboarded is
    assert out["enterprises"]["onboarded"] == 2 and out["enterprises"]["with_loan"] is None
    assert out["enterprises"]["by_industry"][0]["onboarded"] == 2
    assert out["enterprises"]["by_industry"][0]["with_loan"] is None


def test_enterprise_rows_follow_the_same_rule() -> None:
    r, sizes = report({"410105": 9}, 9, {"C": 1, "F": 3, "G": 7, None: 4})
    rows = {row["key"]: row for row in protect(r, sizes, 3)["enterprises"]["by_industry"]}
    assert rows["C"]["with_loan"] is None and rows["C"]["suppressed"]
    assert rows["F"]["with_loan"] is None and rows["F"]["suppressed"]  # the smallest other row
    assert rows["G"]["with_loan"] == 1 and rows[None]["with_loan"] == 1
