"""Indicator file v2 end to end (real anvil, SQLite): a model trained on v2 and approved on
chain evaluates with the 专精特新 qualification level in force, a v1 model beside it keeps
evaluating under v1, and the auditor recomputes each under the indicator file its model names.

Both models are trained on SYNTHETIC cohorts (`ledger.evaluation.synthetic`); the v2 one on a
cohort dated to a fixed day, so the model (which keeps the qualification) is the same on
every run; the evaluated enterprise is one of that generator's as of today, qualified, with
its records ingested under catalogue v2.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount

from ledger.chain.consents import GrantMessage
from ledger.chain.membership import uscc_hash
from ledger.chain.model_registry import ApproveModelProposalMessage
from ledger.domain.catalogue import newest_catalogue
from ledger.evaluation.indicators import IndicatorFile
from ledger.evaluation.portrait import PortraitEvaluator
from ledger.evaluation.schema import indicator_files
from ledger.evaluation.scoring import Scorer
from ledger.evaluation.synthetic import SyntheticCohort
from ledger.evaluation.training import TrainedModel
from tests.integration.audit.conftest import export_of, verifier_for
from tests.integration.conftest import Onboarding
from tests.integration.test_evaluation import (
    TODAY,
    catalogue_records,
    cohort,
    proposal_for,
    submission,
    synthetic_model,
    trained,
)
from tests.integration.test_evaluation_audit import ACCESS_TRAIL, tampered
from tests.integration.test_release import CREDIT, World, world

__all__ = ["cohort", "trained", "world"]  # fixtures shared with the evaluation tests

LEVEL = "specialized_sme_level"
TRAINED_ON = date(2025, 6, 30)
SEED = 23
ENTERPRISES = 3_000  # enough qualified enterprises for the level to pass the IV threshold


@pytest.fixture(scope="module")
def v2() -> IndicatorFile:
    return indicator_files().version(2)


@pytest.fixture(scope="module")
def trained_v2(v2: IndicatorFile) -> TrainedModel:
    cohort = SyntheticCohort(SEED, TRAINED_ON, v2)
    model = synthetic_model(cohort, ENTERPRISES, " (indicator file v2)", "（指标文件v2）")
    assert LEVEL in {i.id for i in model.document.indicators}, model.card.binning
    return model


def governed(w: World, model: TrainedModel) -> tuple[dict[str, Any], int]:
    """`model` stored, proposed by operator 1 and approved by operator 2: its receipt and version."""
    op = w.sdk(w.operators[0])
    stored = op.store_model_documents(
        json.loads(model.document.canonical()), json.loads(model.card.canonical())
    )
    proposal = proposal_for(op, stored)
    w.sdk(w.operators[1]).act(ApproveModelProposalMessage, id=proposal)
    return stored, int(op.model_proposal(proposal)["version"])


def qualified_enterprise(v2: IndicatorFile) -> Any:
    """A synthetic enterprise as of today with a sufficient portrait and a qualification in force."""
    cohort = SyntheticCohort(SEED, TODAY, v2)
    evaluator = PortraitEvaluator(v2)
    for n in range(5_000):
        e = cohort.enterprise(n)
        portrait = evaluator.evaluate(catalogue_records(e.records), TODAY)
        if portrait.sufficient and portrait.values[LEVEL] is not None:
            return e
    raise AssertionError("no qualified enterprise in 5,000")


@pytest.mark.slow
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_v2_model_reads_the_qualification_and_a_v1_model_keeps_v1(
    world: World,
    trained: TrainedModel,
    trained_v2: TrainedModel,
    v2: IndicatorFile,
    dev_accounts: list[LocalAccount],
) -> None:
    w = world
    assert w.sdk(w.operators[0]).publish_catalogue(newest_catalogue().model_dump(mode="json"))["version"] == 2
    enterprise = qualified_enterprise(v2)
    records, subject = catalogue_records(enterprise.records), enterprise.subject
    account = Onboarding(w.platform, w.operators).enterprise(dev_accounts[8], subject, "合成专精特新企业")
    w.sdk(w.provider).submit_records([submission(r, subject) for r in records])

    stored_v1, version_v1 = governed(w, trained)
    stored_v2, version_v2 = governed(w, trained_v2)
    assert (stored_v1["indicator_version"], stored_v2["indicator_version"]) == (1, 2)
    inputs = int(stored_v2["input_categories"])
    assert int(stored_v1["input_categories"]) == inputs  # v2 reads no new category
    shown = w.sdk(w.bank).model_version(version_v2)
    assert shown["status"] == "active" and int(shown["indicator_version"]) == 2
    agreement = w.agreement_for(w.bank, inputs, CREDIT)
    now = int(w.platform.chain.w3.eth.get_block("latest")["timestamp"])
    w.sdk(account).act(
        GrantMessage, uscc_hash=uscc_hash(subject), institution=w.bank.address, agreement_id=0,
        categories=inputs, purposes=CREDIT, raw_categories=0, expires_at=now + 3600,
    )  # fmt: skip

    # the v2 model: the qualification read, scored, and it counts
    answer = w.sdk(w.bank).evaluate(subject, version_v2, CREDIT, agreement)
    data = answer["data"]
    portrait = PortraitEvaluator(v2).evaluate(records, TODAY)
    assert data["status"] == "scored" and data["portrait"]["indicator_version"] == 2
    assert data["portrait"]["values"][LEVEL] in (1.0, 2.0, 3.0)
    assert data["portrait"]["values"] == json.loads(json.dumps(dict(portrait.values)))
    scorer = Scorer(trained_v2.document)
    expected = scorer.score(portrait.values)
    assert (data["score"], data["grade"]) == (expected.score, expected.grade)
    unqualified = scorer.score({**portrait.values, LEVEL: None})
    assert unqualified.score < expected.score  # the qualification is worth points
    entry_v2 = answer["receipt"]["index"]

    # the enterprise sees the same under each model it names; monitoring reads v2 portraits
    own = w.sdk(account).self_evaluation(subject, model_version=version_v2)
    assert (own["score"], own["portrait"]["values"][LEVEL]) == (
        data["score"],
        data["portrait"]["values"][LEVEL],
    )
    assert (
        LEVEL not in w.sdk(account).self_evaluation(subject, model_version=version_v1)["portrait"]["values"]
    )
    monitored = w.sdk(w.operators[0]).model_monitoring(version_v2)
    assert LEVEL in {i["name"] for i in monitored["indicators"]}

    # the v1 model, the same enterprise, the same records: v1's portrait, no qualification
    answer_v1 = w.sdk(w.bank).evaluate(subject, version_v1, CREDIT, agreement)
    data_v1 = answer_v1["data"]
    assert data_v1["status"] == "scored" and data_v1["portrait"]["indicator_version"] == 1
    assert LEVEL not in data_v1["portrait"]["values"]
    v1_portrait = PortraitEvaluator(indicator_files().version(1)).evaluate(records, TODAY)
    assert data_v1["score"] == Scorer(trained.document).score(v1_portrait.values).score

    # the auditor recomputes both, each under the indicator file its model names
    export = export_of(w.platform, openings=True)
    leaves = {e.seq: json.loads(e.leaf) for e in export.entries[ACCESS_TRAIL]}
    assert leaves[entry_v2]["indicator_version"] == 2
    assert leaves[answer_v1["receipt"]["index"]]["indicator_version"] == 1
    rnd = {
        v.record_id for v in export.records
        if v.opening is not None and v.opening.document["category"] == "rnd"
        and v.opening.document["subject"] == subject
    }  # fmt: skip
    assert rnd and rnd <= {i["record_id"] for i in leaves[entry_v2]["inputs"]}
    report = verifier_for(w.platform).verify(export)
    assert report.findings == [], [str(f) for f in report.findings]
    assert report.to_json()["evaluations"] == {"run": True, "checked": 2, "recomputed": 2}

    # the qualification's record dropped from the v2 entry: left out (6.2), and the answer
    # recomputed without it no longer hashes as the entry says (6.3)
    def drop_rnd(p: dict[str, Any]) -> None:
        p["inputs"] = [i for i in p["inputs"] if i["record_id"] not in rnd]

    found = verifier_for(w.platform).verify(tampered(export, entry_v2, drop_rnd)).findings
    steps = {(f.step.value, f.index) for f in found if f.step.value.startswith("6.")}
    assert steps == {("6.2", entry_v2), ("6.3", entry_v2)}, [str(f) for f in found]
