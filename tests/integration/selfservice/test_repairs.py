"""Credit repair: the minimum period, an operator's decision, sharing stopped at once."""

from __future__ import annotations

from datetime import timedelta

from ledger.chain.agreements import CommitmentKind
from ledger.selfservice.workdays import WorkCalendar, add_working_days
from tests.integration.selfservice.conftest import (
    SelfWorld,
    digest,
    find,
    ids,
    leaf,
    penalty,
    refused,
    today,
)
from tests.integration.test_release import SUBJECT

PROOFS = [digest("罚款缴款凭证.pdf"), digest("整改复查意见书.pdf")]


def test_repair_after_the_minimum_period_stops_sharing_at_once(sw: SelfWorld) -> None:
    w, rid = sw.w, sw.penalty_id
    repair = sw.commitment(w.enterprise, CommitmentKind.REPAIR_APPLICANT)
    tax = next(r["record_id"] for r in sw.ent.self_records(SUBJECT, category="tax"))
    refused(lambda: sw.ent.apply_for_repair(tax, PROOFS, repair), 422, "repair_not_dishonesty")

    # a general penalty: 90 days' minimum publicity; this one is 30 days old
    early = refused(lambda: sw.ent.apply_for_repair(rid, PROOFS, repair), 409, "minimum_period_not_passed")
    allowed_from = today() + timedelta(days=60)
    assert allowed_from.isoformat() in early.message
    sw.set_today(allowed_from - timedelta(days=1))
    refused(lambda: sw.ent.apply_for_repair(rid, PROOFS, repair), 409, "minimum_period_not_passed")
    sw.set_today(allowed_from)

    refused(lambda: sw.sdk(sw.other).apply_for_repair(rid, PROOFS, repair), 404, "record_unknown")
    truth = sw.commitment(w.enterprise, CommitmentKind.ENTERPRISE_TRUTHFULNESS)
    refused(lambda: sw.ent.apply_for_repair(rid, PROOFS, truth), 422, "commitment_wrong_kind")
    theirs = sw.commitment(sw.other, CommitmentKind.REPAIR_APPLICANT)
    refused(lambda: sw.ent.apply_for_repair(rid, PROOFS, theirs), 403, "commitment_not_yours")

    applied = sw.ent.apply_for_repair(rid, PROOFS, repair, "罚款已缴清，整改已完成")
    assert applied["status"] == "pending" and applied["proofs"] == PROOFS
    assert applied["due_on"] == add_working_days(allowed_from, 3, WorkCalendar()).isoformat()
    refused(lambda: sw.ent.apply_for_repair(rid, PROOFS, repair), 409, "repair_already_pending")
    assert rid in ids(sw.released())  # still shared while pending

    for outsider in (w.provider, w.enterprise, w.bank):
        refused(
            lambda o=outsider: sw.sdk(o).decide_repair(applied["id"], "approved", "同意"),
            403,
            "not_the_decider",
        )
    approved = sw.operator.decide_repair(applied["id"], "approved", "已履行法定义务，最短公示期已满")
    assert approved["status"] == "approved"

    # sharing stops at once: a release for the category no longer returns the record …
    assert rid not in ids(sw.released())
    # … while the enterprise's own view still shows it, repaired and no longer published
    mine = sw.ent.self_record(SUBJECT, rid)
    assert mine["repair"] == {
        "status": "repaired", "application_id": applied["id"], "decided_at": mine["repair"]["decided_at"],
    }  # fmt: skip
    assert mine["published"] is False and mine["repair"]["decided_at"]
    refused(lambda: sw.ent.apply_for_repair(rid, PROOFS, repair), 409, "already_repaired")
    refused(lambda: sw.operator.decide_repair(applied["id"], "rejected", "撤回"), 409, "already_decided")

    application, decision = leaf(w, applied["log_index"]), leaf(w, approved["decision_log_index"])
    assert application.type == "repair-application" and application.payload["commitment_id"] == repair
    assert decision.type == "repair-decision" and decision.payload["outcome"] == "approved"
    kinds = [n["kind"] for n in sw.ent.notices(SUBJECT) if n["ref"] == applied["id"]]
    assert kinds == ["repair_filed", "repair_approved"]
    assert [a["id"] for a in sw.ent.repairs(SUBJECT)] == [applied["id"]]
    refused(lambda: sw.sdk(sw.other).repair(applied["id"]), 403, "not_authorized")


def test_minor_at_once_rejection_overdue_superseded_and_ended(sw: SelfWorld) -> None:
    w = sw.w
    minor = sw.submit(penalty("PEN-2", days_ago=5, severity="minor"))
    repair = sw.commitment(w.enterprise, CommitmentKind.REPAIR_APPLICANT)
    start = today()
    sw.set_today(start)

    applied = sw.ent.apply_for_repair(minor, PROOFS, repair)  # minor: fulfilment alone suffices
    due = add_working_days(start, 3, WorkCalendar())
    assert applied["due_on"] == due.isoformat()
    sw.set_today(due)
    assert sw.operator.repairs(overdue=True) == []
    sw.set_today(due + timedelta(days=1))
    assert [a["id"] for a in sw.operator.repairs(overdue=True)] == [applied["id"]]
    refused(lambda: sw.ent.escalate_repairs(), 403, "not_authorized")
    assert [a["id"] for a in sw.operator.escalate_repairs()] == [applied["id"]]
    assert sw.operator.escalate_repairs() == []

    rejected = sw.operator.decide_repair(applied["id"], "rejected", "未提供缴款凭证原件")
    assert rejected["status"] == "rejected"
    assert minor in ids(sw.released()) and find(sw.released(), minor)["version"] == 1
    assert sw.ent.self_record(SUBJECT, minor)["repair"]["status"] == "rejected"

    # applying again is allowed; a decision after the record was superseded is not
    again = sw.ent.apply_for_repair(minor, PROOFS, repair)
    sw.provider.submit_record({**penalty("PEN-2", days_ago=5, severity="minor", amount=100), "corrects": 1})
    refused(lambda: sw.operator.decide_repair(again["id"], "approved", "同意"), 409, "record_superseded")
    kinds = [n["kind"] for n in sw.ent.notices(SUBJECT) if n["record_id"] == minor]
    assert kinds == [
        "dishonesty_record", "repair_filed", "repair_escalated", "repair_rejected", "repair_filed",
        "dishonesty_record_corrected",
    ]  # fmt: skip

    # past its maximum period a record leaves publication by itself: nothing left to repair
    ended = sw.submit(penalty("PEN-3", days_ago=400))
    refused(lambda: sw.ent.apply_for_repair(ended, PROOFS, repair), 409, "publication_ended")
    assert ended not in ids(sw.released())
    assert sw.ent.self_record(SUBJECT, ended)["published"] is False
