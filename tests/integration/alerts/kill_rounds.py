"""Rounds of SIGKILL of a sender process mid-delivery, and what the receiver got.

Shared by `test_sender_kill.py` (a few rounds) and `bench/alerts.py` (twenty). Each round
enqueues a batch, starts a sender process, lets it deliver for a random moment and kills
it with SIGKILL; at the end one more sender finishes the work. Then: every alert must be
delivered and received, and every webhook-id received more than once must have come with
the same body each time (a duplicate is only ever a repeat under the same webhook-id).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from ledger.alerts.endpoints import AlertEndpoints
from ledger.alerts.outbox import DELIVERED, OutboxAlert
from ledger.storage.database import Database
from tests.alerts_receiver import Receiver
from tests.integration.alerts.support import add, draft, institution, wait_for

ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class KillReport:
    rounds: int
    alerts: int
    received: int
    duplicates: int
    lost: int
    foreign: int  # received ids that were never enqueued
    mismatched: int  # webhook-ids received with different bodies
    unverified: int


def _start(url: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.integration.alerts.sender_process", url],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def kill_rounds(
    db: Database, receiver: Receiver, *, rounds: int, per_round: int, seed: int = 7
) -> KillReport:
    rng = random.Random(seed)
    names = ["k0", "k1", "k2"]
    insts = [institution(900 + i) for i in range(len(names))]
    for name, inst in zip(names, insts, strict=True):
        receiver.configure(name, mode="ok")
        secret = AlertEndpoints(db, environment="development").register(inst, receiver.url(name)).secret
        receiver.configure(name, mode="slow:0.02", secrets=[secret])  # keeps deliveries in flight
    ids: list[str] = []
    for _ in range(rounds):
        ids += add(db, *[draft(insts[i % len(insts)]) for i in range(per_round)])
        before = len(receiver.received())
        proc = _start(db.url)
        deadline = time.monotonic() + 20
        while len(receiver.received()) < before + rng.randint(1, per_round) and time.monotonic() < deadline:
            time.sleep(0.005)  # kill once some (a random number) of this round's are through
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    final = _start(db.url)
    try:

        def all_delivered() -> bool:
            with db.session() as session:
                done = session.scalar(
                    select(func.count())
                    .select_from(OutboxAlert)
                    .where(OutboxAlert.id.in_(ids), OutboxAlert.state == DELIVERED)
                )
            return done == len(ids)

        wait_for(all_delivered, timeout=120)
    finally:
        final.terminate()
        final.wait(timeout=15)
    got = [e for e in receiver.received() if e["endpoint"] in names]
    bodies: dict[str, set[str]] = defaultdict(set)
    for e in got:
        bodies[e["webhook_id"]].add(e["body"])
    wanted = set(ids)
    return KillReport(
        rounds=rounds,
        alerts=len(ids),
        received=len(got),
        duplicates=len(got) - len(bodies),
        lost=len(wanted - set(bodies)),
        foreign=len(set(bodies) - wanted),
        mismatched=sum(1 for b in bodies.values() if len(b) > 1),
        unverified=sum(1 for e in got if not e["verified"]),
    )
