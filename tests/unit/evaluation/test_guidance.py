"""Counterfactual guidance: which indicators, by how much, would lift the grade."""

from __future__ import annotations

from typing import Any

from ledger.evaluation.guidance import guidance
from ledger.evaluation.model import ModelDocument
from ledger.evaluation.scoring import Scorer

from .conftest import parse


def values(grade: float | None, penalties: float, patents: float) -> dict[str, float | None]:
    return {"tax_credit_grade": grade, "penalties": penalties, "patents": patents}


def test_each_single_move_that_reaches_the_next_grade(model: ModelDocument) -> None:
    scorer = Scorer(model)
    g = guidance(scorer, scorer.score(values(3, 1, 1)))  # 30 + 25 + 35 = 90: C; B from 100
    assert (g.grade, g.target_grade, g.points_needed) == ("C", "B", 10)
    assert [(c.indicator, c.gain, c.low, c.high) for c in g.single] == [
        ("penalties", 15, None, 0.5),
        ("tax_credit_grade", 20, 3.5, None),
    ]
    assert g.single[0].text_en == "bring Administrative penalties below 0.5 (penalties)"
    assert g.single[0].text_zh == "将行政处罚次数降到0.5以下"
    assert g.single[1].text_en == "raise Tax credit grade to at least 3.5 (grade)"
    assert g.single[1].text_zh == "将纳税信用等级提高到不低于3.5"
    assert g.combined == ()
    for change in g.single:  # each suggestion, applied, reaches the grade
        moved = values(3, 1, 1)
        moved[change.indicator] = change.low if change.low is not None else (change.high or 0) - 0.5
        assert scorer.score(moved).grade == "B"


def test_a_move_goes_only_as_far_as_needed(model: ModelDocument) -> None:
    scorer = Scorer(model)
    g = guidance(scorer, scorer.score(values(1, 3, 1)))  # 10 + 5 + 35 = 50: E; D from 60
    by = {c.indicator: c for c in g.single}
    assert (by["tax_credit_grade"].low, by["tax_credit_grade"].high, by["tax_credit_grade"].gain) == (
        1.5,
        3.5,
        20,
    )
    assert (by["penalties"].low, by["penalties"].high, by["penalties"].gain) == (0.5, 2.5, 20)
    assert by["penalties"].text_en.startswith("bring Administrative penalties below 2.5")


def test_non_actionable_indicators_are_never_suggested(model: ModelDocument) -> None:
    scorer = Scorer(model)
    g = guidance(scorer, scorer.score(values(4, 0, 0)))  # 50 + 40 + 20 = 110: B; only patents could move
    assert (g.grade, g.target_grade, g.single, g.combined) == ("B", "A", (), ())


def test_several_moves_together_when_no_single_one_suffices(doc: dict[str, Any]) -> None:
    for grade, cut in zip(doc["grades"][:4], (150, 130, 110, 90), strict=True):
        grade["min_score"] = cut
    scorer = Scorer(parse(doc))
    g = guidance(scorer, scorer.score(values(1, 3, 0)))  # 10 + 5 + 20 = 35: E; D from 90
    assert g.points_needed == 55 and g.single == ()
    assert [(c.indicator, c.gain, c.low, c.high) for c in g.combined] == [
        ("tax_credit_grade", 40, 3.5, None),
        ("penalties", 20, 0.5, 2.5),
    ]


def test_no_guidance_when_even_every_move_falls_short(doc: dict[str, Any]) -> None:
    for grade, cut in zip(doc["grades"][:4], (200, 180, 160, 120), strict=True):
        grade["min_score"] = cut
    scorer = Scorer(parse(doc))
    g = guidance(scorer, scorer.score(values(1, 3, 0)))  # needs 85, at most 40 + 35
    assert (g.points_needed, g.single, g.combined) == (85, (), ())


def test_grade_a_needs_nothing(model: ModelDocument) -> None:
    scorer = Scorer(model)
    g = guidance(scorer, scorer.score(values(4, 0, 1)))
    assert (g.grade, g.target_grade, g.points_needed) == ("A", None, 0)
    assert g.to_json()["single"] == []


def test_a_missing_value_is_guided_to_a_range(model: ModelDocument) -> None:
    scorer = Scorer(model)
    g = guidance(scorer, scorer.score(values(None, 1, 1)))  # 20 + 25 + 35 = 80: C; B from 100
    tax = next(c for c in g.single + g.combined if c.indicator == "tax_credit_grade")
    assert tax.current is None and tax.low == 3.5
    assert tax.text_en == "have Tax credit grade of at least 3.5 (grade)"
    assert tax.to_json()["gain"] == 30
