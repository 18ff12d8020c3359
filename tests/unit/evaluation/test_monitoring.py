"""Population stability and grade migration."""

from __future__ import annotations

import math
from datetime import date

import pytest

from ledger.evaluation.errors import ModelDocumentError, UnknownIndicator
from ledger.evaluation.monitoring import WARNING, grade_migration, psi, render_html, stability
from ledger.evaluation.scoring import Scorer
from ledger.evaluation.synthetic import SyntheticCohort
from ledger.evaluation.training import TrainedModel


def test_psi_values() -> None:
    assert psi([0.5, 0.5], [0.5, 0.5]) == 0
    expected = 0.4 * math.log(0.9 / 0.5) + (-0.4) * math.log(0.1 / 0.5)
    assert psi([0.5, 0.5], [0.9, 0.1]) == pytest.approx(expected)
    assert psi([0.5, 0.5, 0.0], [0.5, 0.5, 0.0]) == 0  # an empty bin on both sides weighs nothing
    emptied = psi([0.5, 0.5], [1.0, 0.0])  # floored at 0.0001, not a division by zero
    assert emptied == pytest.approx(0.5 * math.log(1 / 0.5) + (1e-4 - 0.5) * math.log(1e-4 / 0.5))
    with pytest.raises(ValueError, match="2 expected shares against 3"):
        psi([0.5, 0.5], [0.2, 0.3, 0.5])


def test_the_training_population_is_stable_against_itself(trained: TrainedModel) -> None:
    scorer = Scorer(trained.document)
    report = stability(scorer, trained.card, [r.values for r in trained.train_rows])
    assert report.score.psi < 0.01 and report.score.level == "stable"
    assert all(s.psi < 0.01 for s in report.indicators)
    assert report.warnings == ()
    assert sum(report.grades.values()) == pytest.approx(1)
    assert report.population == len(trained.train_rows)


def test_a_shifted_population_is_warned_about(trained: TrainedModel, cohort: SyntheticCohort) -> None:
    """The same synthetic generator three years later and with every tax grade D."""
    scorer = Scorer(trained.document)
    later = SyntheticCohort(cohort.seed + 1, date(2028, 6, 30), cohort.evaluator.indicators)
    shifted = []
    for x in later.labelled(0, 400):
        values = dict(x.portrait.values)
        values["tax_credit_grade"] = 0.0
        shifted.append(values)
    report = stability(scorer, trained.card, shifted)
    by_name = {s.name: s for s in report.indicators}
    assert by_name["tax_credit_grade"].psi > WARNING and by_name["tax_credit_grade"].level == "warning"
    assert report.score.psi > WARNING
    assert any("tax_credit_grade" in w for w in report.warnings)
    assert any(w.startswith("PSI of score") for w in report.warnings)
    page = render_html(report)
    assert "class='warning'" in page and "tax_credit_grade" in page
    assert report.to_json()["warnings"] == list(report.warnings)


def test_monitoring_refuses_a_card_of_another_model_or_an_empty_population(trained: TrainedModel) -> None:
    scorer = Scorer(trained.document)
    other = trained.card.model_copy(update={"model_sha256": "0" * 64})
    with pytest.raises(ModelDocumentError, match="model_sha256"):
        stability(scorer, other, [trained.rows[0].values])
    with pytest.raises(ModelDocumentError, match="empty"):
        stability(scorer, trained.card, [])
    with pytest.raises(UnknownIndicator):
        stability(scorer, trained.card, [{"tax_credit_grade": 1.0}])


def test_grade_migration() -> None:
    earlier = {"a": "A", "b": "B", "c": "C", "d": "E", "gone": "B"}
    later = {"a": "B", "b": "B", "c": "A", "d": "D", "new": "C"}
    m = grade_migration(earlier, later)
    assert (m.upgraded, m.unchanged, m.downgraded, m.entered, m.left) == (2, 1, 1, 1, 1)
    assert m.matrix["A"]["B"] == 1 and m.matrix["C"]["A"] == 1 and m.matrix["E"]["D"] == 1
    assert sum(sum(row.values()) for row in m.matrix.values()) == 4
    assert m.to_json()["downgraded_share"] == 0.25
    with pytest.raises(ValueError, match="later grade of a is 'F'"):
        grade_migration({"a": "A"}, {"a": "F"})
    assert "Grade migration" in render_html_for(m)


def render_html_for(m: object) -> str:
    from ledger.evaluation.monitoring import Migration, Stability, StabilityReport

    empty = Stability("score", 0.0, "stable", ("all",), (1.0,), (1.0,))
    assert isinstance(m, Migration)
    return render_html(StabilityReport("1", 1, empty, (), {"A": 1.0}), m)
