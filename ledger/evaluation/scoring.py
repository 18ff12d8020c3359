"""Our own applier of a published model document: score, grade, probability, reasons.

It applies the JSON document exactly as the README tells an outsider to (`model.py`):
the same bins, the same integer points, the same sum. It does not call optbinning's
`Scorecard.score`, which looks up the wrong bin when a per-variable metric is set
(optbinning issue 412); the tests hold this applier to optbinning's points table.

Reason codes are the indicators whose points fell furthest short of their best bin
(the bin with the most points among those the training population reached), largest
shortfall first, at most four, in zh and en.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from ledger.evaluation.errors import UnknownIndicator
from ledger.evaluation.model import ModelDocument, ModelIndicator

__all__ = ["REASONS", "IndicatorScore", "Reason", "Score", "Scorer", "bin_label", "format_value"]

REASONS = 4
Value = float | None


class IndicatorScore(NamedTuple):
    """One indicator's part of a score (a named tuple: made for every indicator of every score)."""

    id: str
    value: Value
    bin: int | None  # None: the missing bin
    points: int
    best_points: int

    @property
    def shortfall(self) -> int:
        return self.best_points - self.points


@dataclass(frozen=True, slots=True)
class Score:
    """A score, its grade, and each indicator's part (parallel tuples, in the model's order)."""

    score: int
    grade: str
    probability: float  # implied by the score under the model's scaling
    band: tuple[float, float]  # the grade's probability band
    ids: tuple[str, ...]
    values: tuple[Value, ...]
    bins: tuple[int | None, ...]  # None: the missing bin
    points: tuple[int, ...]
    best_points: tuple[int, ...]

    @property
    def indicators(self) -> tuple[IndicatorScore, ...]:
        return tuple(
            IndicatorScore(*part)
            for part in zip(self.ids, self.values, self.bins, self.points, self.best_points, strict=True)
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "grade": self.grade,
            "probability": round(self.probability, 6),
            "band": list(self.band),
            "points": dict(zip(self.ids, self.points, strict=True)),
        }


@dataclass(frozen=True, slots=True)
class Reason:
    code: str  # the indicator's id
    name_zh: str
    name_en: str
    value: Value
    points: int
    best_points: int
    shortfall: int
    text_zh: str
    text_en: str

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "value": self.value,
            "points": self.points,
            "best_points": self.best_points,
            "shortfall": self.shortfall,
            "text_zh": self.text_zh,
            "text_en": self.text_en,
        }


def format_value(value: Value) -> str:
    if value is None:
        return "-"
    return str(int(value)) if float(value).is_integer() else f"{value:.4g}"


def bin_label(ind: ModelIndicator, b: int | None, lang: str = "en") -> str:
    """A bin as text: `< 12`, `[12, 24)`, `>= 24`, or no data."""
    if b is None:
        return "无数据" if lang == "zh" else "no data"
    s = ind.splits
    if not s:
        return "全部" if lang == "zh" else "any value"
    if b == 0:
        return f"< {format_value(s[0])}"
    if b == len(s):
        return f">= {format_value(s[-1])}"
    return f"[{format_value(s[b - 1])}, {format_value(s[b])})"


@dataclass(frozen=True, slots=True)
class _Table:
    id: str
    splits: list[float]
    points: list[int]
    missing_points: int
    best_points: int


class Scorer:
    """Applies one model document; build once, score many."""

    def __init__(self, model: ModelDocument) -> None:
        self.model = model
        self._tables = tuple(_table(i) for i in model.indicators)
        self._cuts = tuple((g.grade, g.min_score) for g in model.grades)
        tops = [g.max_probability for g in model.grades]
        self._bands: dict[str, tuple[float, float]] = {
            g.grade: (0.0 if k == 0 else float(tops[k - 1] or 0.0), float(tops[k] or 1.0))
            for k, g in enumerate(model.grades)
        }
        self._by_id = {i.id: i for i in model.indicators}
        self._ids = tuple(t.id for t in self._tables)
        self._best = tuple(t.best_points for t in self._tables)
        self._best_labels = {
            i.id: (bin_label(i, _best_bin(i), "en"), bin_label(i, _best_bin(i), "zh"))
            for i in model.indicators
        }

    def points(self, values: Mapping[str, Value]) -> tuple[IndicatorScore, ...]:
        return self.score(values).indicators

    def score(self, values: Mapping[str, Value]) -> Score:
        seen: list[Value] = []
        bins: list[int | None] = []
        points: list[int] = []
        for t in self._tables:
            try:
                value = values[t.id]
            except KeyError:
                raise UnknownIndicator(f"portrait: no value for indicator {t.id!r} the model reads") from None
            if value is None or value != value:  # no value (NaN counts as none)
                seen.append(None)
                bins.append(None)
                points.append(t.missing_points)
            else:
                b = bisect_right(t.splits, value)
                seen.append(value)
                bins.append(b)
                points.append(t.points[b])
        total = sum(points)
        grade = self.grade(total)
        return Score(
            total, grade, self.model.scaling.probability(total), self._bands[grade],
            self._ids, tuple(seen), tuple(bins), tuple(points), self._best,
        )  # fmt: skip

    def score_only(self, values: Mapping[str, Value]) -> int:
        """The score alone, for whole populations (monitoring, model cards)."""
        total = 0
        try:
            for t in self._tables:
                value = values[t.id]
                total += (
                    t.missing_points
                    if value is None or value != value
                    else t.points[bisect_right(t.splits, value)]
                )
        except KeyError as e:
            raise UnknownIndicator(
                f"portrait: no value for indicator {e.args[0]!r} the model reads"
            ) from None
        return total

    def grade(self, score: int) -> str:
        for grade, cut in self._cuts:
            if cut is None or score >= cut:
                return grade
        raise AssertionError("the last grade has no cut-off")  # ModelDocument insists

    def reasons(self, score: Score, top: int = REASONS) -> tuple[Reason, ...]:
        """The `top` indicators furthest short of their best bin, largest shortfall first."""
        pts, best = score.points, score.best_points
        short = sorted((k for k in range(len(pts)) if best[k] > pts[k]), key=lambda k: pts[k] - best[k])
        return tuple(
            self._reason(IndicatorScore(score.ids[k], score.values[k], score.bins[k], pts[k], best[k]))
            for k in short[:top]
        )

    def _reason(self, p: IndicatorScore) -> Reason:
        ind = self._by_id[p.id]
        best_en, best_zh = self._best_labels[p.id]
        value = format_value(p.value)
        value_zh = "无数据" if p.value is None else value
        value_en = "no data" if p.value is None else value
        text_en = f"{ind.name_en} ({value_en}) is {p.shortfall} points short of its best range ({best_en})"
        text_zh = f"{ind.name_zh}（{value_zh}）比最佳区间（{best_zh}）少{p.shortfall}分"
        return Reason(
            p.id, ind.name_zh, ind.name_en, p.value, p.points, p.best_points, p.shortfall, text_zh, text_en
        )


def _reached(ind: ModelIndicator) -> list[tuple[int | None, int]]:
    """(bin, points) of the bins the training population reached (every bin if it reached none)."""
    bins: list[tuple[int | None, int]] = [
        (b, p) for b, p in enumerate(ind.points) if ind.training_shares[b] > 0
    ]
    if ind.missing_share > 0:
        bins.append((None, ind.missing_points))
    return bins or [(b, p) for b, p in enumerate(ind.points)]


def _best_bin(ind: ModelIndicator) -> int | None:
    return max(_reached(ind), key=lambda bp: bp[1])[0]


def _table(ind: ModelIndicator) -> _Table:
    best = max(p for _, p in _reached(ind))
    return _Table(ind.id, list(ind.splits), list(ind.points), ind.missing_points, best)
