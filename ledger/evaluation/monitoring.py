"""Population stability and grade migration: is today's population the one the model learnt?

PSI = sum over bins of (a - e) * ln(a / e), with e the training share of a bin and a
today's; a share of zero counts as 0.0001, so an emptied or a new bin weighs heavily
without dividing by zero. Per indicator the bins are the model's own (and its missing
bin), the training shares those the model document publishes; for the score, the
card's training deciles. Below 0.1 the population is stable; 0.1 to 0.25 it moved;
past 0.25 (`WARNING`) operators are warned: the model may no longer fit.

Grade migration compares the grades of the same enterprises at two dates: a matrix of
counts from each earlier grade to each later one, the shares upgraded, unchanged and
downgraded, and the enterprises that entered or left.

Written here, not with optbinning's `ScorecardMonitoring`: that one needs the fitted
optbinning object and the training data, and monitoring must work from the published
model document and card alone.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ledger.evaluation.card import ModelCard, shares
from ledger.evaluation.errors import ModelDocumentError
from ledger.evaluation.model import GRADES, ModelIndicator
from ledger.evaluation.scoring import Scorer, bin_label

__all__ = [
    "FLOOR",
    "MOVED",
    "WARNING",
    "Migration",
    "Stability",
    "StabilityReport",
    "grade_migration",
    "psi",
    "render_html",
    "stability",
]

FLOOR = 1e-4
MOVED = 0.1
WARNING = 0.25


def psi(expected: Sequence[float], actual: Sequence[float]) -> float:
    if len(expected) != len(actual):
        raise ValueError(f"psi: {len(expected)} expected shares against {len(actual)} actual")
    total = 0.0
    for e, a in zip(expected, actual, strict=True):
        e, a = max(e, FLOOR), max(a, FLOOR)
        total += (a - e) * math.log(a / e)
    return total


def _level(value: float) -> str:
    return "warning" if value > WARNING else "moved" if value > MOVED else "stable"


@dataclass(frozen=True, slots=True)
class Stability:
    name: str  # "score" or an indicator id
    psi: float
    level: str  # stable, moved, warning
    bins: tuple[str, ...]
    expected: tuple[float, ...]
    actual: tuple[float, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "psi": round(self.psi, 6),
            "level": self.level,
            "bins": [
                {"bin": b, "expected": round(e, 6), "actual": round(a, 6)}
                for b, e, a in zip(self.bins, self.expected, self.actual, strict=True)
            ],
        }


@dataclass(frozen=True, slots=True)
class StabilityReport:
    model_version: str
    population: int
    score: Stability
    indicators: tuple[Stability, ...]
    grades: Mapping[str, float]  # share of today's population per grade

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(
            f"PSI of {s.name} is {s.psi:.3f} (> {WARNING}): the population has shifted"
            for s in (self.score, *self.indicators)
            if s.level == "warning"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "model_version": self.model_version,
            "population": self.population,
            "score": self.score.to_json(),
            "indicators": [s.to_json() for s in self.indicators],
            "grades": {g: round(v, 6) for g, v in self.grades.items()},
            "warnings": list(self.warnings),
        }


def _indicator_shares(ind: ModelIndicator, values: Sequence[float | None]) -> list[float]:
    present = [v for v in values if v is not None and v == v]
    counts = shares(present, ind.splits)
    n = len(values)
    scale = len(present) / n if n else 0.0
    return [c * scale for c in counts] + [(n - len(present)) / n if n else 0.0]


def stability(
    scorer: Scorer, card: ModelCard, population: Sequence[Mapping[str, float | None]]
) -> StabilityReport:
    """PSI of the score and of every model indicator, training against `population`."""
    model = scorer.model
    if card.model_sha256 != model.content_hash().hex():
        raise ModelDocumentError("card: model_sha256 does not match the model document")
    if not population:
        raise ModelDocumentError("monitoring: the current population is empty")
    indicators = []
    for ind in model.indicators:
        expected = [*ind.training_shares, ind.missing_share]
        actual = _indicator_shares(ind, [p.get(ind.id) for p in population])
        labels = (*(bin_label(ind, b) for b in range(len(ind.points))), bin_label(ind, None))
        value = psi(expected, actual)
        indicators.append(Stability(ind.id, value, _level(value), labels, tuple(expected), tuple(actual)))
    scores = [scorer.score_only(p) for p in population]
    dist = card.score_distribution
    actual_scores = shares(scores, dist.splits)
    cuts = dist.splits
    score_bins = tuple(
        f"< {cuts[0]:g}"
        if b == 0
        else f">= {cuts[-1]:g}"
        if b == len(cuts)
        else f"[{cuts[b - 1]:g}, {cuts[b]:g})"
        for b in range(len(cuts) + 1)
    )
    score_psi = psi(dist.shares, actual_scores)
    grade_counts = dict.fromkeys(GRADES, 0)
    for s in scores:
        grade_counts[scorer.grade(s)] += 1
    return StabilityReport(
        model.model_version,
        len(population),
        Stability("score", score_psi, _level(score_psi), score_bins, dist.shares, tuple(actual_scores)),
        tuple(indicators),
        {g: c / len(scores) for g, c in grade_counts.items()},
    )


@dataclass(frozen=True, slots=True)
class Migration:
    matrix: Mapping[str, Mapping[str, int]]  # earlier grade -> later grade -> enterprises
    upgraded: int
    unchanged: int
    downgraded: int
    entered: int  # graded only at the later date
    left: int  # graded only at the earlier date

    def to_json(self) -> dict[str, Any]:
        both = self.upgraded + self.unchanged + self.downgraded
        return {
            "matrix": {g: dict(row) for g, row in self.matrix.items()},
            "upgraded": self.upgraded,
            "unchanged": self.unchanged,
            "downgraded": self.downgraded,
            "upgraded_share": round(self.upgraded / both, 6) if both else None,
            "downgraded_share": round(self.downgraded / both, 6) if both else None,
            "entered": self.entered,
            "left": self.left,
        }


def grade_migration(earlier: Mapping[str, str], later: Mapping[str, str]) -> Migration:
    """Grades per enterprise (subject -> grade) at two dates."""
    for when, grades in (("earlier", earlier), ("later", later)):
        for subject, grade in grades.items():
            if grade not in GRADES:
                raise ValueError(f"migration: {when} grade of {subject} is {grade!r}, not one of {GRADES}")
    matrix = {g: dict.fromkeys(GRADES, 0) for g in GRADES}
    up = same = down = 0
    for subject, before in earlier.items():
        after = later.get(subject)
        if after is None:
            continue
        matrix[before][after] += 1
        rank_before, rank_after = GRADES.index(before), GRADES.index(after)
        if rank_after < rank_before:
            up += 1
        elif rank_after == rank_before:
            same += 1
        else:
            down += 1
    entered = sum(1 for s in later if s not in earlier)
    left = sum(1 for s in earlier if s not in later)
    return Migration(matrix, up, same, down, entered, left)


def render_html(report: StabilityReport, migration: Migration | None = None) -> str:
    """A self-contained HTML page of the report, every value escaped."""
    e = html.escape
    out = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Model monitoring {e(report.model_version)}</title>",
        "<style>body{font-family:sans-serif}td,th{padding:2px 8px;text-align:right}"
        ".warning{background:#f8d0d0}.moved{background:#fbefc4}</style></head><body>",
        f"<h1>Model {e(report.model_version)}: population stability</h1>",
        f"<p>Current population: {report.population} enterprises.</p>",
    ]
    if report.warnings:
        out.append("<ul>" + "".join(f"<li class='warning'>{e(w)}</li>" for w in report.warnings) + "</ul>")
    out.append("<table><tr><th>variable</th><th>PSI</th><th>level</th></tr>")
    for s in (report.score, *report.indicators):
        out.append(
            f"<tr class='{e(s.level)}'><td>{e(s.name)}</td><td>{s.psi:.4f}</td><td>{e(s.level)}</td></tr>"
        )
    out.append("</table><h2>Grades today</h2><table><tr>")
    out.append("".join(f"<th>{e(g)}</th>" for g in report.grades) + "</tr><tr>")
    out.append("".join(f"<td>{v:.1%}</td>" for v in report.grades.values()) + "</tr></table>")
    if migration is not None:
        out.append("<h2>Grade migration</h2><table><tr><th>from \\ to</th>")
        out.append("".join(f"<th>{g}</th>" for g in GRADES) + "</tr>")
        for g, row in migration.matrix.items():
            out.append(f"<tr><th>{g}</th>" + "".join(f"<td>{row[h]}</td>" for h in GRADES) + "</tr>")
        out.append(
            f"</table><p>upgraded {migration.upgraded}, unchanged {migration.unchanged}, "
            f"downgraded {migration.downgraded}, entered {migration.entered}, left {migration.left}</p>"
        )
    out.append("</body></html>")
    return "\n".join(out)
