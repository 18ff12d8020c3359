"""What would change the grade: counterfactual guidance read off the model document.

For the next better grade, the points still needed, and the moves that would earn them:
an indicator moved into another bin of the model (one the training population
reached, so the move is plausible) gains that bin's points over the current one's.

* `single`: each actionable indicator whose move alone reaches the next grade, moved
  only as far as needed (the sufficient bin with the smallest gain);
* `combined`: when no single move suffices, the fewest largest moves that together do
  (greedy by gain, the last one moved only as far as needed); empty if even all the
  moves together fall short.

Indicators the file marks not actionable (an enterprise's age, months since a penalty)
are never suggested. Written here rather than with optbinning's `Counterfactual`
because guidance must follow from the published document alone, as the score does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledger.evaluation.model import GRADES, ModelIndicator
from ledger.evaluation.scoring import IndicatorScore, Score, Scorer, format_value

__all__ = ["Change", "Guidance", "guidance"]


@dataclass(frozen=True, slots=True)
class Change:
    indicator: str
    name_zh: str
    name_en: str
    current: float | None
    low: float | None  # the target bin: [low, high); None: unbounded
    high: float | None
    gain: int
    text_zh: str
    text_en: str

    def to_json(self) -> dict[str, Any]:
        return {
            "indicator": self.indicator,
            "current": self.current,
            "low": self.low,
            "high": self.high,
            "gain": self.gain,
            "text_zh": self.text_zh,
            "text_en": self.text_en,
        }


@dataclass(frozen=True, slots=True)
class Guidance:
    grade: str
    target_grade: str | None  # None: already A
    points_needed: int
    single: tuple[Change, ...]
    combined: tuple[Change, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "grade": self.grade,
            "target_grade": self.target_grade,
            "points_needed": self.points_needed,
            "single": [c.to_json() for c in self.single],
            "combined": [c.to_json() for c in self.combined],
        }


def guidance(scorer: Scorer, score: Score) -> Guidance:
    model = scorer.model
    rank = GRADES.index(score.grade)
    if rank == 0:
        return Guidance(score.grade, None, 0, (), ())
    target = model.grades[rank - 1]
    assert target.min_score is not None  # every grade above E has a cut-off
    needed = target.min_score - score.score
    moves: list[list[tuple[int, int]]] = []  # per indicator: (gain, bin) of the better bins
    parts: list[tuple[ModelIndicator, IndicatorScore]] = []
    for part in score.indicators:
        ind = model.indicator(part.id)
        if not ind.actionable:
            continue
        better = [
            (points - part.points, b)
            for b, points in enumerate(ind.points)
            if points > part.points and ind.training_shares[b] > 0
        ]
        if better:
            moves.append(better)
            parts.append((ind, part))

    single = [
        _change(ind, part, _least_sufficient(better, needed, part.bin))
        for (ind, part), better in zip(parts, moves, strict=True)
        if max(better)[0] >= needed
    ]
    single.sort(key=lambda c: (c.gain, c.indicator))
    combined: list[Change] = []
    if not single:
        order = sorted(range(len(parts)), key=lambda k: (-max(moves[k])[0], parts[k][0].id))
        gained = 0
        for k in order:
            ind, part = parts[k]
            rest = needed - gained
            move = max(moves[k]) if max(moves[k])[0] < rest else _least_sufficient(moves[k], rest, part.bin)
            combined.append(_change(ind, part, move))
            gained += move[0]
            if gained >= needed:
                break
        if gained < needed:
            combined = []
    return Guidance(score.grade, target.grade, needed, tuple(single), tuple(combined))


def _least_sufficient(better: list[tuple[int, int]], needed: int, start: int | None) -> tuple[int, int]:
    """The smallest gain that reaches `needed`; among equal gains, the bin nearest `start`."""
    return min((m for m in better if m[0] >= needed), key=lambda m: (m[0], abs(m[1] - (start or 0))))


def _change(ind: ModelIndicator, part: IndicatorScore, move: tuple[int, int]) -> Change:
    gain, b = move
    low = ind.splits[b - 1] if b > 0 else None
    high = ind.splits[b] if b < len(ind.splits) else None
    text_en, text_zh = _texts(ind, part.value, low, high)
    return Change(ind.id, ind.name_zh, ind.name_en, part.value, low, high, gain, text_zh, text_en)


def _texts(
    ind: ModelIndicator, value: float | None, low: float | None, high: float | None
) -> tuple[str, str]:
    lo, hi = format_value(low), format_value(high)
    if value is not None and low is not None and value < low:
        en, zh = f"raise {ind.name_en} to at least {lo}", f"将{ind.name_zh}提高到不低于{lo}"
    elif value is not None and high is not None and value >= high:
        en, zh = f"bring {ind.name_en} below {hi}", f"将{ind.name_zh}降到{hi}以下"
    elif low is not None and high is not None:
        en, zh = f"have {ind.name_en} between {lo} and {hi}", f"使{ind.name_zh}处于{lo}至{hi}之间"
    elif low is not None:
        en, zh = f"have {ind.name_en} of at least {lo}", f"使{ind.name_zh}不低于{lo}"
    elif high is not None:
        en, zh = f"have {ind.name_en} below {hi}", f"使{ind.name_zh}低于{hi}"
    else:
        en, zh = f"have a value for {ind.name_en}", f"补充{ind.name_zh}数据"
    return f"{en} ({ind.unit})", zh
