"""The model card: how well a model separates and how well it is calibrated, on what data.

A card names the model it describes by its SHA-256 and holds: discrimination on the
training and the held-out rows (AUC, KS, Gini = 2 AUC - 1, scores taken as published,
through our applier); a calibration table (held-out rows in ten score groups: the mean
probability the scores stand for against the observed default rate); the population
per grade; the training score distribution in deciles (the reference for the score's
population stability); each indicator's information value; and the training data - a
description (SYNTHETIC when it is), its source, its size and default rate, and the
SHA-256 of the exact rows (`training_data_hash`).

Like the model, it is strictly validated on load and written in RFC 8785 form, so the
SHA-256 of the file is the card's hash.
"""

from __future__ import annotations

import hashlib
import json
from bisect import bisect_right
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Literal

import rfc8785
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic import Field as Constraint

from ledger.evaluation.errors import ModelDocumentError
from ledger.evaluation.model import Scaling, describe_validation_error
from ledger.evaluation.scoring import Scorer

__all__ = [
    "CARD_FORMAT",
    "HASH_METHOD",
    "Binning",
    "CalibrationRow",
    "GradeRow",
    "IndicatorSummary",
    "Metrics",
    "ModelCard",
    "ScoreDistribution",
    "Split",
    "TrainingData",
    "calibration",
    "discrimination",
    "grade_population",
    "load_card",
    "parse_card",
    "score_distribution",
    "shares",
    "training_data_hash",
]

CARD_FORMAT = "credit-ledger/model-card"
HASH_METHOD = (
    "SHA-256 over one line per row, in the given order: the JSON array [subject, default, value of each "
    "model indicator in the model's order (null for none)], written by Python's json.dumps with "
    "separators (',', ':') and ensure_ascii=False, each line ended by a newline, UTF-8"
)
GROUPS = 10

_Strict = ConfigDict(frozen=True, extra="forbid", strict=True)
Name = Annotated[str, Constraint(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
Hex64 = Annotated[str, Constraint(pattern=r"^[0-9a-f]{64}$")]
Rate = Annotated[float, Constraint(ge=0, le=1)]
Count = Annotated[int, Constraint(ge=0)]


class Metrics(BaseModel):
    model_config = _Strict

    rows: Count
    defaults: Count
    auc: Rate
    ks: Rate
    gini: Annotated[float, Constraint(ge=-1, le=1)]


class CalibrationRow(BaseModel):
    model_config = _Strict

    group: Annotated[int, Constraint(ge=1)]
    score_min: int
    score_max: int
    count: Count
    predicted_probability: Rate
    observed_default_rate: Rate


class GradeRow(BaseModel):
    model_config = _Strict

    grade: Literal["A", "B", "C", "D", "E"]
    min_score: int | None
    band: tuple[Rate, Rate]
    count: Count
    share: Rate
    observed_default_rate: Rate | None  # None: no one in the grade


class ScoreDistribution(BaseModel):
    """Training scores in groups: bin i is [splits[i-1], splits[i]), as the model's bins."""

    model_config = _Strict

    splits: tuple[float, ...]
    shares: tuple[Rate, ...]


class IndicatorSummary(BaseModel):
    model_config = _Strict

    id: Name
    trend: Literal["ascending", "descending", "auto_asc_desc"]
    bins: Annotated[int, Constraint(ge=1)]
    iv: Annotated[float, Constraint(ge=0)]


class TrainingData(BaseModel):
    model_config = _Strict

    synthetic: bool
    description_en: str
    description_zh: str
    source: dict[str, str | int | bool]
    rows: Count
    excluded_insufficient: Count  # portraits short of data: no score is made from them
    defaults: Count
    default_rate: Rate
    sha256: Hex64
    hash_method: str


class Split(BaseModel):
    model_config = _Strict

    test_share: Annotated[float, Constraint(gt=0, lt=1)]
    seed: int
    train_rows: Count
    test_rows: Count


class Binning(BaseModel):
    model_config = _Strict

    max_n_bins: Annotated[int, Constraint(ge=2)]
    min_bin_size: Annotated[float, Constraint(gt=0, lt=1)]
    min_iv: Annotated[float, Constraint(ge=0)]
    dropped_low_iv: tuple[Name, ...]
    dropped_wrong_sign: tuple[Name, ...]  # coefficient against the WoE: points would run backwards
    libraries: dict[str, str]


class ModelCard(BaseModel):
    model_config = _Strict

    format: Literal["credit-ledger/model-card"]
    format_version: Literal[1]
    model_id: Name
    model_version: str
    model_sha256: Hex64
    synthetic: bool
    training_data: TrainingData
    split: Split
    metrics_train: Metrics
    metrics_test: Metrics
    calibration: tuple[CalibrationRow, ...]
    grades: tuple[GradeRow, ...]
    score_distribution: ScoreDistribution
    indicators: tuple[IndicatorSummary, ...]
    binning: Binning

    def canonical(self) -> bytes:
        return bytes(rfc8785.dumps(self.model_dump(mode="json")))

    def content_hash(self) -> bytes:
        return hashlib.sha256(self.canonical()).digest()


def parse_card(text: str | bytes, *, source: str = "model card") -> ModelCard:
    try:
        return ModelCard.model_validate_json(text)
    except ValidationError as e:
        raise ModelDocumentError(f"{source}: {describe_validation_error(e)}") from e


def load_card(path: str | Path) -> ModelCard:
    try:
        text = Path(path).read_bytes()
    except OSError as e:
        raise ModelDocumentError(f"{path}: {e}") from e
    return parse_card(text, source=str(path))


# --------------------------------------------------------------------------- figures


def training_data_hash(rows: Sequence[tuple[str, int, Sequence[float | None]]]) -> str:
    """SHA-256 of the rows as `HASH_METHOD` says."""
    h = hashlib.sha256()
    for subject, default, values in rows:
        line = json.dumps([subject, default, *values], separators=(",", ":"), ensure_ascii=False)
        h.update(line.encode() + b"\n")
    return h.hexdigest()


def discrimination(scores: Sequence[int], defaults: Sequence[int]) -> Metrics:
    """AUC, KS and Gini of the score as a ranking of risk (a lower score, more risk)."""
    from sklearn.metrics import roc_auc_score, roc_curve

    if len(set(defaults)) < 2:
        raise ModelDocumentError("metrics: the rows need both defaults and non-defaults")
    risk = [-s for s in scores]
    auc = float(roc_auc_score(defaults, risk))
    fpr, tpr, _ = roc_curve(defaults, risk)
    ks = float(max(t - f for t, f in zip(tpr, fpr, strict=True)))
    return Metrics(rows=len(scores), defaults=sum(defaults), auc=_r(auc), ks=_r(ks), gini=_r(2 * auc - 1))


def calibration(
    scores: Sequence[int], defaults: Sequence[int], scaling: Scaling
) -> tuple[CalibrationRow, ...]:
    """Rows in `GROUPS` groups of (nearly) equal size by score, lowest first.

    Written out rather than with scikit-learn's `calibration_curve`, which gives neither
    the groups' sizes nor their score ranges.
    """
    order = sorted(range(len(scores)), key=lambda k: scores[k])
    groups = min(GROUPS, len(order))
    out: list[CalibrationRow] = []
    for g in range(groups):
        part = order[g * len(order) // groups : (g + 1) * len(order) // groups]
        group_scores = [scores[k] for k in part]
        predicted = sum(scaling.probability(s) for s in group_scores) / len(part)
        observed = sum(defaults[k] for k in part) / len(part)
        out.append(
            CalibrationRow(
                group=g + 1,
                score_min=min(group_scores),
                score_max=max(group_scores),
                count=len(part),
                predicted_probability=_r(predicted),
                observed_default_rate=_r(observed),
            )
        )
    return tuple(out)


def grade_population(scorer: Scorer, scores: Sequence[int], defaults: Sequence[int]) -> tuple[GradeRow, ...]:
    counts: dict[str, list[int]] = {g.grade: [] for g in scorer.model.grades}
    for s, d in zip(scores, defaults, strict=True):
        counts[scorer.grade(s)].append(d)
    tops = [g.max_probability for g in scorer.model.grades]
    rows = []
    for k, g in enumerate(scorer.model.grades):
        members = counts[g.grade]
        band = (0.0 if k == 0 else float(tops[k - 1] or 0.0), float(tops[k] or 1.0))
        rows.append(
            GradeRow(
                grade=g.grade,
                min_score=g.min_score,
                band=band,
                count=len(members),
                share=_r(len(members) / len(scores)) if scores else 0.0,
                observed_default_rate=_r(sum(members) / len(members)) if members else None,
            )
        )
    return tuple(rows)


def score_distribution(scores: Sequence[int]) -> ScoreDistribution:
    """Training scores in (at most) ten groups at their deciles."""
    ordered = sorted(scores)
    cuts = sorted(
        {float(ordered[len(ordered) * q // GROUPS]) for q in range(1, GROUPS)} - {float(ordered[0])}
    )
    return ScoreDistribution(splits=tuple(cuts), shares=tuple(_r(s) for s in shares(scores, cuts)))


def shares(values: Sequence[float], splits: Sequence[float]) -> list[float]:
    """The share of `values` in each bin [splits[i-1], splits[i])."""
    counts = [0] * (len(splits) + 1)
    for v in values:
        counts[bisect_right(splits, v)] += 1
    return [c / len(values) if values else 0.0 for c in counts]


def _r(x: float) -> float:
    return round(float(x), 6)
