"""Joint action against malicious debt evasion (real anvil, SQLite and PostgreSQL): an
operator's flag reaches an institution that holds a loan application of the subject but no
watch, authorized at delivery under the application's consent grant, its agreement and the
loan-application purpose; once the enterprise revokes that grant, a flag reaches it no more.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from ledger.alerts.outbox import OutboxAlert
from ledger.alerts.watch_model import Watch
from ledger.chain.consents import RevokeMessage
from ledger.financing.models import ApplicationRow
from ledger.services import audit_events
from ledger.wiring import alert_gate
from tests.integration.alerts.test_watches import DISHONESTY, alert_entries, outbox
from tests.integration.test_release import CREDIT, SUBJECT, TAX, World, world

__all__ = ["world"]


def hold_application(world: World, grant_id: int) -> str:
    """The bank's application of the subject, backed by `grant_id` (the row `Applications.apply` stores)."""
    row = ApplicationRow(
        id=str(uuid.uuid4()), subject=SUBJECT, enterprise=world.enterprise.address,
        institution=world.bank.address, product_key="zz-bank-科技贷", product_version=1,
        demand_id=None, grant_id=grant_id, grant_block=0, created_at=datetime.now(UTC),
    )  # fmt: skip
    with world.platform.db.session() as session:
        session.add(row)
    return row.id


def flag(world: World, reference: str) -> int:
    answer = world.sdk(world.operators[0]).request(
        "POST", "/evasion-flags", {"subject": SUBJECT, "reference": reference}
    )
    return int(answer["alerts"])


def clear_all(world: World, alerts: list[OutboxAlert]) -> list[object]:
    gate = alert_gate(world.platform)
    answers: list[object] = []
    try:
        answers = list(gate.clear_many(alerts))
    finally:
        gate.close()
    return answers


def test_an_application_holder_without_a_watch_is_told_until_its_grant_is_revoked(world: World) -> None:
    agreement = world.agreement_for(world.bank, DISHONESTY | TAX, CREDIT)
    grant = world.grant(world.bank, TAX, agreement=agreement, purposes=CREDIT)
    application = hold_application(world, grant)
    with world.platform.db.session() as session:
        assert session.query(Watch).count() == 0  # no watch at all: the application is the basis

    assert flag(world, "（2026）豫01执123号") == 1
    (alert,) = outbox(world)
    assert alert.institution == world.bank.address and alert.watch_id == f"application:{application}"
    assert alert.event == "risk.malicious_debt_evasion"
    (cleared,) = clear_all(world, [alert])
    assert getattr(cleared, "trail_seq", None) is not None, cleared
    (entry,) = alert_entries(world)
    assert entry["watch_id"] == f"application:{application}" and entry["purpose"] == str(CREDIT)
    assert entry["agreement_id"] == agreement and entry["institution"] == world.bank.address

    world.sdk(world.enterprise).act(RevokeMessage, grant_id=grant)
    assert flag(world, "（2026）豫01执124号") == 1  # still holds the application ...
    later = [a for a in outbox(world) if a.id != alert.id]
    (withheld,) = clear_all(world, later)
    assert getattr(withheld, "reason", None) == "grant_revoked" and getattr(withheld, "final", None)
    assert len(alert_entries(world)) == 1  # ... but is told nothing under a revoked grant
    refusals = audit_events.recent(world.platform.db, 20, actor=world.bank.address)
    assert any(r.event == "alert.clear" and "grant_revoked" in (r.detail or "") for r in refusals)


def test_a_flag_on_a_subject_nobody_holds_tells_nobody(world: World) -> None:
    assert flag(world, "（2026）豫01执125号") == 0
    assert outbox(world) == []
