"""The grade-drop trigger's memory (real anvil, SQLite and PostgreSQL): the previous grade is the
same institution's latest scored evaluation of the subject, read from the access trail in the
evaluation's own transaction (SYNTHETIC model and enterprise, as in `test_evaluation.py`); a real
drop after a new adverse record alerts the watching bank."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from ledger.alerts.outbox import OutboxAlert
from ledger.alerts.triggers import grade_dropped
from ledger.chain.consents import GrantMessage
from ledger.chain.membership import uscc_hash
from ledger.evaluation.synthetic import SyntheticCohort
from ledger.evaluation_release.service import previous_grade
from tests.integration.test_evaluation import Evaluations, cohort, ev, submission, trained, world
from tests.integration.test_release import CATALOGUE, CREDIT

__all__ = ["cohort", "ev", "trained", "world"]


def test_the_previous_grade_is_the_institutions_latest_scored_evaluation(ev: Evaluations) -> None:
    version = ev.active()
    ev.grant()
    db, bank, guarantor = ev.w.platform.db, ev.w.bank.address, ev.w.guarantor.address
    with db.session() as session:
        assert previous_grade(session, bank, ev.subject) is None
    ev.w.sdk(ev.w.bank).release(ev.subject, ev.inputs, CREDIT, ev.agreement)  # a release is no evaluation
    first = ev.evaluate(version)["data"]
    assert first["status"] == "scored"
    with db.session() as session:
        assert previous_grade(session, bank, ev.subject) == first["grade"]
        assert previous_grade(session, guarantor, ev.subject) is None  # never another's


def test_a_new_adverse_record_drops_the_grade_and_alerts_the_watching_bank(
    ev: Evaluations, cohort: SyntheticCohort
) -> None:
    """A real drop: the bank evaluates the subject, a provider then reports an administrative
    penalty of it and its listing as seriously dishonest (records as the SYNTHETIC generator makes
    them), and the bank's second evaluation scores lower; the grade-drop alert is enqueued in that
    evaluation's transaction (pipeline mode on PostgreSQL) to the bank's watch of the model's
    input categories."""
    version = ev.active()
    ev.grant()
    post_loan = CATALOGUE.purpose_mask(["post_loan_monitoring"])
    agreement = ev.w.agreement_for(ev.w.bank, ev.inputs, CREDIT | post_loan)
    now = int(ev.w.platform.chain.w3.eth.get_block("latest")["timestamp"])
    ev.w.sdk(ev.enterprise).act(
        GrantMessage, uscc_hash=uscc_hash(ev.subject), institution=ev.w.bank.address, agreement_id=0,
        categories=ev.inputs, purposes=post_loan, raw_categories=0, expires_at=now + 3600,
    )  # fmt: skip
    names = CATALOGUE.categories_in_mask(ev.inputs)
    body = {"subject": ev.subject, "categories": names, "agreement_id": agreement}
    ev.w.sdk(ev.w.bank).request("POST", "/watches", body)

    first = ev.evaluate(version)["data"]
    assert first["status"] == "scored"
    assert grade_drops(ev) == []  # no previous evaluation: nothing to drop from
    adverse = [
        next(r for n in range(200, 600) for r in cohort.enterprise(n).records if r.category == category)
        for category in ("administrative_penalty", "serious_dishonesty_list")
    ]
    assert {"administrative_penalty", "serious_dishonesty_list"} <= set(names)  # inputs of the model
    ev.w.sdk(ev.w.provider).submit_records(
        [submission(replace(r, record_id=f"DROP-{i}"), ev.subject) for i, r in enumerate(adverse)]
    )
    second = ev.evaluate(version)["data"]
    assert second["status"] == "scored"
    assert second["score"] < first["score"] and grade_dropped(first["grade"], second["grade"]), (
        first,
        second,
    )
    assert grade_drops(ev) == [(ev.w.bank.address, names)]
    third = ev.evaluate(version)["data"]  # the same grade again: no drop, no alert
    assert third["grade"] == second["grade"] and len(grade_drops(ev)) == 1


def grade_drops(ev: Evaluations) -> list[tuple[str, list[str]]]:
    with ev.w.platform.db.session() as session:
        rows = session.scalars(select(OutboxAlert).where(OutboxAlert.event == "risk.grade_drop")).all()
        return [(r.institution, r.category_list) for r in rows]
