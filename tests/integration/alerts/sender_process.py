"""The sender as a process of its own, to be killed (`test_sender_kill.py`, `bench/alerts.py`).

Run: python -m tests.integration.alerts.sender_process DATABASE_URL
It leads through the real database lock and clears every alert with the fake gate.
"""

from __future__ import annotations

import signal
import sys
import threading

from ledger.alerts.sender import AlertSender
from ledger.storage.database import Database
from tests.integration.alerts.support import FAST, FakeGate


def main(url: str) -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    AlertSender(db=Database(url), gate=FakeGate(), policy=FAST, environment="development").run(stop)


if __name__ == "__main__":
    main(sys.argv[1])
