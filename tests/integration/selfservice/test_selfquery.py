"""Free self-query, self-declared information and the dishonesty notices."""

from __future__ import annotations

from datetime import timedelta

from eth_utils import keccak

from ledger.chain.agreements import CommitmentKind, MarkBreachedMessage
from ledger.domain.log_names import CREDIT_RECORDS_LOG
from ledger.records.samples import sample_resident_id
from ledger.services import audit_events
from ledger.wiring import anchor_worker
from tests.integration.selfservice.conftest import (
    OTHER_SUBJECT,
    SelfWorld,
    leaf,
    penalty,
    refused,
    today,
)
from tests.integration.test_release import SUBJECT


def test_free_self_query_in_full_with_history_source_and_proofs(sw: SelfWorld) -> None:
    w = sw.w
    sw.provider.submit_record({**penalty("PEN-1", days_ago=30, amount=15000), "corrects": 1})

    records = sw.ent.self_records(SUBJECT)
    assert sorted(r["category"] for r in records) == [
        "administrative_penalty", "administrative_penalty", "registration", "tax",
    ]  # fmt: skip
    mine = next(r for r in records if r["record_id"] == sw.penalty_id)
    first, second = mine["versions"]
    assert (first["version"], second["version"]) == (1, 2)
    assert (first["fields"]["amount"], second["fields"]["amount"]) == (20000, 15000)
    assert second["fields"]["legal_representative_id"] == sample_resident_id(3)  # its own data: unmasked
    assert second["provider"] == w.provider.address and second["source_ref"] == "PEN-1"
    assert second["catalogue_version"] == 1 and second["severity"] == "general"
    assert second["proof"] is None  # not anchored yet
    assert mine["disputed"] is False and mine["repair"]["status"] == "none" and mine["published"] is True
    start = today() - timedelta(days=30)
    assert mine["publicity"] == {
        "starts": start.isoformat(),
        "minimum_until": (start + timedelta(days=90)).isoformat(),
        "maximum_until": (start + timedelta(days=365)).isoformat(),
    }
    registration = next(r for r in records if r["category"] == "registration")
    assert registration["publicity"] is None and registration["published"] is True
    assert "*" not in registration["versions"][0]["fields"]["legal_representative_id"]

    worker = anchor_worker(w.platform)
    try:
        worker.anchor_now(CREDIT_RECORDS_LOG)
    finally:
        worker.close()
    anchored = sw.ent.self_record(SUBJECT, sw.penalty_id)
    proof = anchored["versions"][1]["proof"]
    assert proof["leaf_hash"] == anchored["versions"][1]["leaf_hash"]
    assert proof["index"] == anchored["versions"][1]["log_index"] and proof["anchor"]["transaction"]

    served = [
        e
        for e in audit_events.recent(w.platform.db, 20, actor=w.enterprise.address)
        if e.event == "self.query"
    ]
    assert [e.outcome for e in served] == ["served", "served"]
    assert "free of charge" in (served[0].detail or "")
    assert sw.ent.accesses(SUBJECT) == []  # not a release: nothing in the access trail

    refused(lambda: sw.sdk(sw.other).self_records(SUBJECT), 403, "not_the_subject")
    # another enterprise's record and no record at all get the same answer: ids are not revealed
    not_mine = refused(
        lambda: sw.sdk(sw.other).self_record(OTHER_SUBJECT, sw.penalty_id), 404, "record_unknown"
    )
    none = refused(
        lambda: sw.sdk(sw.other).self_record(OTHER_SUBJECT, "no-such-record"), 404, "record_unknown"
    )
    assert not_mine.body["detail"].replace(sw.penalty_id, "ID") == none.body["detail"].replace(
        "no-such-record", "ID"
    )
    refused(lambda: sw.sdk(w.bank).self_records(SUBJECT), 403, "not_the_subject")
    refused(lambda: sw.ent.self_record(SUBJECT, "no-such-record"), 404, "record_unknown")
    refusals = [e for e in audit_events.recent(w.platform.db, 20) if e.event == "self.query"]
    assert sum(e.outcome == "refused" for e in refusals) == 5

    feed = sw.ent.notices(SUBJECT)
    dishonesty = [n for n in feed if n["kind"].startswith("dishonesty_record")]
    about_mine = [n["kind"] for n in dishonesty if n["record_id"] == sw.penalty_id]
    assert about_mine == ["dishonesty_record", "dishonesty_record_corrected"]
    assert all(n["kind"] != "dishonesty_record" or "registration" not in n["message"] for n in feed)
    later = sw.ent.notices(SUBJECT, since=feed[-1]["at"])
    assert later == []
    refused(lambda: sw.sdk(sw.other).notices(SUBJECT), 403, "not_the_subject")


def test_self_declared_information_under_a_truthfulness_commitment(sw: SelfWorld) -> None:
    w = sw.w
    truth = sw.commitment(w.enterprise, CommitmentKind.ENTERPRISE_TRUTHFULNESS)
    fields = {
        "declaration_type": "contract_performance",
        "title": "郑州地铁5号线设备供货合同履约完毕",
        "declared_on": today().isoformat(),
        "contact_mobile": "13800001999",
    }
    receipt = sw.ent.declare(SUBJECT, "SD-1", fields, truth)
    assert receipt["status"] == "created" and receipt["commitment_id"] == truth
    assert sw.ent.declare(SUBJECT, "SD-1", fields, truth)["status"] == "existing"  # idempotent

    mine = sw.ent.self_record(SUBJECT, receipt["record_id"])
    version = mine["versions"][0]
    assert mine["self_declared"] and mine["category"] == "self_declared"
    assert version["provider"] == w.enterprise.address and version["self_declared_commitment"] == truth
    assert version["fields"]["credit_commitment_signed"] is True
    assert version["fields"]["contact_mobile"] == "13800001999"
    record_leaf = leaf(w, receipt["log_index"])
    link = leaf(w, receipt["declaration_log_index"])
    assert record_leaf.type == "credit-record" and link.type == "self-declaration"
    assert link.payload == {
        "record_id": receipt["record_id"], "version": 1, "record_index": receipt["log_index"],
        "enterprise": w.enterprise.address, "commitment_id": truth,
    }  # fmt: skip
    refused(lambda: sw.ent.object_to(receipt["record_id"], "我自己的申报"), 409, "objection_own_declaration")

    corrected = sw.ent.declare(
        SUBJECT, "SD-1", {**fields, "title": "合同履约完毕（更正）"}, truth, corrects=1
    )
    assert corrected["version"] == 2 and corrected["record_id"] == receipt["record_id"]

    theirs = sw.commitment(sw.other, CommitmentKind.ENTERPRISE_TRUTHFULNESS)
    repair = sw.commitment(w.enterprise, CommitmentKind.REPAIR_APPLICANT)
    breached = sw.commitment(w.enterprise, CommitmentKind.ENTERPRISE_TRUTHFULNESS)
    sw.operator.act(MarkBreachedMessage, commitment_id=breached, evidence_hash=keccak(text="虚假申报"))
    refused(lambda: sw.ent.declare(SUBJECT, "SD-2", fields, theirs), 403, "commitment_not_yours")
    refused(lambda: sw.ent.declare(SUBJECT, "SD-2", fields, repair), 422, "commitment_wrong_kind")
    refused(lambda: sw.ent.declare(SUBJECT, "SD-2", fields, 999), 404, "commitment_unknown")
    refused(lambda: sw.ent.declare(SUBJECT, "SD-2", fields, breached), 409, "commitment_breached")
    refused(lambda: sw.sdk(sw.other).declare(SUBJECT, "SD-2", fields, theirs), 403, "not_the_subject")
    bad = refused(
        lambda: sw.ent.declare(SUBJECT, "SD-2", {**fields, "declaration_type": "award"}, truth),
        422,
        "declaration_invalid",
    )
    assert "fields.declaration_type: enum" in bad.message
    declared = sw.ent.self_records(SUBJECT, category="self_declared")
    assert [v["source_ref"] for v in declared[0]["versions"]] == ["SD-1", "SD-1"]
