"""The sender as a process of its own, to be killed (`test_sender_kill.py`, `bench/alerts.py`).

Run: python -m tests.integration.alerts.sender_process DATABASE_URL [fast|default]
It leads through the real database lock and clears every alert with the fake gate; `fast`
(the tests' pacing, retries after 50 ms) or `default` (the production policy).
"""

from __future__ import annotations

import signal
import sys
import threading

from ledger.alerts.policy import SenderPolicy
from ledger.alerts.sender import AlertSender
from ledger.storage.database import Database
from tests.integration.alerts.support import FAST, FakeGate


def main(url: str, pacing: str = "fast") -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    policy = FAST if pacing == "fast" else SenderPolicy()
    AlertSender(db=Database(url), gate=FakeGate(), policy=policy, environment="development").run(stop)


if __name__ == "__main__":
    main(*sys.argv[1:3])
