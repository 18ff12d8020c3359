"""The sender against a real HTTP receiver on 127.0.0.1 that verifies signatures with the
`standardwebhooks` library, on SQLite and PostgreSQL; the gate is a fake."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from ledger.alerts.endpoint_model import DISABLED, AlertEndpoint
from ledger.alerts.endpoints import AlertEndpoints
from ledger.alerts.feed import AlertFeed
from ledger.alerts.outbox import DEAD, DELIVERED, FED, PENDING, QUEUED, WITHHELD, OutboxAlert
from ledger.storage.database import Database
from tests.alerts_receiver import GarbageServer, Receiver
from tests.integration.alerts.support import FakeGate, add, draft, institution, running, wait_for


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def register(db: Database, receiver: Receiver, inst: str, name: str, mode: str = "ok") -> str:
    receiver.configure(name, mode="ok")
    secret = AlertEndpoints(db, environment="development").register(inst, receiver.url(name)).secret
    receiver.configure(name, mode=mode, secrets=[secret])
    return secret


def states(db: Database, ids: list[str]) -> dict[str, str]:
    with db.session() as session:
        rows = session.scalars(select(OutboxAlert).where(OutboxAlert.id.in_(ids))).all()
        return {r.id: r.state for r in rows}


def test_cleared_alerts_arrive_signed_thin_and_once(database: Database, receiver: Receiver) -> None:
    inst = institution(1)
    register(database, receiver, inst, "bank1")
    ids = add(database, *[draft(inst) for _ in range(5)])
    with running(database, FakeGate()):
        wait_for(lambda: set(states(database, ids).values()) == {DELIVERED})
    got = receiver.received("bank1")
    assert sorted(e["webhook_id"] for e in got) == sorted(ids)
    assert all(e["verified"] for e in got)
    body = json.loads(got[0]["body"])
    assert body["type"] == "record.new"
    assert set(body["data"]) == {
        "alert_id",
        "subject",
        "categories",
        "severity",
        "block",
        "rule",
        "watch_id",
        "trail_index",
    }
    assert body["data"]["block"] == 100 and body["data"]["alert_id"] == got[0]["webhook_id"]
    page = AlertFeed(database).feed(inst, None)
    assert [i.alert_id for i in page.items] == ids  # the feed lists pushed alerts too, in order


def test_a_withheld_alert_is_never_sent_nor_fed(database: Database, receiver: Receiver) -> None:
    inst = institution(2)
    register(database, receiver, inst, "bank2")
    gate = FakeGate()
    gate.withhold.add("91110000600037341L")
    withheld, sent = add(database, draft(inst, subject="91110000600037341L"), draft(inst))
    with running(database, gate):
        wait_for(lambda: states(database, [withheld, sent]) == {withheld: WITHHELD, sent: DELIVERED})
    assert [e["webhook_id"] for e in receiver.received("bank2")] == [sent]
    assert [i.alert_id for i in AlertFeed(database).feed(inst, None).items] == [sent]
    with database.session() as session:
        row = session.scalars(select(OutboxAlert).where(OutboxAlert.id == withheld)).one()
        assert row.reason is not None and row.reason.startswith("grant_revoked")
        assert row.payload is None and row.feed_seq is None


def test_a_gate_error_defers_the_alert_and_never_sends_it(database: Database, receiver: Receiver) -> None:
    inst = institution(3)
    register(database, receiver, inst, "bank3")
    gate = FakeGate()
    gate.fail.add("91350200776049653A")
    [alert] = add(database, draft(inst))
    with running(database, gate):
        wait_for(lambda: gate.calls.count(alert) >= 3)  # asked again and again
        assert states(database, [alert]) == {alert: PENDING}
        assert receiver.received("bank3") == []
        assert AlertFeed(database).feed(inst, None).items == []
        gate.fail.clear()  # the chain answers again
        wait_for(lambda: states(database, [alert]) == {alert: DELIVERED})


def test_an_institution_without_endpoint_reads_the_pull_feed(database: Database) -> None:
    inst = institution(4)
    ids = add(database, *[draft(inst) for _ in range(3)])
    with running(database, FakeGate()):
        wait_for(lambda: set(states(database, ids).values()) == {FED})
    feed = AlertFeed(database)
    first = feed.feed(inst, None, limit=2)
    assert [i.alert_id for i in first.items] == ids[:2]
    rest = feed.feed(inst, first.next_cursor)
    assert [i.alert_id for i in rest.items] == ids[2:]
    assert feed.feed(inst, rest.next_cursor).items == []
    assert feed.feed(institution(5), None).items == []  # another institution sees none of them


def test_a_failing_endpoint_is_retried_then_dead_then_redelivered(
    database: Database, receiver: Receiver
) -> None:
    inst = institution(6)
    register(database, receiver, inst, "bank6", mode="fail")
    [alert] = add(database, draft(inst))
    with running(database, FakeGate()):
        wait_for(lambda: states(database, [alert]) == {alert: DEAD})
        with database.session() as session:
            row = session.scalars(select(OutboxAlert).where(OutboxAlert.id == alert)).one()
            assert row.attempts >= 5 and row.reason is not None and "retries spent" in row.reason
        receiver.configure("bank6", mode="ok")
        AlertFeed(database).redeliver(inst, alert)
        wait_for(lambda: states(database, [alert]) == {alert: DELIVERED})
    assert [e["webhook_id"] for e in receiver.received("bank6")] == [alert]


def test_a_410_disables_the_endpoint(database: Database, receiver: Receiver) -> None:
    inst = institution(7)
    register(database, receiver, inst, "bank7", mode="gone")
    ids = add(database, draft(inst), draft(inst))
    with running(database, FakeGate()):
        wait_for(lambda: set(states(database, ids).values()) == {DEAD})
    with database.session() as session:
        endpoint = session.scalars(select(AlertEndpoint).where(AlertEndpoint.institution == inst)).one()
        assert endpoint.state == DISABLED and endpoint.reason == "answered 410 Gone"


def test_bad_receivers_never_delay_the_others_nor_crash_the_worker(
    database: Database, receiver: Receiver
) -> None:
    healthy = institution(10)
    register(database, receiver, healthy, "healthy")
    bad: dict[str, str] = {}
    register(database, receiver, institution(11), "hangs", mode="hang")
    register(database, receiver, institution(12), "slow", mode="slow:0.8")
    bad["hangs"], bad["slow"] = institution(11), institution(12)
    with GarbageServer("garbage") as garbage, GarbageServer("close") as closer:
        for name, server, i in (("garbage", garbage, 13), ("close", closer, 14)):
            inst = institution(i)
            bad[name] = inst
            with database.session() as session:  # stored directly: such a server cannot do the handshake
                session.add(
                    AlertEndpoint(
                        id=f"ep_{name}",
                        institution=inst,
                        url=server.url(),
                        state="active",
                        secret="whsec_" + "A" * 43,
                        created_ms=0,
                        updated_ms=0,
                    )
                )
        bad_ids = add(database, *[draft(inst) for inst in bad.values() for _ in range(8)])
        good_ids = add(database, *[draft(healthy) for _ in range(20)])
        with running(database, FakeGate()) as sender:
            wait_for(lambda: set(states(database, good_ids).values()) == {DELIVERED}, timeout=5)
            assert sender.leading.is_set()
            wait_for(lambda: garbage.connections > 0 and closer.connections > 0)
        with database.session() as session:
            rows = session.scalars(select(OutboxAlert).where(OutboxAlert.id.in_(bad_ids))).all()
            by_inst = {r.institution: r for r in rows if r.attempts > 0}
            assert bad["garbage"] in by_inst and bad["close"] in by_inst
            assert all(r.state in (QUEUED, DEAD, DELIVERED) for r in rows)
            assert all(r.reason for r in rows if r.attempts > 0 and r.state != DELIVERED)


def test_during_a_rotation_both_secrets_sign(database: Database, receiver: Receiver) -> None:
    inst = institution(20)
    old = register(database, receiver, inst, "bank20")
    rotated = AlertEndpoints(database, environment="development", overlap_seconds=3600).rotate(inst)
    receiver.configure("bank20", secrets=[old])  # a receiver that has not switched yet
    first = add(database, draft(inst))
    with running(database, FakeGate()):
        wait_for(lambda: states(database, first) == {first[0]: DELIVERED})
        receiver.configure("bank20", secrets=[rotated.secret])  # one that has
        second = add(database, draft(inst))
        wait_for(lambda: states(database, second) == {second[0]: DELIVERED})
    got = receiver.received("bank20")
    assert [e["signatures"] for e in got] == [2, 2]
    assert all(e["verified"] for e in got)


def test_after_the_overlap_only_the_new_secret_signs(database: Database, receiver: Receiver) -> None:
    inst = institution(21)
    old = register(database, receiver, inst, "bank21")
    AlertEndpoints(database, environment="development", overlap_seconds=0).rotate(inst)
    receiver.configure("bank21", secrets=[old])
    add(database, draft(inst))
    with running(database, FakeGate()):
        wait_for(lambda: len(receiver.received("bank21")) >= 1)
    assert receiver.received("bank21")[0]["verified"] is False  # the old secret no longer signs
    assert receiver.received("bank21")[0]["signatures"] == 1


def test_one_sender_leads_at_a_time_and_another_takes_over(database: Database, receiver: Receiver) -> None:
    from contextlib import ExitStack

    from ledger.alerts.sender import LOCK_NAME
    from ledger.storage.locks import anchor_lock

    inst = institution(30)
    register(database, receiver, inst, "bank30")
    first = add(database, draft(inst))
    with ExitStack() as first_term, ExitStack() as second_term:
        one = first_term.enter_context(running(database, FakeGate(), lock=anchor_lock(database, LOCK_NAME)))
        wait_for(one.leading.is_set)
        two = second_term.enter_context(running(database, FakeGate(), lock=anchor_lock(database, LOCK_NAME)))
        wait_for(lambda: states(database, first) == {first[0]: DELIVERED})
        assert not two.leading.is_set()  # standing by while `one` holds the lock
        first_term.close()  # the leader stops and releases the lock
        wait_for(two.leading.is_set)
        second = add(database, draft(inst))
        wait_for(lambda: states(database, second) == {second[0]: DELIVERED})
    assert [e["webhook_id"] for e in receiver.received("bank30")] == first + second


def test_a_name_rebound_to_a_private_address_is_not_followed(database: Database, receiver: Receiver) -> None:
    answers = {"hooks.bank.test": "127.0.0.1"}

    def resolve(host: str, port: int) -> list[str]:
        return [answers[host]]

    inst = institution(31)
    url = f"http://hooks.bank.test:{receiver.port}/ep/bank31"
    receiver.configure("bank31", mode="ok")
    secret = AlertEndpoints(database, environment="development", resolver=resolve).register(inst, url).secret
    receiver.configure("bank31", secrets=[secret])
    answers["hooks.bank.test"] = "10.0.0.7"  # DNS rebinding after registration
    [alert] = add(database, draft(inst))
    with running(database, FakeGate(), resolver=resolve):
        wait_for(lambda: _attempts(database, alert) >= 2)
        assert receiver.received("bank31") == []
        with database.session() as session:
            row = session.scalars(select(OutboxAlert).where(OutboxAlert.id == alert)).one()
            assert row.reason is not None and "endpoint_private_address" in row.reason
        answers["hooks.bank.test"] = "127.0.0.1"
        wait_for(lambda: states(database, [alert]) == {alert: DELIVERED})
    assert [e["webhook_id"] for e in receiver.received("bank31")] == [alert]


def _attempts(db: Database, alert: str) -> int:
    with db.session() as session:
        return session.scalars(select(OutboxAlert.attempts).where(OutboxAlert.id == alert)).one()
