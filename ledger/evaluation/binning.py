"""The one module that touches optbinning: a narrow, typed wrapper around its scorecard.

optbinning (and pandas under it) ships no type information, so everything it returns is
turned here into plain, typed values: per variable, the bin edges, the scaled points of
each bin and of the missing bin, the training counts and events, the information value.
Nothing else in the evaluation imports optbinning, pandas or scikit-learn's estimators.

The fit asks explicitly for a monotone event rate per variable (`ascending` when risk
grows with the value, `descending` when it falls, `auto_asc_desc` when there is no
prior), so no indicator's points run against its trend; the missing bin gets its
empirical WoE (an enterprise with no penalty on file is not an average one), set once
for all variables (never per variable: optbinning issue 412). Monotone bins are not
enough for monotone points: a coefficient of the wrong sign turns them around, so such
variables are left out and the scorecard refitted (`_against_their_woe`). Points are
scaled by PDO/odds and rounded to integers, so a score is an exact sum anyone can repeat.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["BinnedVariable", "FittedScorecard", "Trend", "fit_scorecard"]

Trend = Literal["ascending", "descending", "auto_asc_desc"]
Column = Sequence[float | None]


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence pandas 3's deprecation notices about optbinning 1.0.0's own code (nothing of ours)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"optbinning\.")
        yield


@dataclass(frozen=True, slots=True)
class BinnedVariable:
    name: str
    trend: Trend
    splits: tuple[float, ...]
    points: tuple[int, ...]  # per bin, len(splits) + 1
    missing_points: int
    counts: tuple[int, ...]  # training rows per bin
    events: tuple[int, ...]  # defaults per bin
    missing_count: int
    missing_events: int
    iv: float


@dataclass(frozen=True)
class FittedScorecard:
    """The fitted scorecard as plain values, plus optbinning's own answers for checking."""

    variables: tuple[BinnedVariable, ...]  # the selected ones, in input order
    low_iv: tuple[str, ...]  # left out: information value below the threshold
    wrong_sign: tuple[str, ...]  # left out: coefficient against their WoE
    _scorecard: Any  # optbinning.Scorecard, kept for `reference_scores` and `reference_points`

    def reference_scores(self, columns: Mapping[str, Column]) -> list[float]:
        """optbinning's `Scorecard.score`, to hold our applier to (not used for scoring)."""
        with _quiet():
            return [float(s) for s in self._scorecard.score(self._inputs(columns))]

    def reference_points(self, columns: Mapping[str, Column]) -> dict[str, list[float]]:
        """optbinning's points per variable and row (`Scorecard.transform`)."""
        with _quiet():
            table = self._scorecard.transform(self._inputs(columns))
        return {str(name): [float(p) for p in table[name]] for name in table.columns}

    def _inputs(self, columns: Mapping[str, Column]) -> Any:
        """The columns optbinning reads: every variable its binning process was given."""
        return _frame({str(n): columns[str(n)] for n in self._scorecard.binning_process_.variable_names})


def _frame(columns: Mapping[str, Column]) -> Any:
    import numpy as np
    import pandas as pd

    return pd.DataFrame({
        name: np.array([math.nan if v is None else float(v) for v in values], dtype=float)
        for name, values in columns.items()
    })  # fmt: skip


def _scorecard(
    names: Sequence[str],
    trends: Mapping[str, Trend],
    *,
    pdo: float,
    odds: float,
    base_score: float,
    max_n_bins: int,
    min_bin_size: float,
    min_iv: float,
) -> Any:
    from optbinning import BinningProcess, Scorecard
    from sklearn.linear_model import LogisticRegression

    process = BinningProcess(
        list(names),
        max_n_bins=max_n_bins,
        min_bin_size=min_bin_size,
        min_prebin_size=min_bin_size,  # else a rare flag (1-2% listed) cannot get a bin of its own
        selection_criteria={"iv": {"min": min_iv}} if min_iv > 0 else None,
        binning_fit_params={n: {"monotonic_trend": trends[n]} for n in names},
    )
    return Scorecard(
        binning_process=process,
        estimator=LogisticRegression(max_iter=1000),
        scaling_method="pdo_odds",
        scaling_method_params={"pdo": pdo, "odds": odds, "scorecard_points": base_score},
        rounding=True,
    )


def _against_their_woe(scorecard: Any, frame: Any, target: Any, selected: list[str]) -> list[str]:
    """Variables to drop, worst first, until every coefficient has the sign of a risk.

    The model predicts default from WoE = ln(share of non-defaults / share of defaults),
    so every coefficient must be negative: more WoE, less risk, more points. A positive
    one (two indicators telling the same story, such as the count of penalties and the
    months since the latest) would give points against the indicator's own trend. Only
    the regression is refitted here, on the WoE already computed.
    """
    from sklearn.linear_model import LogisticRegression

    woe = scorecard.binning_process_.transform(frame, metric="woe", metric_missing="empirical")
    varying = {n for n in selected if float(woe[n].std()) > 0}  # a one-bin variable has no sign
    kept, dropped = list(selected), list[str]()
    coefficients = [float(c) for c in scorecard.estimator_.coef_.ravel()]
    while True:
        wrong = [(c, n) for c, n in zip(coefficients, kept, strict=True) if c > 0 and n in varying]
        if not wrong:
            return dropped
        worst = max(wrong)[1]
        dropped.append(worst)
        kept.remove(worst)
        fit = LogisticRegression(max_iter=1000).fit(woe[kept], target)
        coefficients = [float(c) for c in fit.coef_.ravel()]


def fit_scorecard(
    columns: Mapping[str, Column],
    target: Sequence[int],
    trends: Mapping[str, Trend],
    *,
    pdo: float,
    odds: float,
    base_score: float,
    max_n_bins: int,
    min_bin_size: float,
    min_iv: float,
) -> FittedScorecard:
    """Fit monotone WoE binning and a logistic scorecard scaled by PDO/odds, points rounded.

    Variables below `min_iv` are left out by the binning process; then any variable whose
    coefficient has the wrong sign, worst first, and the scorecard is fitted again on the
    rest (the binning of a variable does not depend on the others, so its bins stay).
    """
    import numpy as np

    names = list(columns)
    if set(trends) != set(names):
        raise ValueError(f"a monotone trend is needed for every variable: {sorted(set(names) ^ set(trends))}")
    params: dict[str, Any] = {
        "pdo": pdo, "odds": odds, "base_score": base_score,
        "max_n_bins": max_n_bins, "min_bin_size": min_bin_size,
    }  # fmt: skip
    frame, y = _frame(columns), np.asarray(target, dtype=int)
    with _quiet():
        scorecard = _scorecard(names, trends, min_iv=min_iv, **params)
        scorecard.fit(frame, y, metric_missing="empirical")
        selected = [str(n) for n in scorecard.binning_process_.get_support(names=True)]
        low_iv = tuple(n for n in names if n not in selected)
        wrong_sign = tuple(_against_their_woe(scorecard, frame, y, selected))
        if wrong_sign:
            kept = [n for n in selected if n not in wrong_sign]
            scorecard = _scorecard(kept, trends, min_iv=0, **params)
            scorecard.fit(frame[kept], y, metric_missing="empirical")
            if _against_their_woe(scorecard, frame, y, kept):
                raise RuntimeError(
                    "coefficients against the WoE remain after dropping the variables that had them"
                )
        variables = tuple(_variables(scorecard, trends))
    return FittedScorecard(variables, low_iv, wrong_sign, scorecard)


def _variables(scorecard: Any, trends: Mapping[str, Trend]) -> list[BinnedVariable]:
    fitted = scorecard.binning_process_
    table = scorecard.table(style="detailed")
    variables = []
    for name in (str(n) for n in fitted.get_support(names=True)):
        optb = fitted.get_binned_variable(name)
        rows = table[table["Variable"] == name]
        points = [int(p) for p in rows["Points"]]
        counts = [int(c) for c in rows["Count"]]
        events = [int(e) for e in rows["Event"]]
        splits = tuple(float(s) for s in optb.splits)
        n_bins = len(splits) + 1  # then one special bin (unused: no special codes) and the missing bin
        if len(points) != n_bins + 2:
            raise RuntimeError(f"{name}: {len(points)} rows in optbinning's table for {n_bins} bins")
        variables.append(
            BinnedVariable(
                name=name,
                trend=trends[name],
                splits=splits,
                points=tuple(points[:n_bins]),
                missing_points=points[-1],
                counts=tuple(counts[:n_bins]),
                events=tuple(events[:n_bins]),
                missing_count=counts[-1],
                missing_events=events[-1],
                iv=float(optb.binning_table.iv),
            )
        )
    return variables
