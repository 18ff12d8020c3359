"""The model document and our applier: bins, points, grades, probability, reasons, refusals."""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

import pytest

from ledger.evaluation.errors import ModelDocumentError, UnknownIndicator
from ledger.evaluation.indicators import IndicatorFile
from ledger.evaluation.model import ModelDocument, check_model_against, parse_model
from ledger.evaluation.scoring import Scorer

from .conftest import parse


def portrait(
    grade: float | None = 4, penalties: float | None = 0, patents: float | None = 1
) -> dict[str, Any]:
    return {"tax_credit_grade": grade, "penalties": penalties, "patents": patents, "not_in_model": 3.0}


def test_bins_are_closed_below_and_open_above(model: ModelDocument) -> None:
    scorer = Scorer(model)

    def tax_points(value: float | None) -> int:
        return scorer.points(portrait(grade=value))[0].points

    assert [tax_points(v) for v in (0, 1.49, 1.5, 3.49, 3.5, 99)] == [10, 10, 30, 30, 50, 50]
    assert tax_points(None) == 20 and tax_points(math.nan) == 20  # the missing bin
    assert scorer.points(portrait(grade=1.5))[0].bin == 1
    assert scorer.points(portrait(grade=None))[0].bin is None


def test_score_grade_and_probability(model: ModelDocument) -> None:
    scorer = Scorer(model)
    best = scorer.score(portrait())
    assert (best.score, best.grade) == (50 + 40 + 35, "A")
    assert best.band == (0.0, 0.02)
    edge = scorer.score(portrait(grade=3, penalties=1, patents=1))  # 30 + 25 + 35 = 90
    assert (edge.score, edge.grade, edge.band) == (90, "C", (0.05, 0.10))
    assert scorer.score(portrait(grade=2, penalties=0, patents=1)).grade == "B"  # 30 + 40 + 35 = 105
    assert scorer.grade(100) == "B" and scorer.grade(99) == "C" and scorer.grade(-(10**6)) == "E"
    at_base = scorer.score(portrait(grade=3, penalties=0, patents=0))  # 30 + 40 + 20 = 90
    assert at_base.probability == pytest.approx(1 / (1 + 50 * 2 ** ((90 - 100) / 20)))
    assert model.scaling.probability(100) == pytest.approx(1 / 51)
    assert scorer.score_only(portrait(grade=3, penalties=1, patents=1)) == 90
    assert best.to_json()["points"] == {"tax_credit_grade": 50, "penalties": 40, "patents": 35}


def test_a_portrait_without_an_indicator_the_model_reads_is_refused(model: ModelDocument) -> None:
    scorer = Scorer(model)
    lacking = portrait()
    del lacking["penalties"]
    with pytest.raises(UnknownIndicator, match="'penalties'"):
        scorer.score(lacking)
    with pytest.raises(UnknownIndicator, match="'penalties'"):
        scorer.score_only(lacking)


def test_reason_codes_are_the_largest_shortfalls_from_the_best_reached_bin(model: ModelDocument) -> None:
    scorer = Scorer(model)
    score = scorer.score(portrait(grade=1, penalties=3, patents=0))  # 10, 5, 20 of best 50, 40, 35
    reasons = scorer.reasons(score)
    assert [(r.code, r.shortfall) for r in reasons] == [
        ("tax_credit_grade", 40),
        ("penalties", 35),
        ("patents", 15),
    ]
    assert reasons[0].text_en == "Tax credit grade (1) is 40 points short of its best range (>= 3.5)"
    assert reasons[0].text_zh == "纳税信用等级（1）比最佳区间（>= 3.5）少40分"
    assert reasons[1].text_en.endswith("short of its best range (< 0.5)")
    assert [r.code for r in scorer.reasons(score, top=1)] == ["tax_credit_grade"]
    none = scorer.score(portrait(grade=None))
    assert scorer.reasons(none)[0].text_en.startswith("Tax credit grade (no data) is 30 points short")
    assert scorer.reasons(scorer.score(portrait())) == ()  # at the best of everything
    assert reasons[0].to_json()["shortfall"] == 40


def test_the_best_bin_is_one_the_training_population_reached(doc: dict[str, Any]) -> None:
    doc["indicators"][0]["training_shares"] = [0.4, 0.5, 0.0]  # nobody reached >= 3.5
    doc["indicators"][0]["missing_share"] = 0.1
    scorer = Scorer(parse(doc))
    score = scorer.score(portrait(grade=1.0))
    assert score.indicators[0].best_points == 30
    assert (
        scorer.reasons(score)[0].text_en
        == "Tax credit grade (1) is 20 points short of its best range ([1.5, 3.5))"
    )


def test_more_than_four_shortfalls_give_four_reasons(doc: dict[str, Any]) -> None:
    for k in range(3):
        extra = dict(doc["indicators"][2], id=f"extra_{k}", actionable=True)
        doc["indicators"].append(extra)
    scorer = Scorer(parse(doc))
    values = {**portrait(grade=0, penalties=5, patents=0), "extra_0": 0, "extra_1": 0, "extra_2": 0}
    assert len(scorer.reasons(scorer.score(values))) == 4


def test_the_hash_is_the_hash_of_the_canonical_file(model: ModelDocument, doc: dict[str, Any]) -> None:
    canonical = model.canonical()
    assert model.content_hash() == hashlib.sha256(canonical).digest()
    assert parse_model(canonical).content_hash() == model.content_hash()
    reordered = json.dumps(dict(reversed(list(doc.items()))), indent=3)
    assert parse_model(reordered).content_hash() == model.content_hash()
    doc["indicators"][0]["points"][0] = 11
    assert parse(doc).content_hash() != model.content_hash()


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda d: d["indicators"][0].update(splits=[3.5, 1.5]),
            "indicators.0: Value error, splits: not strictly increasing",
        ),
        (lambda d: d["indicators"][0].update(points=[10, 30]), "points: 2 for 3 bins"),
        (
            lambda d: d["indicators"][0].update(points=["10", 30, 50]),
            "indicators.0.points.0: Input should be a valid integer",
        ),
        (lambda d: d["indicators"][0].update(points=[10.5, 30, 50]), "indicators.0.points.0"),
        (lambda d: d["indicators"][0].update(missing_share=0.5), "sum to 1.4"),
        (lambda d: d["indicators"][0].update(training_shares=[0.2, 0.7]), "training_shares: 2 for 3 bins"),
        (
            lambda d: d["indicators"][0].update(formula="x*2"),
            "indicators.0.formula: Extra inputs are not permitted",
        ),
        (
            lambda d: d["indicators"].append(d["indicators"][0]),
            "indicators: listed twice ['tax_credit_grade']",
        ),
        (lambda d: d["grades"].reverse(), "grades: must be ['A', 'B', 'C', 'D', 'E'] in that order"),
        (lambda d: d["grades"][1].update(min_score=130), "min_score must fall strictly from A to D"),
        (lambda d: d["grades"][1].update(max_probability=0.01), "max_probability must rise strictly"),
        (lambda d: d["grades"][4].update(min_score=0), "E has neither min_score nor max_probability"),
        (lambda d: d["grades"][2].update(min_score=None), "A-D each need min_score and max_probability"),
        (lambda d: d["scaling"].update(pdo=0), "scaling.pdo: Input should be greater than 0"),
        (lambda d: d.update(format="other/format"), "format: Input should be 'credit-ledger/scorecard'"),
        (lambda d: d["indicator_file"].update(sha256="ab"), "indicator_file.sha256"),
        (lambda d: d.pop("synthetic"), "synthetic: Field required"),
    ],
)
def test_a_malformed_model_is_refused_with_the_field_named(
    doc: dict[str, Any], edit: Any, expected: str
) -> None:
    edit(doc)
    with pytest.raises(ModelDocumentError) as e:
        parse(doc)
    assert expected in e.value.message


def test_a_model_must_read_the_indicator_file_it_names(
    model: ModelDocument, indicators: IndicatorFile, doc: dict[str, Any]
) -> None:
    check_model_against(model, indicators)
    doc["indicator_file"]["sha256"] = "0" * 64
    with pytest.raises(ModelDocumentError, match="indicator_file: the model reads v1"):
        check_model_against(parse(doc), indicators)
    doc = json.loads(model.canonical())
    doc["indicators"][0]["id"] = "tax_grade_v9"
    with pytest.raises(ModelDocumentError, match="not in indicator file v1: \\['tax_grade_v9'\\]"):
        check_model_against(parse(doc), indicators)
