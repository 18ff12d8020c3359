"""The grade-drop trigger's memory (real anvil, SQLite and PostgreSQL): the previous grade is the
same institution's latest scored evaluation of the subject, read from the access trail in the
evaluation's own transaction (SYNTHETIC model and enterprise, as in `test_evaluation.py`)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from ledger.alerts.outbox import OutboxAlert
from ledger.chain.consents import GrantMessage
from ledger.chain.membership import uscc_hash
from ledger.evaluation_release.service import previous_grade
from tests.integration.test_evaluation import Evaluations, cohort, ev, trained, world
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


def test_a_lower_grade_is_enqueued_in_the_evaluations_own_transaction(
    ev: Evaluations, api: TestClient
) -> None:
    """The trigger inside the trail's transaction (pipeline mode on PostgreSQL): with the remembered
    grade replaced by A, a worse grade enqueues the alert to the watching bank."""
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
    service = api.app.state.services.evaluation  # type: ignore[attr-defined]
    hook = service.on_evaluated
    service.on_evaluated = lambda session, inst, subject, grade, _previous, cats: hook(
        session, inst, subject, grade, "A", cats
    )
    data = ev.evaluate(version)["data"]
    with ev.w.platform.db.session() as session:
        rows = session.scalars(select(OutboxAlert)).all()
        got = [(r.event, r.institution, r.category_list) for r in rows]
    if data["grade"] == "A":
        assert got == []
    else:
        assert got == [("risk.grade_drop", ev.w.bank.address, names)]
