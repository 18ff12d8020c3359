"""The SYNTHETIC cohort: reproducible, valid against the catalogue, risk where one expects it."""

from __future__ import annotations

from ledger.domain.catalogue import default_catalogue
from ledger.domain.identifiers import validate_uscc
from ledger.evaluation.facts import FACTS
from ledger.evaluation.synthetic import Labelled, SyntheticCohort


def test_the_same_seed_gives_the_same_enterprises_in_any_order(cohort: SyntheticCohort) -> None:
    again = SyntheticCohort(cohort.seed, cohort.as_of, cohort.evaluator.indicators)
    assert again.enterprise(37) == cohort.enterprise(37)
    piece = list(again.labelled(35, 5))
    assert piece[2].enterprise == cohort.enterprise(37)
    other = SyntheticCohort(cohort.seed + 1, cohort.as_of, cohort.evaluator.indicators)
    assert other.enterprise(37).records != cohort.enterprise(37).records


def test_labels_are_reproducible(cohort: SyntheticCohort, labelled: list[Labelled]) -> None:
    assert [x.default for x in cohort.labelled(100, 50)] == [x.default for x in labelled[100:150]]


def test_every_record_fits_the_catalogue_and_every_subject_is_a_valid_uscc(labelled: list[Labelled]) -> None:
    catalogue = default_catalogue()
    for x in labelled[:400]:
        assert validate_uscc(x.subject).code == x.subject
        for r in x.enterprise.records:
            if r.category in FACTS:
                assert set(r.fields) <= set(FACTS[r.category])
                continue
            assert catalogue.validate_record(r.category, r.fields, r.severity) == [], r


def test_the_cohort_looks_like_the_issue_asks(labelled: list[Labelled]) -> None:
    n = len(labelled)
    records = sum(len(x.enterprise.records) for x in labelled) / n
    assert 17 <= records <= 23  # about 20 records per enterprise
    rate = sum(x.default for x in labelled) / n
    assert 0.04 <= rate <= 0.12
    assert sum(1 for x in labelled if x.portrait.sufficient) / n > 0.85
    assert any(r.repaired for x in labelled for r in x.enterprise.records)
    assert any(r.disputed for x in labelled for r in x.enterprise.records)


def test_default_risk_follows_the_indicators(labelled: list[Labelled]) -> None:
    def rate(group: list[Labelled]) -> float:
        return sum(x.default for x in group) / len(group)

    def split(name: str, bad: float) -> tuple[float, float]:
        worse = [x for x in labelled if (x.portrait.values[name] or 0) >= bad]
        better = [x for x in labelled if (x.portrait.values[name] or 0) < bad]
        return rate(worse), rate(better)

    worse, better = split("judicial_enforcement", 1)
    assert worse > 2 * better
    worse, better = split("social_insurance_arrears_months", 2)
    assert worse > 2 * better
    low_grade = [x for x in labelled if x.portrait.values["tax_credit_grade"] in (0.0, 1.0)]
    top_grade = [x for x in labelled if x.portrait.values["tax_credit_grade"] == 4.0]
    assert rate(low_grade) > 3 * rate(top_grade)


def test_the_description_says_synthetic(cohort: SyntheticCohort) -> None:
    d = cohort.description(10)
    assert d["synthetic"] is True and d["seed"] == cohort.seed and d["generator_version"] == 1
