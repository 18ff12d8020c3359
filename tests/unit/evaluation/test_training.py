"""Training on a small SYNTHETIC cohort: the document agrees with optbinning, the card holds up."""

from __future__ import annotations

import hashlib
import json
from itertools import pairwise

import pytest

from ledger.evaluation.card import load_card, parse_card, training_data_hash
from ledger.evaluation.errors import ModelDocumentError
from ledger.evaluation.indicators import IndicatorFile, Risk
from ledger.evaluation.model import Scaling, check_model_against, load_model
from ledger.evaluation.scoring import Scorer
from ledger.evaluation.training import TrainedModel, TrainingRow, TrainingSource, grade_cutoffs, train


def test_our_applier_gives_optbinnings_scores_to_the_point(trained: TrainedModel) -> None:
    rows = trained.rows
    columns = {i: [r.values[i] for r in rows] for i in rows[0].values}
    theirs = trained.fitted.reference_scores(columns)
    scorer = Scorer(trained.document)
    ours = [scorer.score(r.values).score for r in rows]
    assert ours == theirs  # integers both sides: the same sum, not merely close
    their_points = trained.fitted.reference_points(columns)
    for k, row in enumerate(rows[:200]):
        for part in scorer.points(row.values):
            assert part.points == their_points[part.id][k], (part.id, row.values[part.id])


def test_points_follow_each_indicators_risk(trained: TrainedModel, indicators: IndicatorFile) -> None:
    for ind in trained.document.indicators:
        risk = indicators.indicator(ind.id).risk
        if risk is Risk.INCREASES:
            assert all(b <= a for a, b in pairwise(ind.points)), ind
        elif risk is Risk.DECREASES:
            assert all(b >= a for a, b in pairwise(ind.points)), ind


def test_the_document_names_its_indicator_file_and_is_synthetic(
    trained: TrainedModel, indicators: IndicatorFile
) -> None:
    doc = trained.document
    check_model_against(doc, indicators)
    assert doc.synthetic and "synthetic" in doc.target_en
    assert {"tax_credit_grade", "registration_age_months", "social_insurance_continuity"} <= {
        i.id for i in doc.indicators
    }
    for ind in doc.indicators:
        assert sum(ind.training_shares) + ind.missing_share == pytest.approx(1, abs=1e-4)


def test_grade_cutoffs_are_the_lowest_scores_within_each_band() -> None:
    scaling = Scaling(method="pdo_odds", pdo=20, odds=50, base_score=600)
    bands = (0.02, 0.05, 0.10, 0.20)
    cuts = grade_cutoffs(scaling, bands)
    assert cuts == sorted(cuts, reverse=True)
    for cut, top in zip(cuts, bands, strict=True):
        assert scaling.probability(cut) <= top < scaling.probability(cut - 1)


def test_the_card(trained: TrainedModel, tmp_path: object) -> None:
    card, doc = trained.card, trained.document
    assert card.model_sha256 == doc.content_hash().hex()
    assert (
        card.synthetic and card.training_data.synthetic and "SYNTHETIC" in card.training_data.description_en
    )
    assert card.content_hash() == hashlib.sha256(card.canonical()).digest()
    assert parse_card(card.canonical()) == card
    assert card.metrics_test.auc > 0.7 and card.metrics_train.auc > 0.7  # the synthetic truth is learnable
    for m in (card.metrics_train, card.metrics_test):
        assert m.gini == pytest.approx(2 * m.auc - 1, abs=1e-5) and 0 < m.ks < 1
    rows = trained.rows
    assert card.training_data.rows == len(rows) == card.split.train_rows + card.split.test_rows
    assert sum(g.count for g in card.grades) == len(rows)
    assert sum(c.count for c in card.calibration) == len(trained.test_rows)
    assert [c.group for c in card.calibration] == list(range(1, 11))
    scores = [c.score_min for c in card.calibration]
    assert scores == sorted(scores)
    assert sum(card.score_distribution.shares) == pytest.approx(1, abs=1e-4)
    ids = [i.id for i in doc.indicators]
    again = training_data_hash([(r.subject, r.default, [r.values.get(i) for i in ids]) for r in rows])
    assert card.training_data.sha256 == again
    assert [i.id for i in card.indicators] == ids
    assert card.binning.libraries["optbinning"] == "1.0.0"


def test_the_files_round_trip_and_hash_as_files(
    trained: TrainedModel, tmp_path_factory: pytest.TempPathFactory
) -> None:
    where = tmp_path_factory.mktemp("model")
    (where / "model.json").write_bytes(trained.document.canonical())
    (where / "card.json").write_bytes(trained.card.canonical())
    model = load_model(where / "model.json")
    assert hashlib.sha256((where / "model.json").read_bytes()).hexdigest() == model.content_hash().hex()
    assert load_card(where / "card.json").model_sha256 == model.content_hash().hex()
    broken = json.loads((where / "card.json").read_text())
    broken["metrics_test"]["auc"] = 1.5
    with pytest.raises(ModelDocumentError, match=r"metrics_test\.auc"):
        parse_card(json.dumps(broken))


def test_training_refuses_too_little_or_one_sided_data(indicators: IndicatorFile) -> None:
    source = TrainingSource(synthetic=True, description_en="SYNTHETIC", description_zh="合成")
    rows = [TrainingRow(f"s{k}", {}, 0) for k in range(100)]
    with pytest.raises(ModelDocumentError, match="both outcomes"):
        train(rows, indicators, source)
    with pytest.raises(ModelDocumentError, match="at least 50 rows"):
        train(rows[:10], indicators, source)
