"""Fakes and helpers of the alert delivery tests: a fake gate, drafts, a running sender."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from eth_account import Account

from ledger.alerts.model import AlertDraft, Clearance, Withheld
from ledger.alerts.outbox import OutboxAlert, enqueue
from ledger.alerts.policy import SenderPolicy
from ledger.alerts.sender import AlertSender, start_in_background
from ledger.storage.database import Database
from ledger.storage.locks import NoLock

#: fast pacing for tests: retries after 50 ms, doubling, over 1 s
FAST = SenderPolicy(
    poll_seconds=0.02,
    idle_poll_seconds=0.05,
    first_retry_seconds=0.05,
    max_retry_seconds=0.4,
    retry_horizon_seconds=1.0,
    timeout_seconds=1.0,
    connect_timeout_seconds=0.5,
    gate_retry_seconds=0.05,
    lock_check_seconds=0.1,
)


class FakeGate:
    """Clears every alert at block 100, except subjects it withholds or fails on."""

    def __init__(self) -> None:
        self.withhold: set[str] = set()
        self.fail: set[str] = set()
        self.calls: list[str] = []
        self._trail = itertools.count(1)
        self._lock = threading.Lock()

    def clear(self, alert: OutboxAlert) -> Clearance:
        with self._lock:
            self.calls.append(alert.id)
        if alert.subject in self.withhold:
            raise Withheld("grant_revoked", "the grant covering these categories was revoked")
        if alert.subject in self.fail:
            raise RuntimeError("the chain could not answer")
        return Clearance(block=100, trail_seq=next(self._trail))


def institution(i: int) -> str:
    return str(Account.from_key((0x1000 + i).to_bytes(32, "big")).address)


def draft(inst: str, subject: str = "91350200776049653A", event: str = "record.new") -> AlertDraft:
    return AlertDraft(
        institution=inst,
        subject=subject,
        event=event,
        categories=("judicial_enforcement",),
        severity="high",
        rule_id="enforcement-new",
        rules_version=1,
        watch_id=None,
    )


def add(db: Database, *drafts: AlertDraft) -> list[str]:
    with db.session() as session:
        return [enqueue(session, d) for d in drafts]


def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


@contextmanager
def running(
    db: Database, gate: FakeGate, policy: SenderPolicy = FAST, **kwargs: object
) -> Iterator[AlertSender]:
    kwargs.setdefault("lock", NoLock())
    sender = AlertSender(db=db, gate=gate, policy=policy, environment="development", **kwargs)  # type: ignore[arg-type]
    thread, stop = start_in_background(sender)
    try:
        yield sender
    finally:
        stop.set()
        thread.join(timeout=10)
        assert not thread.is_alive(), "the sender did not stop"
