"""Small-cell disclosure control of the KPI figures members other than operators and auditors see.

A figure computed from the loans of one or two enterprises is that enterprise's loan (or,
to the other of the two, its neighbour's). So in the figures `GET /kpis` answers to
institutions, providers and enterprises:

1. **Primary suppression.** A loan cell - the filter's total or a row of `by_district`,
   `by_industry`, `by_month` - whose decisions concern fewer than `min_enterprises`
   distinct enterprises has every figure replaced by null and `suppressed: true`; an
   enterprises cell (the total, a row of `by_industry`) with fewer than `min_enterprises`
   onboarded has its `with_loan` and `with_loan_share` suppressed the same way (the count
   onboarded stays: it says nothing about a loan).
2. **Complementary suppression.** Within a breakdown with a suppressed row, the smallest
   row that was not is suppressed too. The total less the published rows then sums
   suppressed rows including one of at least `min_enterprises` enterprises, never the
   small ones alone.
3. A suppressed total suppresses its whole breakdown.

Operators and auditors see the exact figures (they hold the rows in the snapshot export
anyway). The rule protects each report against subtraction within it; answers to
different filters (a district's total against another report's suppressed row) are not
reconciled against one another, which is the limit of cell suppression without an audit
of every query.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["DEFAULT_MIN_ENTERPRISES", "protect"]

DEFAULT_MIN_ENTERPRISES = 3
_LOAN_BREAKDOWNS = ("by_district", "by_industry", "by_month")
_ENTERPRISE_SUPPRESSED = ("with_loan", "with_loan_share")

#: per loan cell, the distinct enterprises its decisions concern: {"": total, "by_x": {key: n}}
CellSizes = Mapping[str, Any]


def _suppress(row: dict[str, Any], figures: Sequence[str]) -> None:
    for name in figures:
        row[name] = None
    row["suppressed"] = True


def _protect_rows(rows: list[dict[str, Any]], sizes: Sequence[int], k: int, figures: Sequence[str]) -> None:
    small = {i for i, n in enumerate(sizes) if n < k}
    if small:
        rest = sorted((n, i) for i, n in enumerate(sizes) if i not in small)
        if rest:
            small.add(rest[0][1])
    for i, row in enumerate(rows):
        if i in small:
            _suppress(row, figures)
        else:
            row["suppressed"] = False


def _loan_figures(row: Mapping[str, Any]) -> list[str]:
    return [name for name in row if name not in ("key", "suppressed") and not name.startswith("by_")]


def protect(
    report: dict[str, Any], loan_sizes: CellSizes, k: int = DEFAULT_MIN_ENTERPRISES
) -> dict[str, Any]:
    """`report` (as `KpiService.report` builds it) with its small cells suppressed, in place."""
    loans = report["loans"]
    figures = _loan_figures(loans)
    total_small = loan_sizes[""] < k  # kpis.TOTAL
    loans["suppressed"] = total_small
    if total_small:
        _suppress(loans, figures)
    for name in _LOAN_BREAKDOWNS:
        rows = loans[name]
        sizes = [0 if total_small else loan_sizes[name].get(row["key"], 0) for row in rows]
        _protect_rows(rows, sizes, k, [f for f in _loan_figures(rows[0]) if f != "key"] if rows else [])

    enterprises = report["enterprises"]
    onboarded_small = enterprises["onboarded"] < k
    enterprises["suppressed"] = onboarded_small
    if onboarded_small:
        _suppress(enterprises, _ENTERPRISE_SUPPRESSED)
    rows = enterprises["by_industry"]
    _protect_rows(rows, [0 if onboarded_small else r["onboarded"] for r in rows], k, _ENTERPRISE_SUPPRESSED)
    report["disclosure"] = {
        "min_enterprises": k,
        "rule": (
            "a cell resting on fewer than min_enterprises enterprises is suppressed "
            "(null, suppressed: true), "
            "with the smallest other row of its breakdown"
        ),
    }
    return report
