"""Training: from labelled portraits to a published model document and its card.

The rows (one per enterprise with a sufficient portrait) are split, with a seed, into
training and held-out parts; the scorecard is fitted on the training part
(`binning.fit_scorecard`: monotone WoE bins in the direction each indicator's `risk`
says, a logistic regression, PDO/odds points rounded to integers); the fit becomes a
model document (`model.py`) whose grade cut-offs are the lowest scores whose implied
probability of default is within each grade's band; and the card is computed from the
published document through our own applier, never from optbinning's answers.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from ledger.evaluation.binning import FittedScorecard, Trend, fit_scorecard
from ledger.evaluation.card import (
    HASH_METHOD,
    Binning,
    IndicatorSummary,
    ModelCard,
    Split,
    TrainingData,
    calibration,
    discrimination,
    grade_population,
    parse_card,
    score_distribution,
    training_data_hash,
)
from ledger.evaluation.errors import ModelDocumentError
from ledger.evaluation.indicators import IndicatorFile, Risk
from ledger.evaluation.model import GRADES, ModelDocument, Scaling, parse_model
from ledger.evaluation.scoring import Scorer

__all__ = ["TrainedModel", "TrainingConfig", "TrainingRow", "grade_cutoffs", "train"]

_TRENDS: Mapping[Risk, Trend] = {
    Risk.INCREASES: "ascending",
    Risk.DECREASES: "descending",
    Risk.AUTO: "auto_asc_desc",
}
MIN_ROWS = 50


@dataclass(frozen=True)
class TrainingConfig:
    model_id: str = "sme_scorecard"
    model_version: str = "1"
    pdo: float = 20.0
    odds: float = 50.0
    base_score: float = 600.0
    #: the top of the probability band of grades A-D (E takes the rest)
    grade_max_probability: tuple[float, float, float, float] = (0.02, 0.05, 0.10, 0.20)
    max_n_bins: int = 6
    min_bin_size: float = 0.01
    min_iv: float = 0.02
    test_share: float = 0.3
    split_seed: int = 20_250_101
    target_en: str = "default within 12 months"
    target_zh: str = "12个月内违约"


@dataclass(frozen=True, slots=True)
class TrainingRow:
    subject: str
    values: Mapping[str, float | None]
    default: int


@dataclass(frozen=True)
class TrainingSource:
    """Where the rows come from, for the card: SYNTHETIC unless they are observed outcomes."""

    synthetic: bool
    description_en: str
    description_zh: str
    details: Mapping[str, str | int | bool] = field(default_factory=dict)
    excluded_insufficient: int = 0


@dataclass(frozen=True)
class TrainedModel:
    document: ModelDocument
    card: ModelCard
    fitted: FittedScorecard
    rows: tuple[TrainingRow, ...]  # as given; the card's data hash is theirs
    train_rows: tuple[TrainingRow, ...]
    test_rows: tuple[TrainingRow, ...]


def grade_cutoffs(scaling: Scaling, max_probabilities: Sequence[float]) -> list[int]:
    """Per band top p, the lowest integer score whose implied probability is at most p."""
    cuts = []
    for p in max_probabilities:
        exact = scaling.base_score + scaling.pdo * math.log2((1 - p) / (p * scaling.odds))
        cut = math.ceil(exact - 1e-9)
        while scaling.probability(cut) > p:  # guard the float edge
            cut += 1
        cuts.append(cut)
    return cuts


def train(
    rows: Sequence[TrainingRow],
    indicators: IndicatorFile,
    source: TrainingSource,
    config: TrainingConfig = TrainingConfig(),
) -> TrainedModel:
    if len(rows) < MIN_ROWS or len({r.default for r in rows}) < 2:
        raise ModelDocumentError(f"training: needs at least {MIN_ROWS} rows with both outcomes")
    order = list(range(len(rows)))
    random.Random(config.split_seed).shuffle(order)
    n_test = round(len(rows) * config.test_share)
    test = tuple(rows[k] for k in sorted(order[:n_test]))
    train_part = tuple(rows[k] for k in sorted(order[n_test:]))
    if len({r.default for r in test}) < 2 or len({r.default for r in train_part}) < 2:
        raise ModelDocumentError("training: the split left one part with a single outcome; add rows")

    ids = [i.id for i in indicators.indicators]
    columns = {i: [r.values.get(i) for r in train_part] for i in ids}
    fitted = fit_scorecard(
        columns,
        [r.default for r in train_part],
        {i.id: _TRENDS[i.risk] for i in indicators.indicators},
        pdo=config.pdo,
        odds=config.odds,
        base_score=config.base_score,
        max_n_bins=config.max_n_bins,
        min_bin_size=config.min_bin_size,
        min_iv=config.min_iv,
    )
    document = _document(fitted, indicators, source, config)
    scorer = Scorer(document)
    card = _card(document, scorer, fitted, train_part, test, rows, source, config)
    return TrainedModel(document, card, fitted, tuple(rows), train_part, test)


def _document(
    fitted: FittedScorecard, indicators: IndicatorFile, source: TrainingSource, config: TrainingConfig
) -> ModelDocument:
    scaling = Scaling(method="pdo_odds", pdo=config.pdo, odds=config.odds, base_score=config.base_score)
    cuts = grade_cutoffs(scaling, config.grade_max_probability)
    synthetic = " (synthetic cohort)" if source.synthetic else ""
    synthetic_zh = "（合成样本）" if source.synthetic else ""
    model_indicators: list[dict[str, Any]] = []
    for v in fitted.variables:
        ind = indicators.indicator(v.name)
        total = sum(v.counts) + v.missing_count
        model_indicators.append({
            "id": ind.id,
            "name_zh": ind.name_zh,
            "name_en": ind.name_en,
            "unit": ind.unit,
            "risk": ind.risk.value,
            "actionable": ind.actionable,
            "splits": list(v.splits),
            "points": list(v.points),
            "missing_points": v.missing_points,
            "training_shares": [round(c / total, 6) for c in v.counts],
            "missing_share": round(v.missing_count / total, 6),
        })  # fmt: skip
    doc = {
        "format": "credit-ledger/scorecard",
        "format_version": 1,
        "model_id": config.model_id,
        "model_version": config.model_version,
        "synthetic": source.synthetic,
        "target_en": config.target_en + synthetic,
        "target_zh": config.target_zh + synthetic_zh,
        "indicator_file": {"version": indicators.version, "sha256": indicators.content_hash().hex()},
        "scaling": scaling.model_dump(mode="json"),
        "indicators": model_indicators,
        "grades": [
            {"grade": g, "min_score": cuts[k] if k < 4 else None,
             "max_probability": config.grade_max_probability[k] if k < 4 else None}
            for k, g in enumerate(GRADES)
        ],
    }  # fmt: skip
    return parse_model(json.dumps(doc, ensure_ascii=False), source="trained model")


def _card(
    document: ModelDocument,
    scorer: Scorer,
    fitted: FittedScorecard,
    train_part: Sequence[TrainingRow],
    test: Sequence[TrainingRow],
    rows: Sequence[TrainingRow],
    source: TrainingSource,
    config: TrainingConfig,
) -> ModelCard:
    def scored(part: Sequence[TrainingRow]) -> tuple[list[int], list[int]]:
        return [scorer.score_only(r.values) for r in part], [r.default for r in part]

    train_scores, train_defaults = scored(train_part)
    test_scores, test_defaults = scored(test)
    all_scores, all_defaults = scored(rows)
    model_ids = [i.id for i in document.indicators]
    data_hash = training_data_hash(
        [(r.subject, r.default, [r.values.get(i) for i in model_ids]) for r in rows]
    )
    defaults = sum(all_defaults)
    card = ModelCard(
        format="credit-ledger/model-card",
        format_version=1,
        model_id=document.model_id,
        model_version=document.model_version,
        model_sha256=document.content_hash().hex(),
        synthetic=source.synthetic,
        training_data=TrainingData(
            synthetic=source.synthetic,
            description_en=source.description_en,
            description_zh=source.description_zh,
            source=dict(source.details),
            rows=len(rows),
            excluded_insufficient=source.excluded_insufficient,
            defaults=defaults,
            default_rate=round(defaults / len(rows), 6),
            sha256=data_hash,
            hash_method=HASH_METHOD,
        ),
        split=Split(
            test_share=config.test_share,
            seed=config.split_seed,
            train_rows=len(train_part),
            test_rows=len(test),
        ),
        metrics_train=discrimination(train_scores, train_defaults),
        metrics_test=discrimination(test_scores, test_defaults),
        calibration=calibration(test_scores, test_defaults, document.scaling),
        grades=grade_population(scorer, all_scores, all_defaults),
        score_distribution=score_distribution(train_scores),
        indicators=tuple(
            IndicatorSummary(id=v.name, trend=v.trend, bins=len(v.points), iv=round(v.iv, 6))
            for v in fitted.variables
        ),
        binning=Binning(
            max_n_bins=config.max_n_bins,
            min_bin_size=config.min_bin_size,
            min_iv=config.min_iv,
            dropped_low_iv=fitted.low_iv,
            dropped_wrong_sign=fitted.wrong_sign,
            libraries={name: metadata.version(name) for name in ("optbinning", "scikit-learn", "pandas")},
        ),
    )
    return parse_card(card.canonical(), source="trained model card")
