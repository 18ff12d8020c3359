"""The triggers (enqueue in the caller's transaction, to the watches covering the alert) and the
gate (authorize at a fresh block, log, clear; withhold by name otherwise) over a migrated SQLite
database and a fake chain; the gate's trail entry as the auditor reads it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from ledger.alerts.authorize import ALERT_ENTRY_TYPE, AlertGate
from ledger.alerts.model import Withheld
from ledger.alerts.outbox import OutboxAlert
from ledger.alerts.rules import default_rules
from ledger.alerts.triggers import AlertTriggers
from ledger.alerts.watch_model import Watch
from ledger.audit.examine import examine
from ledger.audit.leaves import ALERT_LEAF_TYPE, OTHER_LEAF_TYPES, PayloadProblem, parse_alert_authorization
from ledger.chain.consents import AuthorizationQuery, Decision, Reason
from ledger.domain.catalogue import default_catalogue
from ledger.domain.log_names import ACCESS_TRAIL_LOG
from ledger.errors import Unavailable
from ledger.logs.leaves import decode_leaf
from ledger.logs.models import LogEntry
from ledger.records.ingest import StoredRecord
from ledger.storage.database import Database
from ledger.storage.models import AuditEvent

BANK = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
GUARANTOR = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
SUBJECT = "91350200776049653A"
NOW = 1_800_000_000
CATALOGUE = default_catalogue()


class FakeAuthorizer:
    """Answers every query with `decision` at block 42 (or raises `fail`); records the queries."""

    def __init__(self) -> None:
        self.reason = Reason.ALLOWED
        self.block_time = NOW - 2
        self.fail: Exception | None = None
        self.queries: list[AuthorizationQuery] = []
        self.batches = 0

    def authorize(self, query: AuthorizationQuery, block_identifier: int | str = "latest") -> Decision:
        self.queries.append(query)
        if self.fail is not None:
            raise self.fail
        allowed = self.reason is Reason.ALLOWED
        return Decision(allowed, self.reason, 7 if allowed else 0, 0, 42, self.block_time)

    def authorize_many(
        self, queries: Sequence[AuthorizationQuery], block_identifier: int | str = "latest"
    ) -> list[Decision]:
        self.batches += 1
        return [self.authorize(q) for q in queries]

    def close(self) -> None:
        pass


def add_watch(
    db: Database, institution: str = BANK, categories: Sequence[str] = ("tax",), ended: bool = False
) -> str:
    watch_id = f"watch_{uuid.uuid4().hex}"
    with db.session() as session:
        session.add(
            Watch(
                id=watch_id, institution=institution, subject=SUBJECT,
                categories=json.dumps(list(categories)),
                category_mask=str(CATALOGUE.category_mask(categories)),
                agreement_id=3, purpose_bit=default_rules().purpose_bit, created_at=datetime.now(UTC),
                created_block=1, grant_id=7,
                ended_at=datetime.now(UTC) if ended else None,
            )
        )  # fmt: skip
    return watch_id


def alerts(db: Database) -> list[OutboxAlert]:
    with db.session() as session:
        rows = list(session.scalars(select(OutboxAlert).order_by(OutboxAlert.seq)))
        session.expunge_all()
        return rows


def arrears(corrected: bool = False, amount: int = 5_000) -> StoredRecord:
    return StoredRecord(
        "r1", 2 if corrected else 1, SUBJECT, "tax", corrected, {"overdue_tax_amount": amount}
    )


TRIGGERS = AlertTriggers(default_rules())


def test_a_record_rule_alerts_each_watch_covering_its_category_in_the_callers_transaction(
    db: Database,
) -> None:
    tax_watch = add_watch(db)
    add_watch(db, GUARANTOR, ("judicial",))  # does not cover tax
    add_watch(db, GUARANTOR, ("tax",), ended=True)  # ended: yields nothing
    with db.session() as session:
        ids = TRIGGERS.on_records(session, [arrears(), arrears(amount=0)])  # the second fires nothing
        assert len(ids) == 1
        session.rollback()  # the state change did not commit: neither does its alert
    assert alerts(db) == []
    with db.session() as session:
        TRIGGERS.on_records(session, [arrears(corrected=True)])
    (alert,) = alerts(db)
    assert (alert.institution, alert.subject, alert.watch_id) == (BANK, SUBJECT, tax_watch)
    assert (alert.event, alert.rule_id, alert.severity) == ("risk.tax_arrears", "tax.arrears", "high")
    assert alert.category_list == ["tax"] and alert.rules_version == 1


def test_good_news_grade_drops_and_evasion_flags_are_triggered(db: Database) -> None:
    add_watch(db, BANK, ("tax", "serious_dishonesty_list"))
    add_watch(db, GUARANTOR, ("serious_dishonesty_list",))
    with db.session() as session:
        assert TRIGGERS.on_case_decided(session, "objection", "upheld", SUBJECT, "tax") == []  # record upheld
        assert len(TRIGGERS.on_case_decided(session, "objection", "corrected", SUBJECT, "tax")) == 1
        assert TRIGGERS.on_case_decided(session, "repair", "approved", SUBJECT, "tax") == []  # not dishonesty
        grade = {"institution": BANK, "subject": SUBJECT, "categories": ["tax"]}
        assert TRIGGERS.on_evaluation(session, grade="B", previous_grade="A", **grade) != []
        assert TRIGGERS.on_evaluation(session, grade="A", previous_grade="B", **grade) == []
        assert TRIGGERS.on_evaluation(session, grade="C", previous_grade=None, **grade) == []
        other = {**grade, "institution": GUARANTOR}  # its own evaluations only
        assert TRIGGERS.on_evaluation(session, grade="E", previous_grade="A", **other) == []
        assert len(TRIGGERS.on_evasion_flag(session, SUBJECT)) == 2
    events = sorted((a.institution, a.event) for a in alerts(db))
    assert events == sorted(
        [
            (BANK, "news.objection_upheld"),
            (BANK, "risk.grade_drop"),
            (BANK, "risk.malicious_debt_evasion"),
            (GUARANTOR, "risk.malicious_debt_evasion"),
        ]
    )


@pytest.fixture
def chain() -> FakeAuthorizer:
    return FakeAuthorizer()


@pytest.fixture
def gate(db: Database, chain: FakeAuthorizer) -> AlertGate:
    return AlertGate(
        db, authorizer=chain, catalogue=CATALOGUE, max_block_age_seconds=30, clock=lambda: float(NOW)
    )  # type: ignore[arg-type]


def _one_alert(db: Database, **watch: Any) -> OutboxAlert:
    add_watch(db, **watch)
    with db.session() as session:
        TRIGGERS.on_records(session, [arrears()])
    (alert,) = alerts(db)
    return alert


def _entries(db: Database) -> list[tuple[str, dict[str, Any]]]:
    with db.session() as session:
        leaves = session.scalars(
            select(LogEntry.leaf).where(LogEntry.log_name == ACCESS_TRAIL_LOG).order_by(LogEntry.seq)
        ).all()
    return [(d.type, dict(d.payload)) for d in (decode_leaf(bytes(leaf)) for leaf in leaves)]


def test_an_allowed_alert_is_logged_then_cleared_once(
    db: Database, gate: AlertGate, chain: FakeAuthorizer
) -> None:
    alert = _one_alert(db)
    cleared = gate.clear(alert)
    assert (cleared.block, cleared.trail_seq) == (42, 0)
    (query,) = chain.queries
    assert query.requester == BANK and query.categories == CATALOGUE.category_mask(["tax"])
    assert query.purpose == default_rules().purpose_mask and query.agreement_id == 3 and query.at == NOW
    assert query.level == CATALOGUE.max_level(["tax"], raw=False)  # masked, as a masked release asks
    ((kind, entry),) = _entries(db)
    assert kind == ALERT_ENTRY_TYPE and entry["alert_id"] == alert.id and entry["grant_id"] == 7
    assert gate.clear(alert) == cleared and len(_entries(db)) == 1 and len(chain.queries) == 1


@pytest.mark.parametrize(
    ("setup", "reason", "final"),
    [
        (lambda c: setattr(c, "reason", Reason.NO_COVERING_GRANT), "no_covering_grant", True),
        (lambda c: setattr(c, "reason", Reason.AGREEMENT_EXPIRED), "agreement_expired", True),
        (lambda c: setattr(c, "reason", Reason.COMMITMENT_BREACHED), "commitment_breached", True),
        (lambda c: setattr(c, "block_time", NOW - 31), "chain_stale", False),
        (lambda c: setattr(c, "fail", Unavailable("chain unreachable")), "unavailable", False),
    ],
)
def test_a_refused_stale_or_unanswered_alert_is_withheld_and_nothing_logged(
    db: Database, gate: AlertGate, chain: FakeAuthorizer, setup: Any, reason: str, final: bool
) -> None:
    alert = _one_alert(db)
    setup(chain)
    with pytest.raises(Withheld) as info:
        gate.clear(alert)
    assert (info.value.reason, info.value.final) == (reason, final)
    assert _entries(db) == []
    if final:
        with db.session() as session:
            recorded = session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.event == "alert.clear")
            )
        assert recorded == 1


def test_an_ended_or_narrower_watch_withholds_without_asking_the_chain(
    db: Database, gate: AlertGate, chain: FakeAuthorizer
) -> None:
    alert = _one_alert(db)
    with db.session() as session:
        row = session.get(Watch, alert.watch_id)
        assert row is not None
        row.ended_at = datetime.now(UTC)
    with pytest.raises(Withheld, match="ended") as info:
        gate.clear(alert)
    assert info.value.reason == "watch_ended"
    with db.session() as session:
        row = session.get(Watch, alert.watch_id)
        assert row is not None
        row.ended_at, row.categories = None, json.dumps(["judicial"])
    with pytest.raises(Withheld) as info:
        gate.clear(alert)
    assert info.value.reason == "category_not_watched" and chain.queries == []


def test_the_auditor_reads_an_alert_entry_as_a_masked_release(db: Database, gate: AlertGate) -> None:
    assert ALERT_LEAF_TYPE == ALERT_ENTRY_TYPE and ALERT_LEAF_TYPE in OTHER_LEAF_TYPES[ACCESS_TRAIL_LOG]
    gate.clear(_one_alert(db))
    with db.session() as session:
        leaf = bytes(
            session.scalars(select(LogEntry.leaf).where(LogEntry.log_name == ACCESS_TRAIL_LOG)).one()
        )
    (examined,) = examine(b"\x00" * 32, [(0, leaf)])
    assert examined.leaf is not None and examined.leaf.type == "alert" and examined.signer is None
    entry = examined.entry
    assert entry is not None and entry.institution == BANK and entry.subject == SUBJECT
    assert (entry.categories, entry.grant_id, entry.block, entry.raw_categories) == (
        CATALOGUE.category_mask(["tax"]),
        7,
        42,
        0,
    )
    payload = dict(decode_leaf(leaf).payload)
    with pytest.raises(PayloadProblem, match="raw_categories"):
        parse_alert_authorization(0, {**payload, "raw_categories": "64"})
    with pytest.raises(PayloadProblem, match="institution"):
        parse_alert_authorization(0, {**payload, "institution": BANK.lower()})


def test_a_batch_is_cleared_with_one_chain_call_and_one_trail_transaction(
    db: Database, gate: AlertGate, chain: FakeAuthorizer
) -> None:
    add_watch(db)
    add_watch(db, GUARANTOR, ("tax",))
    with db.session() as session:
        TRIGGERS.on_records(session, [arrears(), arrears(corrected=True)])
    batch = alerts(db)
    assert len(batch) == 4
    with db.session() as session:  # the guarantor ends its watch: its alerts are withheld
        for row in session.scalars(select(Watch).where(Watch.institution == GUARANTOR)):
            row.ended_at = datetime.now(UTC)
    answers = gate.clear_many(batch)
    kinds = [type(a).__name__ if not isinstance(a, Withheld) else a.reason for a in answers]
    assert kinds == ["Clearance", "watch_ended", "Clearance", "watch_ended"]
    assert chain.batches == 1 and len(chain.queries) == 1  # the same question, asked once
    assert [e["alert_id"] for _, e in _entries(db)] == [batch[0].id, batch[2].id]
    assert gate.clear_many(batch)[0] == answers[0] and chain.batches == 1  # cleared once
