"""Fixtures of the evaluation tests: a small hand-made model, and one trained on a small
SYNTHETIC cohort once per session (training is the slow part; the 100,000-enterprise
figures are in `bench/evaluation_core.py`)."""

from __future__ import annotations

import copy
import json
from datetime import date
from typing import Any

import pytest

from ledger.evaluation.indicators import IndicatorFile
from ledger.evaluation.model import ModelDocument, parse_model
from ledger.evaluation.schema import default_indicators
from ledger.evaluation.synthetic import Labelled, SyntheticCohort
from ledger.evaluation.training import TrainedModel, TrainingRow, TrainingSource, train

AS_OF = date(2025, 6, 30)
SEED = 11
COHORT = 1_500


def model_dict() -> dict[str, Any]:
    """A three-indicator model, written by hand so every point is known.

    tax_credit_grade: < 1.5 → 10, [1.5, 3.5) → 30, >= 3.5 → 50, none → 20
    penalties:        < 0.5 → 40, [0.5, 2.5) → 25, >= 2.5 → 5, none → 20 (never seen)
    patents:          < 0.5 → 20, >= 0.5 → 35, none → 20 (never seen); not actionable here
    Cut-offs: A >= 120, B >= 100, C >= 80, D >= 60, E below.
    """
    return {
        "format": "credit-ledger/scorecard",
        "format_version": 1,
        "model_id": "test_scorecard",
        "model_version": "t1",
        "synthetic": True,
        "target_en": "default within 12 months (synthetic cohort)",
        "target_zh": "12个月内违约（合成样本）",
        "indicator_file": {"version": 1, "sha256": default_indicators().content_hash().hex()},
        "scaling": {"method": "pdo_odds", "pdo": 20.0, "odds": 50.0, "base_score": 100.0},
        "indicators": [
            {
                "id": "tax_credit_grade", "name_zh": "纳税信用等级", "name_en": "Tax credit grade",
                "unit": "grade", "risk": "decreases", "actionable": True,
                "splits": [1.5, 3.5], "points": [10, 30, 50], "missing_points": 20,
                "training_shares": [0.2, 0.5, 0.2], "missing_share": 0.1,
            },
            {
                "id": "penalties", "name_zh": "行政处罚次数", "name_en": "Administrative penalties",
                "unit": "penalties", "risk": "increases", "actionable": True,
                "splits": [0.5, 2.5], "points": [40, 25, 5], "missing_points": 20,
                "training_shares": [0.7, 0.2, 0.1], "missing_share": 0.0,
            },
            {
                "id": "patents", "name_zh": "有效专利数", "name_en": "Valid patents",
                "unit": "patents", "risk": "decreases", "actionable": False,
                "splits": [0.5], "points": [20, 35], "missing_points": 20,
                "training_shares": [0.6, 0.4], "missing_share": 0.0,
            },
        ],
        "grades": [
            {"grade": "A", "min_score": 120, "max_probability": 0.02},
            {"grade": "B", "min_score": 100, "max_probability": 0.05},
            {"grade": "C", "min_score": 80, "max_probability": 0.10},
            {"grade": "D", "min_score": 60, "max_probability": 0.20},
            {"grade": "E", "min_score": None, "max_probability": None},
        ],
    }  # fmt: skip


def parse(doc: dict[str, Any]) -> ModelDocument:
    return parse_model(json.dumps(doc, ensure_ascii=False))


@pytest.fixture
def doc() -> dict[str, Any]:
    return copy.deepcopy(model_dict())


@pytest.fixture
def model() -> ModelDocument:
    return parse(model_dict())


@pytest.fixture(scope="session")
def indicators() -> IndicatorFile:
    return default_indicators()


@pytest.fixture(scope="session")
def cohort() -> SyntheticCohort:
    return SyntheticCohort(SEED, AS_OF, default_indicators())


@pytest.fixture(scope="session")
def labelled(cohort: SyntheticCohort) -> list[Labelled]:
    return list(cohort.labelled(0, COHORT))


@pytest.fixture(scope="session")
def trained(labelled: list[Labelled], indicators: IndicatorFile) -> TrainedModel:
    rows = [TrainingRow(x.subject, x.portrait.values, x.default) for x in labelled if x.portrait.sufficient]
    source = TrainingSource(
        synthetic=True,
        description_en="SYNTHETIC SME cohort for the unit tests",
        description_zh="单元测试用合成中小企业样本",
        details={"generator": "ledger.evaluation.synthetic", "seed": SEED, "enterprises": COHORT},
        excluded_insufficient=len(labelled) - len(rows),
    )
    return train(rows, indicators, source)
