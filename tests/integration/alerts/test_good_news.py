"""Good news is news (real anvil, SQLite and PostgreSQL): an objection found right and a repair
approved enqueue their alerts in the self-service decision's transaction, to the institutions
watching the record's category; a correction is also a corrected record for the record rules."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ledger.alerts.outbox import OutboxAlert
from ledger.chain.agreements import CommitmentKind
from tests.integration.selfservice.conftest import PENALTY, SelfWorld, digest, penalty, sw, today
from tests.integration.test_release import CATALOGUE, SUBJECT, world

__all__ = ["sw", "world"]

POST_LOAN = CATALOGUE.purpose_mask(["post_loan_monitoring"])


def events(sw: SelfWorld) -> list[tuple[str, str]]:
    with sw.w.platform.db.session() as session:
        rows = session.scalars(select(OutboxAlert).order_by(OutboxAlert.seq)).all()
        return [(r.event, r.institution) for r in rows]


def watch_penalties(sw: SelfWorld) -> None:
    """The bank watches SUBJECT's administrative penalties (a public category: no grant)."""
    agreement = sw.w.agreement_for(sw.w.bank, PENALTY, POST_LOAN)
    body = {"subject": SUBJECT, "categories": ["administrative_penalty"], "agreement_id": agreement}
    sw.sdk(sw.w.bank).request("POST", "/watches", body)


def test_an_objection_found_right_alerts_the_watcher_and_one_found_wrong_does_not(sw: SelfWorld) -> None:
    watch_penalties(sw)
    filed = sw.ent.object_to(sw.penalty_id, "罚款金额与决定书不符", [digest("决定书.pdf")])
    sw.provider.decide_objection(filed["id"], "corrected", "金额录入错误", {"fields": {"amount": 5000}})
    bank = sw.w.bank.address
    assert events(sw) == [("risk.administrative_penalty", bank), ("news.objection_upheld", bank)]
    second = sw.submit(penalty("PEN-2", days_ago=10))  # a new penalty: one more risk alert
    filed = sw.ent.object_to(second, "不服")
    sw.provider.decide_objection(filed["id"], "upheld", "记录无误")  # the record stands: no good news
    assert [e for e, _ in events(sw)][2:] == ["risk.administrative_penalty"]


def test_an_approved_repair_alerts_the_watcher(sw: SelfWorld) -> None:
    watch_penalties(sw)
    repair = sw.commitment(sw.w.enterprise, CommitmentKind.REPAIR_APPLICANT)
    sw.set_today(today() + timedelta(days=60))  # a general penalty's 90-day minimum has passed
    applied = sw.ent.apply_for_repair(sw.penalty_id, [digest("缴款凭证.pdf")], repair, "已缴清")
    assert events(sw) == []  # applying is not news
    sw.operator.decide_repair(applied["id"], "approved", "已履行法定义务")
    assert events(sw) == [("news.repair_approved", sw.w.bank.address)]
