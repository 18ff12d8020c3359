"""SIGKILL of the sender process mid-delivery, on SQLite and PostgreSQL: nothing lost, and a
duplicate only ever under the same webhook-id with the same body (bench/alerts.py: 20 rounds)."""

from __future__ import annotations

import pytest

from ledger.storage.database import Database
from tests.alerts_receiver import Receiver
from tests.integration.alerts.kill_rounds import kill_rounds


@pytest.mark.slow
def test_killed_senders_lose_nothing_and_repeat_only_under_the_same_id(database: Database) -> None:
    with Receiver() as receiver:
        report = kill_rounds(database, receiver, rounds=3, per_round=30)
    assert report.lost == 0
    assert report.foreign == 0
    assert report.mismatched == 0
    assert report.unverified == 0
    assert report.received >= report.alerts
