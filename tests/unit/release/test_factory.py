"""The release service as a platform wires it: its chain endpoint, its bounds, its watch.

With a chain watch, the watch is started and every decision's block is checked by it;
without one, decisions come straight from the node.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from eth_utils import to_checksum_address

from ledger.chain.authorize_call import AuthorizeCaller
from ledger.chain.watch import WatchedAuthorizer
from ledger.release import factory
from ledger.release.reader import RecordReader
from ledger.release.trail import AccessTrail
from ledger.storage.database import Database

CONSENTS = "0x" + "c0" * 20
RPC = "http://127.0.0.1:8545"


class FakeRecords:
    def __init__(self, platform: object) -> None:
        self.platform = platform
        self.db = platform.db  # type: ignore[attr-defined]


class FakeWatch:
    def __init__(self) -> None:
        self.started = self.stopped = 0

    def start(self) -> None:
        self.started += 1

    def stop(self) -> None:
        self.stopped += 1


def platform(db: Database, watch: FakeWatch | None) -> SimpleNamespace:
    return SimpleNamespace(
        db=db,
        watch=watch,
        chain=SimpleNamespace(rpc_url=RPC),
        deployment=SimpleNamespace(chain_id=31337, addresses={"Consents": CONSENTS}),
        settings=SimpleNamespace(max_block_age_seconds=17, request_max_lifetime_seconds=601),
    )


@pytest.fixture(autouse=True)
def _records(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(factory, "RecordsService", FakeRecords)


def test_without_a_watch_decisions_come_from_the_node(sqlite_db: Database) -> None:
    wired = platform(sqlite_db, None)
    service = factory.release_service(wired)  # type: ignore[arg-type]
    try:
        assert type(service.authorizer) is AuthorizeCaller
        assert (service.authorizer.rpc_url, service.authorizer.consents) == (
            RPC,
            to_checksum_address(CONSENTS),
        )
        assert (service.max_block_age_seconds, service.max_lifetime_seconds) == (17, 601)
        assert isinstance(service.reader, RecordReader) and service.reader.records.platform is wired  # type: ignore[attr-defined]
        assert isinstance(service.trail, AccessTrail)
        assert service.db is sqlite_db
    finally:
        service.close()


def test_with_a_watch_it_is_started_and_checks_every_decision(sqlite_db: Database) -> None:
    watch = FakeWatch()
    service = factory.release_service(platform(sqlite_db, watch))  # type: ignore[arg-type]
    try:
        assert watch.started == 1
        assert isinstance(service.authorizer, WatchedAuthorizer) and service.authorizer.watch is watch  # type: ignore[comparison-overlap]
        assert (service.authorizer.rpc_url, service.authorizer.consents) == (
            RPC,
            to_checksum_address(CONSENTS),
        )
        assert (service.max_block_age_seconds, service.max_lifetime_seconds) == (17, 601)
    finally:
        service.close()
    assert watch.stopped == 1
