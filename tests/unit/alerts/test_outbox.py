"""The outbox's enqueue: in the caller's transaction, validated, one id per alert."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import func, select

from ledger.alerts.model import AlertDraft
from ledger.alerts.outbox import PENDING, OutboxAlert, enqueue
from ledger.errors import InvalidInput
from ledger.storage.database import Database

INSTITUTION = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"

DRAFT = AlertDraft(
    institution=INSTITUTION.lower(),
    subject="91350200776049653A",
    event="record.new",
    categories=("judicial_enforcement",),
    severity="high",
    rule_id="enforcement-new",
    rules_version=1,
    watch_id="w1",
)


def _count(db: Database) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(OutboxAlert)) or 0)


def test_enqueue_commits_with_the_callers_transaction(db: Database) -> None:
    with db.session() as session:
        alert_id = enqueue(session, DRAFT)
    with db.session() as session:
        row = session.scalars(select(OutboxAlert)).one()
    assert row.id == alert_id and alert_id.startswith("msg_")
    assert row.state == PENDING
    assert row.institution == INSTITUTION  # EIP-55
    assert row.category_list == ["judicial_enforcement"]
    assert row.payload is None and row.feed_seq is None


def test_enqueue_rolls_back_with_the_callers_transaction(db: Database) -> None:
    with pytest.raises(RuntimeError), db.session() as session:
        enqueue(session, DRAFT)
        raise RuntimeError("the triggering state change failed")
    assert _count(db) == 0


def test_each_alert_gets_its_own_id(db: Database) -> None:
    with db.session() as session:
        ids = {enqueue(session, DRAFT) for _ in range(5)}
    assert len(ids) == 5


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"institution": "not-an-address"}, "institution"),
        ({"categories": ()}, "categories"),
        ({"event": "has spaces"}, "event"),
        ({"severity": ""}, "severity"),
        ({"subject": ""}, "subject"),
        ({"rules_version": -1}, "rules_version"),
    ],
)
def test_a_malformed_draft_is_refused_by_name(db: Database, change: dict[str, object], named: str) -> None:
    with pytest.raises(InvalidInput, match=named), db.session() as session:
        enqueue(session, dataclasses.replace(DRAFT, **change))  # type: ignore[arg-type]
    assert _count(db) == 0
