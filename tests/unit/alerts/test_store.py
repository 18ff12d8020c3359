"""The sender's store with fake gates: each answer of the gate becomes the row's state."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ledger.alerts.endpoint_model import ACTIVE, AlertEndpoint
from ledger.alerts.model import AlertDraft, Clearance, Withheld
from ledger.alerts.outbox import FED, PENDING, QUEUED, WITHHELD, OutboxAlert, enqueue
from ledger.alerts.policy import SenderPolicy
from ledger.alerts.sender import AlertSender
from ledger.alerts.store import Due, EndpointView, SenderStore
from ledger.alerts.transport import Outcome
from ledger.storage.database import Database
from ledger.storage.locks import NoLock

BANK = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
OTHER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"


def _draft(institution: str, subject: str) -> AlertDraft:
    return AlertDraft(institution, subject, "record.new", ("judicial_enforcement",), "high", "r1", 1)


class Answers:
    """Answers by subject: a Clearance, a Withheld to raise, or an exception to raise."""

    def __init__(self, by_subject: dict[str, object]) -> None:
        self.by_subject = by_subject

    def clear(self, alert: OutboxAlert) -> Clearance:
        answer = self.by_subject[alert.subject]
        if isinstance(answer, Exception):
            raise answer
        assert isinstance(answer, Clearance)
        return answer


class Batch(Answers):
    def clear_many(self, alerts: list[OutboxAlert]) -> list[Clearance | Withheld]:
        out: list[Clearance | Withheld] = []
        for a in alerts:
            answer = self.by_subject[a.subject]
            assert isinstance(answer, Clearance | Withheld)
            out.append(answer)
        return out


def _rows(db: Database) -> dict[str, OutboxAlert]:
    with db.session() as session:
        return {r.subject: r for r in session.scalars(select(OutboxAlert))}


@pytest.mark.parametrize("gate_class", [Answers, Batch])
def test_each_answer_of_the_gate_becomes_a_state(db: Database, gate_class: type[Answers]) -> None:
    with db.session() as session:
        session.add(
            AlertEndpoint(
                id="ep1",
                institution=BANK,
                url="https://h.example/",
                state=ACTIVE,
                secret="whsec_x",
                created_ms=0,
                updated_ms=0,
            )
        )
        for subject in ("ok", "later", "refused"):
            enqueue(session, _draft(BANK, subject))
        enqueue(session, _draft(OTHER, "fed"))
    answers: dict[str, object] = {
        "ok": Clearance(block=7, trail_seq=3),
        "later": Withheld("chain_unavailable", final=False),
        "refused": Withheld("grant_revoked", "revoked at block 6"),
        "fed": Clearance(block=7, trail_seq=4),
    }
    counts = SenderStore(db).clear_pending(gate_class(answers), limit=10, retry_ms=60_000)
    assert (counts.cleared, counts.withheld, counts.deferred) == (2, 1, 1)
    rows = _rows(db)
    assert rows["ok"].state == QUEUED and rows["ok"].block == 7 and rows["ok"].trail_seq == 3
    assert rows["fed"].state == FED  # no endpoint: pull feed only
    assert {rows["ok"].feed_seq, rows["fed"].feed_seq} == {1, 2}
    assert rows["refused"].state == WITHHELD and rows["refused"].reason == "grant_revoked: revoked at block 6"
    assert rows["refused"].payload is None and rows["refused"].feed_seq is None
    assert rows["later"].state == PENDING and rows["later"].next_attempt_ms > 0
    assert rows["later"].reason == "gate: chain_unavailable"
    # asked again only once due: nothing is due now
    assert SenderStore(db).clear_pending(gate_class(answers), limit=10, retry_ms=60_000).deferred == 0


def test_a_gate_that_raises_defers_every_alert(db: Database) -> None:
    with db.session() as session:
        enqueue(session, _draft(BANK, "x"))
    counts = SenderStore(db).clear_pending(Answers({"x": RuntimeError("rpc down")}), limit=10, retry_ms=1)
    assert counts.deferred == 1
    assert _rows(db)["x"].state == PENDING and "RuntimeError: rpc down" in (_rows(db)["x"].reason or "")


def test_outcomes_become_delivered_retry_dead_or_disable(db: Database) -> None:
    sender = AlertSender(db=db, gate=Answers({}), policy=SenderPolicy(), lock=NoLock())
    endpoint = EndpointView("ep1", BANK, "https://h.example/", ("whsec_x",))
    due = Due(1, "msg_1", BANK, b"{}", attempts=0)
    assert sender.result_of(due, endpoint, Outcome("delivered", 204)).state == "delivered"
    gone = sender.result_of(due, endpoint, Outcome("gone", 410))
    assert gone.state == "dead" and gone.disable_endpoint == "ep1"
    retry = sender.result_of(due, endpoint, Outcome("failed", 500, "the endpoint answered 500"))
    assert retry.state == "queued" and retry.attempts == 1 and retry.reason == "the endpoint answered 500"
    last = Due(1, "msg_1", BANK, b"{}", attempts=len(SenderPolicy().schedule))
    dead = sender.result_of(last, endpoint, Outcome("failed", None, "timeout"))
    assert dead.state == "dead" and dead.reason is not None and dead.reason.startswith("retries spent")
