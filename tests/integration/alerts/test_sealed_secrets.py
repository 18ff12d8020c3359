"""Webhook secrets sealed at rest (SQLite and PostgreSQL): the endpoint's row holds neither the
secret nor the previous one during a rotation, delivery still verifies with `standardwebhooks`
at a real receiver, and a sealed secret copied onto another endpoint does not open: nothing is
pushed to that endpoint, its alerts are dead letters saying why."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select, text

from ledger.alerts.endpoint_model import AlertEndpoint
from ledger.alerts.endpoints import AlertEndpoints
from ledger.alerts.outbox import DEAD, DELIVERED, OutboxAlert
from ledger.alerts.secret_seal import seal_stored_secrets
from ledger.storage.database import Database
from tests.alerts_receiver import Receiver
from tests.integration.alerts.support import FakeGate, add, draft, institution, running, wait_for
from tests.integration.alerts.test_delivery import register, states


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def raw_rows(db: Database) -> list[tuple[str, str, str | None]]:
    """The endpoints' secret columns as the database holds them (no ORM in between)."""
    with db.session() as session:
        rows = session.execute(text("SELECT institution, secret, previous_secret FROM alert_endpoints"))
        return [(r[0], r[1], r[2]) for r in rows]


def test_the_row_holds_no_secret_and_delivery_still_verifies(database: Database, receiver: Receiver) -> None:
    inst = institution(40)
    old = register(database, receiver, inst, "bank40")
    rotated = AlertEndpoints(database, environment="development", overlap_seconds=3600).rotate(inst)
    receiver.configure("bank40", secrets=[rotated.secret])
    (row,) = raw_rows(database)
    stored = " ".join(v for v in row[1:] if v)
    assert old not in stored and rotated.secret not in stored and "whsec_" not in stored
    assert row[1].startswith("sealed:1:") and (row[2] or "").startswith("sealed:1:")
    ids = add(database, draft(inst), draft(inst))
    with running(database, FakeGate()):
        wait_for(lambda: set(states(database, ids).values()) == {DELIVERED})
    got = receiver.received("bank40")
    assert len(got) == 2 and all(e["verified"] and e["signatures"] == 2 for e in got)


def test_a_sealed_secret_copied_onto_another_endpoint_does_not_open(
    database: Database, receiver: Receiver
) -> None:
    victim, thief = institution(41), institution(42)
    register(database, receiver, victim, "bank41")
    register(database, receiver, thief, "bank42")
    with database.session() as session:
        rows = {r.institution: r for r in session.scalars(select(AlertEndpoint))}
        rows[thief].secret = rows[victim].secret  # bound to the victim's row: opens nowhere else
    ids = add(database, draft(thief))
    with running(database, FakeGate()):
        delivered = add(database, draft(victim))
        wait_for(lambda: states(database, delivered) == {delivered[0]: DELIVERED})
    assert states(database, ids) == {ids[0]: DEAD}  # never pushed, never signed with a wrong key
    assert receiver.received("bank42") == []
    with database.session() as session:
        reason = session.scalar(select(OutboxAlert.reason).where(OutboxAlert.id == ids[0]))
    assert reason is not None and reason.startswith("endpoint secret unusable: sealed fields failed")


def test_secrets_stored_plain_before_sealing_are_sealed_and_still_sign(
    database: Database, receiver: Receiver
) -> None:
    inst = institution(43)
    receiver.configure("bank43", mode="ok")
    secret = AlertEndpoints(database, environment="development").register(inst, receiver.url("bank43")).secret
    receiver.configure("bank43", secrets=[secret])
    with database.session() as session:  # as a row of before migration 0013
        session.execute(text("UPDATE alert_endpoints SET secret = :s"), {"s": secret})
    assert seal_stored_secrets(database, AlertEndpoints(database, environment="development").keyring) == 1
    assert secret not in raw_rows(database)[0][1]
    ids = add(database, draft(inst))
    with running(database, FakeGate()):
        wait_for(lambda: states(database, ids) == {ids[0]: DELIVERED})
    assert all(e["verified"] for e in receiver.received("bank43"))
