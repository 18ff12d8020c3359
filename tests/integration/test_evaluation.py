"""Evaluation as a release, end to end (real anvil, SQLite and PostgreSQL): model governance on
chain, `POST /evaluations` and every way it must refuse.

The model is trained here on a SYNTHETIC cohort (`ledger.evaluation.synthetic`); the
evaluated enterprise is one of that generator's, its records ingested through the API.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from typer.testing import CliRunner

from ledger.chain.consents import RevokeMessage
from ledger.chain.eip712 import sign
from ledger.chain.model_registry import (
    ApproveModelProposalMessage,
    ProposeModelMessage,
    ProposeModelRetirementMessage,
)
from ledger.cli import app as cli
from ledger.domain.business_day import business_day
from ledger.evaluation.facts import FACTS
from ledger.evaluation.portrait import PortraitEvaluator
from ledger.evaluation.records import PlainRecord
from ledger.evaluation.schema import default_indicators
from ledger.evaluation.scoring import Scorer
from ledger.evaluation.synthetic import SyntheticCohort
from ledger.evaluation.training import TrainedModel, TrainingRow, TrainingSource, train
from ledger.evaluation_release.request import (
    evaluation_domain,
    evaluation_request_to_json,
    sign_evaluation_request,
)
from ledger.logs.leaves import decode_leaf
from ledger.logs.models import LogEntry
from ledger.records.samples import sample_uscc
from ledger.release.request import request_domain, request_to_json, sign_data_request
from ledger.release.service import response_hash
from ledger.release.trail import ACCESS_TRAIL_LOG
from ledger.sdk import ApiError
from ledger.services import audit_events
from tests.integration.test_release import (
    CATALOGUE,
    CREDIT,
    GUARANTEE,
    World,
    live_api,
    refused,
    trail_size,
    world,
)

__all__ = ["live_api", "world"]  # the release tests' world and the API over real HTTP

TODAY = business_day(datetime.now(UTC))  # the platform's day (UTC+8), as_of of its evaluations
SEED = 23


@pytest.fixture(scope="module")
def cohort() -> SyntheticCohort:
    return SyntheticCohort(SEED, TODAY, default_indicators())


def synthetic_model(cohort: SyntheticCohort, enterprises: int, what_en: str, what_zh: str) -> TrainedModel:
    """A scorecard trained on the first `enterprises` of a SYNTHETIC cohort, under its indicator file."""
    labelled = list(cohort.labelled(0, enterprises))
    rows = [TrainingRow(x.subject, x.portrait.values, x.default) for x in labelled if x.portrait.sufficient]
    source = TrainingSource(
        synthetic=True,
        description_en=f"SYNTHETIC SME cohort{what_en} for the evaluation integration tests",
        description_zh=f"评价集成测试用合成中小企业样本{what_zh}",
        details={"generator": "ledger.evaluation.synthetic", "seed": cohort.seed, "enterprises": enterprises},
        excluded_insufficient=len(labelled) - len(rows),
    )
    return train(rows, cohort.evaluator.indicators, source)


def proposal_for(client: Any, stored: dict[str, Any]) -> int:
    """`client` (an operator) proposes the model `stored` (a `store_model_documents` receipt): the
    activation proposal's id."""
    created = client.act(
        ProposeModelMessage,
        model_hash=bytes.fromhex(stored["model_hash"][2:]),
        card_hash=bytes.fromhex(stored["card_hash"][2:]),
        indicator_version=int(stored["indicator_version"]),
        input_categories=int(stored["input_categories"]),
    )
    return int(created["created_id"])


@pytest.fixture(scope="module")
def trained(cohort: SyntheticCohort) -> TrainedModel:
    return synthetic_model(cohort, 1_500, "", "")


def catalogue_records(records: tuple[PlainRecord, ...]) -> list[PlainRecord]:
    """The records a provider reports (conduct facts are the platform's own, not ingested)."""
    return [r for r in records if r.category not in FACTS]


def submission(r: PlainRecord, subject: str) -> dict[str, Any]:
    out = {
        "category": r.category,
        "subject": subject,
        "event_date": r.event_date.isoformat(),
        "source_ref": f"EVAL-{r.record_id}",
        "fields": json.loads(json.dumps(dict(r.fields), default=str, ensure_ascii=False)),
    }
    if r.severity is not None:
        out["severity"] = r.severity
    return out


class Evaluations:
    """The world of the release tests, plus a governed model and a well-documented enterprise."""

    def __init__(
        self, w: World, trained: TrainedModel, cohort: SyntheticCohort, subject_account: LocalAccount
    ) -> None:
        self.w = w
        self.trained = trained
        op = w.sdk(w.operators[0])
        self.stored = op.store_model_documents(
            json.loads(trained.document.canonical()), json.loads(trained.card.canonical())
        )
        self.inputs = int(self.stored["input_categories"])
        assert self.stored["input_category_names"] == CATALOGUE.names_in_mask(self.inputs) != []
        # a synthetic enterprise whose portrait is sufficient, with its records ingested
        enterprise = next(
            e for e in (cohort.enterprise(n) for n in range(200)) if self._sufficient(e.records)
        )
        self.records = catalogue_records(enterprise.records)
        self.subject = enterprise.subject
        w.platform  # noqa: B018  (the platform is up)
        from tests.integration.conftest import Onboarding

        Onboarding(w.platform, w.operators).enterprise(subject_account, self.subject, "合成企业")
        self.enterprise = subject_account
        w.sdk(w.provider).submit_records([submission(r, self.subject) for r in self.records])
        self.agreement = w.agreement_for(w.bank, self.inputs, CREDIT)

    @staticmethod
    def _sufficient(records: tuple[PlainRecord, ...]) -> bool:
        return PortraitEvaluator(default_indicators()).evaluate(catalogue_records(records), TODAY).sufficient

    def propose(self) -> int:
        """Operator 1 proposes the model: the version's activation proposal id."""
        return proposal_for(self.w.sdk(self.w.operators[0]), self.stored)

    def approve(self, proposal: int, operator: int = 1) -> None:
        self.w.sdk(self.w.operators[operator]).act(ApproveModelProposalMessage, id=proposal)

    def version_of(self, proposal: int) -> int:
        return int(self.w.sdk(self.w.operators[0]).model_proposal(proposal)["version"])

    def active(self) -> int:
        proposal = self.propose()
        self.approve(proposal)
        return self.version_of(proposal)

    def grant(self, categories: int | None = None, *, seconds: int = 3600) -> int:
        from ledger.chain.consents import GrantMessage
        from ledger.chain.membership import uscc_hash

        now = int(self.w.platform.chain.w3.eth.get_block("latest")["timestamp"])
        return int(
            self.w.sdk(self.enterprise).act(
                GrantMessage, uscc_hash=uscc_hash(self.subject), institution=self.w.bank.address,
                agreement_id=0, categories=self.inputs if categories is None else categories,
                purposes=CREDIT, raw_categories=0, expires_at=now + seconds,
            )["created_id"]
        )  # fmt: skip

    def evaluate(self, version: int, **kw: Any) -> dict[str, Any]:
        return self.w.sdk(self.w.bank).evaluate(
            kw.get("subject", self.subject),
            version,
            kw.get("purpose", CREDIT),
            kw.get("agreement", self.agreement),
        )

    def entry(self, index: int) -> dict[str, Any]:
        with self.w.platform.db.session() as session:
            row = session.get(LogEntry, (ACCESS_TRAIL_LOG, index))
            assert row is not None
            leaf = decode_leaf(bytes(row.leaf))
        assert leaf.type == "evaluation"
        return dict(leaf.payload)


@pytest.fixture
def ev(
    world: World, trained: TrainedModel, cohort: SyntheticCohort, dev_accounts: list[LocalAccount]
) -> Evaluations:
    return Evaluations(world, trained, cohort, dev_accounts[8])


def test_an_approved_model_scores_as_the_published_model_does(ev: Evaluations) -> None:
    version = ev.active()
    grant = ev.grant()
    before = trail_size(ev.w.platform)
    answer = ev.evaluate(version)
    data, receipt = answer["data"], answer["receipt"]
    assert receipt["response_hash"] == "0x" + response_hash(data).hex()
    assert data["status"] == "scored" and data["subject"] == ev.subject
    # the same score, grade and reasons as the published document applied to the same records
    portrait = PortraitEvaluator(default_indicators()).evaluate(ev.records, TODAY)
    scorer = Scorer(ev.trained.document)
    expected = scorer.score(portrait.values)
    assert (data["score"], data["grade"]) == (expected.score, expected.grade)
    assert data["probability_band"] == list(expected.band)
    assert [r["code"] for r in data["reasons"]] == [r.code for r in scorer.reasons(expected, 4)]
    assert all(r["text_zh"] and r["text_en"] for r in data["reasons"]) and len(data["reasons"]) == 4
    assert data["portrait"]["values"] == json.loads(json.dumps(dict(portrait.values)))
    assert data["model"]["model_hash"] == ev.stored["model_hash"] and data["model"]["synthetic"] is True
    # the trail entry, logged before the answer: model, record versions read, output hash
    assert trail_size(ev.w.platform) == before + 1 == receipt["index"] + 1
    entry = ev.entry(receipt["index"])
    assert entry["model_hash"] == ev.stored["model_hash"] and entry["model_version"] == version
    assert entry["card_hash"] == ev.stored["card_hash"]
    assert entry["response_hash"] == receipt["response_hash"] and entry["block"] == receipt["block"]
    assert entry["grant_id"] == grant and entry["status"] == "scored"
    stored_versions = {(i["record_id"], i["version"]) for i in entry["inputs"]}
    assert len(stored_versions) == len(portrait.inputs) > 0
    assert entry["request"]["institution"] == ev.w.bank.address
    # the enterprise sees the evaluation among the accesses to its data
    seen = ev.w.sdk(ev.enterprise).accesses(ev.subject)
    assert any(a["entry"].get("kind") == "evaluation" for a in seen)


def test_unapproved_unknown_and_retired_models_are_refused_with_nothing_logged(ev: Evaluations) -> None:
    ev.grant()
    proposal = ev.propose()  # one approval of a quorum of two
    proposed = ev.version_of(proposal)
    shown = ev.w.sdk(ev.w.bank).model_version(proposed)
    assert shown["status"] == "proposed" and shown["input_categories"] == str(ev.inputs)
    assert shown["input_category_names"] == ev.stored["input_category_names"]
    error = refused(lambda: ev.evaluate(proposed))
    assert error.status == 403 and error.body["error"] == "model_not_active"
    error = refused(lambda: ev.evaluate(99))
    assert error.status == 404 and error.body["error"] == "model_unknown"
    assert trail_size(ev.w.platform) == 0
    assert audit_events.recent(ev.w.platform.db, 1)[0].outcome == "refused"

    ev.approve(proposal)
    assert ev.evaluate(proposed)["data"]["status"] == "scored"
    retirement = ev.w.sdk(ev.w.operators[2]).act(ProposeModelRetirementMessage, version=proposed)[
        "created_id"
    ]
    assert ev.evaluate(proposed)["data"]["status"] == "scored"  # one approval: still active
    ev.approve(int(retirement), operator=0)
    assert ev.w.sdk(ev.w.bank).model_version(proposed)["status"] == "retired"
    error = refused(lambda: ev.evaluate(proposed))
    assert error.status == 403 and error.body["error"] == "model_not_active"
    assert trail_size(ev.w.platform) == 2


def test_a_request_refused_for_its_model_leaves_its_nonce_unspent(ev: Evaluations) -> None:
    ev.grant()
    proposal = ev.propose()  # not yet approved: not active
    version = ev.version_of(proposal)
    bank = ev.w.sdk(ev.w.bank)
    chain = bank.chain()
    domain = evaluation_domain(chain["chain_id"], chain["contracts"]["ModelRegistry"]["address"])
    body = evaluation_request_to_json(
        sign_evaluation_request(ev.w.bank, domain, subject=ev.subject, model_version=version,
                                purpose=CREDIT, agreement_id=ev.agreement)
    )  # fmt: skip
    error = refused(lambda: bank.send_evaluation(body))
    assert error.status == 403 and error.body["error"] == "model_not_active"
    assert trail_size(ev.w.platform) == 0

    ev.approve(proposal)
    # the same signed request, sent again once the model is active: its nonce was not spent
    assert bank.send_evaluation(body)["data"]["status"] == "scored"
    error = refused(lambda: bank.send_evaluation(body))  # and now it is
    assert error.status == 409
    assert trail_size(ev.w.platform) == 1


def test_refusals_compute_nothing(ev: Evaluations) -> None:
    version = ev.active()
    error = refused(lambda: ev.evaluate(version))  # no grant covers the model's inputs
    assert error.status == 403 and "no_covering_grant" in error.message
    grant = ev.grant()
    error = refused(lambda: ev.evaluate(version, purpose=GUARANTEE))  # purpose outside the agreement
    assert error.status == 403 and error.body["error"] == "evaluation_refused"
    error = refused(lambda: ev.evaluate(version, agreement=ev.w.agreement))  # agreement's scope lacks inputs
    assert error.status == 403 and error.body["error"] == "evaluation_refused"
    error = refused(lambda: ev.evaluate(version, subject=ev.subject.lower()))
    assert error.status == 422
    ev.w.sdk(ev.enterprise).act(RevokeMessage, grant_id=grant)
    error = refused(lambda: ev.evaluate(version))
    assert error.status == 403 and "no_covering_grant" in error.message
    assert trail_size(ev.w.platform) == 0
    refusals = [e for e in audit_events.recent(ev.w.platform.db, 20) if e.event == "evaluation"]
    assert len(refusals) >= 4 and all(e.outcome == "refused" for e in refusals)


def test_a_replayed_request_is_refused(ev: Evaluations) -> None:
    version = ev.active()
    ev.grant()
    client = ev.w.sdk(ev.w.bank)
    chain = client.chain()
    domain = evaluation_domain(chain["chain_id"], chain["contracts"]["ModelRegistry"]["address"])
    signed = sign_evaluation_request(
        ev.w.bank,
        domain,
        subject=ev.subject,
        model_version=version,
        purpose=CREDIT,
        agreement_id=ev.agreement,
    )
    body = evaluation_request_to_json(signed)
    assert client.send_evaluation(body)["data"]["status"] == "scored"
    with pytest.raises(ApiError) as info:
        client.send_evaluation(body)
    assert info.value.status == 409
    forged = dict(body, model_version=version + 1)
    with pytest.raises(ApiError) as info:
        client.send_evaluation(forged)
    assert info.value.status == 401
    assert trail_size(ev.w.platform) == 1


def test_one_nonce_namespace_for_data_and_evaluation_requests(ev: Evaluations) -> None:
    """A nonce the institution spent on a data request refuses an evaluation request carrying
    it, and the other way round: the auditor holds nonces unique across the trail (4.4)."""
    version = ev.active()
    ev.grant()
    client = ev.w.sdk(ev.w.bank)
    chain = client.chain()
    evaluations = evaluation_domain(chain["chain_id"], chain["contracts"]["ModelRegistry"]["address"])
    releases = request_domain(chain["chain_id"], chain["contracts"]["Consents"]["address"])

    def evaluation(nonce: bytes) -> dict[str, Any]:
        signed = sign_evaluation_request(
            ev.w.bank, evaluations, subject=ev.subject, model_version=version, purpose=CREDIT,
            agreement_id=ev.agreement,
        )  # fmt: skip
        return evaluation_request_to_json(sign(ev.w.bank, evaluations, replace(signed.message, nonce=nonce)))

    def release(nonce: bytes) -> dict[str, Any]:
        signed = sign_data_request(
            ev.w.bank, releases, subject=ev.subject, categories=ev.inputs, purpose=CREDIT,
            agreement_id=ev.agreement,
        )  # fmt: skip
        return request_to_json(sign(ev.w.bank, releases, replace(signed.message, nonce=nonce)))

    first, second = secrets.token_bytes(32), secrets.token_bytes(32)
    assert client.send_release(release(first))["data"]["subject"] == ev.subject
    error = refused(lambda: client.send_evaluation(evaluation(first)))
    assert (error.status, error.body["error"]) == (409, "replayed_request")
    assert client.send_evaluation(evaluation(second))["data"]["status"] == "scored"
    error = refused(lambda: client.send_release(release(second)))
    assert (error.status, error.body["error"]) == (409, "replayed_request")
    assert trail_size(ev.w.platform) == 2
    refusals = [e for e in audit_events.recent(ev.w.platform.db, 10) if e.outcome == "refused"]
    assert {e.event for e in refusals} >= {"evaluation", "release"}
    assert all("replayed_request" in (e.detail or "") for e in refusals[:2])


def test_operators_see_the_population_stability_and_its_warnings_online(ev: Evaluations) -> None:
    version = ev.active()
    report = ev.w.sdk(ev.w.operators[0]).model_monitoring(version)
    assert (report["status"], report["warning_psi"], report["population"]) == ("active", 0.25, 1)
    assert report["model"]["synthetic"] is True and report["model"]["version"] == version
    assert {i["name"] for i in report["indicators"]} == {i.id for i in ev.trained.document.indicators}
    assert sum(report["grades"].values()) == pytest.approx(1.0)
    # one enterprise against the training population: the score's distribution has shifted
    assert report["score"]["level"] == "warning" and report["score"]["psi"] > 0.25
    assert any(w.startswith("PSI of score is") for w in report["warnings"])
    error = refused(lambda: ev.w.sdk(ev.w.bank).model_monitoring(version))
    assert error.status == 403
    assert refused(lambda: ev.w.sdk(ev.w.operators[0]).model_monitoring(version + 9)).status == 404
    served = [e for e in audit_events.recent(ev.w.platform.db, 20) if e.event == "model.monitor"]
    assert [e.outcome for e in served] == ["refused", "served"]


def test_too_little_data_is_named_not_scored_and_still_logged(ev: Evaluations) -> None:
    version = ev.active()
    thin = sample_uscc(4242)
    account = Account.create()
    from tests.integration.conftest import Onboarding

    Onboarding(ev.w.platform, ev.w.operators).enterprise(account, thin, "资料不足企业")
    registration = next(r for r in ev.records if r.category == "registration")
    ev.w.sdk(ev.w.provider).submit_records([submission(registration, thin) | {"source_ref": "THIN-1"}])
    from ledger.chain.consents import GrantMessage
    from ledger.chain.membership import uscc_hash

    now = int(ev.w.platform.chain.w3.eth.get_block("latest")["timestamp"])
    ev.w.sdk(account).act(
        GrantMessage, uscc_hash=uscc_hash(thin), institution=ev.w.bank.address, agreement_id=0,
        categories=ev.inputs, purposes=CREDIT, raw_categories=0, expires_at=now + 3600,
    )  # fmt: skip
    answer = ev.evaluate(version, subject=thin)
    data = answer["data"]
    assert data["status"] == "insufficient_data" and "operations" in data["missing_dimensions"]
    assert "score" not in data and "grade" not in data
    entry = ev.entry(answer["receipt"]["index"])
    assert entry["status"] == "insufficient_data" and len(entry["inputs"]) == 1


def test_the_enterprise_sees_its_own_evaluation_free_with_guidance(ev: Evaluations) -> None:
    client = ev.w.sdk(ev.enterprise)
    error = refused(lambda: client.self_evaluation(ev.subject))
    assert error.status == 404 and error.body["error"] == "model_unknown"  # none approved yet
    version = ev.active()
    own = client.self_evaluation(ev.subject)  # no grant, no agreement: its own, free
    portrait = PortraitEvaluator(default_indicators()).evaluate(ev.records, TODAY)
    scorer = Scorer(ev.trained.document)
    expected = scorer.score(portrait.values)
    assert own["model"]["version"] == version and own["status"] == "scored"
    assert (own["score"], own["grade"]) == (expected.score, expected.grade)
    assert len(own["reasons"]) == 4 and own["portrait"]["values"]
    guidance = own["guidance"]
    assert guidance["grade"] == expected.grade
    if expected.grade != "A":
        assert guidance["target_grade"] and (guidance["single"] or guidance["combined"])
    assert trail_size(ev.w.platform) == 0  # not a release
    assert audit_events.recent(ev.w.platform.db, 1)[0].event == "self.evaluation"
    error = refused(lambda: ev.w.sdk(ev.w.bank).self_evaluation(ev.subject))
    assert error.status == 403
    error = refused(lambda: ev.w.sdk(ev.w.enterprise).self_evaluation(ev.subject))  # another enterprise
    assert error.status == 403


def test_the_cli_proposes_approves_evaluates_and_retires(
    ev: Evaluations, live_api: str, tmp_path: Path
) -> None:
    runner = CliRunner()
    model_file, card_file = tmp_path / "model.json", tmp_path / "card.json"
    model_file.write_bytes(ev.trained.document.canonical())
    card_file.write_bytes(ev.trained.card.canonical())
    env = {
        "OP1": ev.w.operators[0].key.hex(),
        "OP2": ev.w.operators[1].key.hex(),
        "BANK_KEY": ev.w.bank.key.hex(),
        "LEDGER_DATA_DIR": str(ev.w.platform.settings.data_dir),
    }

    def run(*args: str) -> Any:
        return runner.invoke(cli, [*args, "--api", live_api], env=env)

    proposed = run("model", "propose", str(model_file), str(card_file), "--key-env", "OP1")
    assert proposed.exit_code == 0, proposed.output
    proposal = json.loads(proposed.output)["created_id"]
    assert json.loads(proposed.output)["model_hash"] == ev.stored["model_hash"]
    version = ev.version_of(proposal)
    assert run("model", "approve", str(proposal), "--key-env", "OP2").exit_code == 0
    ev.grant()
    ask = ["evaluation", "request", ev.subject, "--model", str(version), "--purpose", "credit_assessment",
           "--agreement", str(ev.agreement), "--key-env", "BANK_KEY"]  # fmt: skip
    shown = run(*ask)
    assert shown.exit_code == 0, shown.output
    assert (
        "score" in shown.output and "grade" in shown.output and "checked against the answer" in shown.output
    )
    retired = run("model", "retire", str(version), "--key-env", "OP1")
    assert retired.exit_code == 0, retired.output
    assert (
        run("model", "approve", str(json.loads(retired.output)["created_id"]), "--key-env", "OP2").exit_code
        == 0
    )
    refused_now = run(*ask)
    assert (
        refused_now.exit_code == 1 and "HTTP 403" in refused_now.output and "is retired" in refused_now.output
    )
    bad = run("model", "propose", str(card_file), str(card_file), "--key-env", "OP1")  # a card is no model
    assert bad.exit_code == 1 and "model document" in bad.output


def test_the_as_of_day_is_the_business_day_on_either_side_of_its_midnight(ev: Evaluations) -> None:
    """An evaluation's as_of is the day in China Standard Time: at 15:59:59 UTC still the UTC
    day, from 16:00:00 UTC the next one - the day self-service files facts on."""
    from ledger.wiring import evaluation_service

    version = ev.active()
    ev.grant(seconds=3 * 86400)  # covers the instants below, up to two days ahead
    chain_now = datetime.fromtimestamp(ev.w.platform.chain.w3.eth.get_block("latest")["timestamp"], UTC)
    midnight = datetime.combine(chain_now.date() + timedelta(days=1), datetime.min.time(), UTC) - timedelta(
        hours=8
    )
    if midnight - timedelta(seconds=1) < chain_now:  # past 16:00 UTC already: the next one
        midnight += timedelta(days=1)
    service = evaluation_service(ev.w.platform)
    domain = evaluation_domain(
        ev.w.platform.deployment.chain_id, ev.w.platform.deployment.addresses.model_registry
    )
    try:
        for at, day in (
            (midnight - timedelta(seconds=1), midnight.date()),
            (midnight, midnight.date() + timedelta(days=1)),
        ):
            ahead = int(at.timestamp() - datetime.now(UTC).timestamp()) + 60  # valid at `at`
            signed = sign_evaluation_request(
                ev.w.bank, domain, subject=ev.subject, model_version=version, purpose=CREDIT,
                agreement_id=ev.agreement, validity_seconds=ahead,
            )  # fmt: skip
            answer = service.evaluate(signed, now=at.timestamp())
            assert answer.data["portrait"]["as_of"] == day.isoformat(), at
            assert ev.entry(answer.receipt.index)["as_of"] == day.isoformat()
    finally:
        service.close()
