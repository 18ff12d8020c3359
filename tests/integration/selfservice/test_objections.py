"""Objections: flagged at once, decided by the provider or an operator within working-day deadlines."""

from __future__ import annotations

from datetime import date

from sqlalchemy import update

from ledger.domain.log_names import CREDIT_RECORDS_LOG
from ledger.selfservice.models import Objection
from ledger.wiring import anchor_worker
from tests.integration.audit.conftest import export_of, verifier_for
from tests.integration.selfservice.conftest import SelfWorld, digest, find, leaf, penalty, refused
from tests.integration.test_release import SUBJECT


def test_objection_flags_the_record_and_the_provider_corrects_it(sw: SelfWorld) -> None:
    w, rid = sw.w, sw.penalty_id
    assert find(sw.released(), rid)["disputed"] is False

    # another enterprise's record is answered as one that does not exist: ids are not revealed
    other = refused(lambda: sw.sdk(sw.other).object_to(rid, "不是我的记录"), 404, "record_unknown")
    none = refused(lambda: sw.sdk(sw.other).object_to("no-such-record", "理由"), 404, "record_unknown")
    assert other.message.replace(rid, "ID") == none.message.replace("no-such-record", "ID")
    refused(lambda: sw.sdk(w.bank).object_to(rid, "机构不能申诉"), 403, "not_the_subject")
    refused(lambda: sw.ent.object_to("no-such-record", "理由"), 404, "record_unknown")
    evidence = [digest("行政处罚决定书.pdf"), digest("缴款凭证.pdf")]
    filed = sw.ent.object_to(rid, "罚款金额与决定书不符", evidence)
    assert filed["status"] == "open" and filed["record_version"] == 1 and filed["evidence"] == evidence
    refused(lambda: sw.ent.object_to(rid, "再次申诉"), 409, "objection_already_open")

    # disputed at once: in every release, and in the enterprise's own view
    assert find(sw.released(), rid)["disputed"] is True
    assert sw.ent.self_record(SUBJECT, rid)["disputed"] is True

    # who sees it, who decides it
    assert [o["id"] for o in sw.provider.objections()] == [filed["id"]]
    assert sw.sdk(sw.other_provider).objections() == []
    refused(lambda: sw.sdk(sw.other_provider).objection(filed["id"]), 403, "not_authorized")
    refused(lambda: sw.sdk(w.bank).objections(), 403, "not_authorized")
    for outsider in (sw.other_provider, w.enterprise, w.bank):
        refused(
            lambda o=outsider: sw.sdk(o).decide_objection(filed["id"], "upheld", "无误"),
            403,
            "not_the_decider",
        )
    bad = refused(
        lambda: sw.provider.decide_objection(
            filed["id"], "corrected", "录入错误", {"fields": {"amount": "lots"}}
        ),
        422,
        "correction_invalid",
    )
    assert "fields.amount" in bad.message

    decided = sw.provider.decide_objection(
        filed["id"], "corrected", "金额录入错误", {"fields": {"amount": 5000}}
    )
    assert decided["status"] == "corrected" and decided["corrected_version"] == 2
    assert decided["decided_by"] == w.provider.address
    refused(lambda: sw.operator.decide_objection(filed["id"], "upheld", "无误"), 409, "already_decided")

    released = find(sw.released(), rid)
    assert (released["version"], released["disputed"], released["fields"]["amount"]) == (2, False, 5000)

    # in the record log: the filing, the corrected version, the decision
    filing, decision = leaf(w, decided["log_index"]), leaf(w, decided["decision_log_index"])
    assert filing.type == "objection" and filing.payload["evidence"] == evidence
    assert (
        filing.payload["reasons_hash"]
        == "0x" + __import__("hashlib").sha256("罚款金额与决定书不符".encode()).hexdigest()
    )
    assert decision.type == "objection-decision"
    assert (decision.payload["outcome"], decision.payload["corrected_version"]) == ("corrected", 2)
    version_2 = sw.ent.self_record(SUBJECT, rid)["versions"][1]
    assert filing.seq < version_2["log_index"] < decision.seq

    # a decision lost after its correction was stored: the same correction again completes it
    with w.platform.db.session() as session:
        session.execute(
            update(Objection).where(Objection.id == filed["id"]).values(status="open", corrected_version=None)
        )
    again = sw.provider.decide_objection(
        filed["id"], "corrected", "金额录入错误", {"fields": {"amount": 5000}}
    )
    assert again["corrected_version"] == 2
    assert len(sw.ent.self_record(SUBJECT, rid)["versions"]) == 2

    kinds = [n["kind"] for n in sw.ent.notices(SUBJECT) if n["record_id"] == rid]
    assert kinds[:1] == ["dishonesty_record"]
    assert {"objection_filed", "objection_corrected", "dishonesty_record_corrected"} <= set(kinds)

    # an auditor finds the log, with these leaves in it, clean
    worker = anchor_worker(w.platform)
    try:
        worker.anchor_now(CREDIT_RECORDS_LOG)
    finally:
        worker.close()
    report = verifier_for(w.platform).verify(export_of(w.platform, openings=True))
    assert [str(f) for f in report.findings] == []


def test_deadlines_in_working_days_forwarding_escalation_and_upholding(sw: SelfWorld) -> None:
    w, rid = sw.w, sw.penalty_id
    for day in range(1, 6):
        sw.operator.set_calendar_day(f"2026-05-0{day}", "holiday", "劳动节")
    sw.operator.set_calendar_day("2026-05-09", "workday", "劳动节调休")
    refused(lambda: sw.ent.set_calendar_day("2026-05-06", "holiday", "不行"), 403, "not_authorized")
    refused(lambda: sw.operator.set_calendar_day("2026-05-06", "workday", "周三"), 422, "invalid_input")
    assert [d["day"] for d in sw.ent.calendar(2026)][-1] == "2026-05-09"

    sw.set_today(date(2026, 4, 30))  # the Thursday before the holiday
    filed = sw.ent.object_to(rid, "处罚决定已被复议撤销")
    # 2 and 5 working days: 6, 7 | 8, 9 (Saturday worked), 11 May; 20 calendar days at most
    assert (filed["forward_by"], filed["due_on"], filed["outer_due_on"]) == (
        "2026-05-07",
        "2026-05-11",
        "2026-05-20",
    )

    sw.set_today(date(2026, 5, 11))
    assert sw.operator.objections(overdue=True) == []
    sw.set_today(date(2026, 5, 12))
    overdue = sw.operator.objections(overdue=True)
    assert [o["id"] for o in overdue] == [filed["id"]] and overdue[0]["overdue"] is True
    refused(lambda: sw.ent.escalate_objections(), 403, "not_authorized")
    escalated = sw.operator.escalate_objections()
    assert [o["id"] for o in escalated] == [filed["id"]] and escalated[0]["escalated_at"]
    assert sw.operator.escalate_objections() == []  # once
    assert leaf(w, escalated[0]["log_index"] + 1).type == "objection-escalation"

    # forwarded (late) to the provider: 5 working days from now, never past the outer bound
    refused(lambda: sw.provider.forward_objection(filed["id"]), 403, "not_the_decider")
    forwarded = sw.operator.forward_objection(filed["id"])
    assert (forwarded["status"], forwarded["due_on"], forwarded["overdue"]) == (
        "forwarded",
        "2026-05-19",
        False,
    )
    refused(lambda: sw.operator.forward_objection(filed["id"]), 409, "objection_already_forwarded")
    assert find(sw.released(), rid)["disputed"] is True

    sw.set_today(date(2026, 5, 15))
    upheld = sw.operator.decide_objection(filed["id"], "upheld", "复议决定维持原处罚，记录无误")
    assert upheld["status"] == "upheld" and upheld["corrected_version"] is None
    decision = leaf(w, upheld["decision_log_index"])
    assert decision.payload["outcome"] == "upheld" and decision.payload["on_time"] is True
    released = find(sw.released(), rid)
    assert (released["version"], released["disputed"]) == (1, False)
    refused(lambda: sw.ent.withdraw_objection(filed["id"]), 409, "already_decided")

    kinds = [n["kind"] for n in sw.ent.notices(SUBJECT) if n["ref"] == filed["id"]]
    assert kinds == ["objection_filed", "objection_escalated", "objection_forwarded", "objection_upheld"]
    assert [o["status"] for o in sw.ent.objections(SUBJECT)] == ["upheld"]

    sw.operator.delete_calendar_day("2026-05-09")
    assert len(sw.ent.calendar(2026)) == 5
    refused(lambda: sw.operator.delete_calendar_day("2026-05-09"), 404, "not_found")


def test_decision_after_the_record_was_superseded_is_refused(sw: SelfWorld) -> None:
    rid = sw.penalty_id
    filed = sw.ent.object_to(rid, "金额有误")
    sw.provider.submit_record({**penalty("PEN-1", days_ago=30, amount=1000), "corrects": 1})  # on its own

    refused(lambda: sw.provider.decide_objection(filed["id"], "upheld", "无误"), 409, "record_superseded")
    refused(
        lambda: sw.operator.decide_objection(filed["id"], "corrected", "更正", {"fields": {"amount": 3000}}),
        409,
        "record_superseded",
    )
    assert find(sw.released(), rid)["disputed"] is True  # open until the enterprise withdraws

    refused(lambda: sw.sdk(sw.other).withdraw_objection(filed["id"]), 403, "not_the_subject")
    assert sw.ent.withdraw_objection(filed["id"])["status"] == "withdrawn"
    assert find(sw.released(), rid)["disputed"] is False
    again = sw.ent.object_to(rid, "新版本金额仍然有误")
    assert again["record_version"] == 2
    assert find(sw.released(), rid)["disputed"] is True
