"""The anchoring worker and proofs: policy, locks, outages, crash recovery, forks."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner

from ledger.chain.checkpoints import CheckpointsContract, log_id
from ledger.chain.client import ChainClient
from ledger.cli import app as cli
from ledger.cli_records import start_anchoring
from ledger.devnet import devnet_key
from ledger.domain.catalogue import Catalogue
from ledger.domain.log_names import CREDIT_RECORDS_LOG
from ledger.logs.anchor_worker import AnchorPolicy, AnchorWorker
from ledger.logs.models import LogCheckpoint, LogEntry, LogTile
from ledger.logs.proofs import LogProofs
from ledger.logs.store import LogCorrupted
from ledger.logs.tree import TreeCache
from ledger.logs.verify import ProofVerificationError
from ledger.merkle.rfc9162 import hash_leaf, verify_consistency
from ledger.platform import Platform
from ledger.records.samples import sample_records
from ledger.records.verify import verify_record_bundle
from ledger.sdk import ApiError
from ledger.wiring import anchor_worker
from tests.integration.records.conftest import SdkFor

LOG = CREDIT_RECORDS_LOG
FORGED = b'{"seq":2,"type":"credit-record","forged":true}'  # consistent with its own hash


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _checkpoints(platform: Platform, client: ChainClient | None = None) -> CheckpointsContract:
    return CheckpointsContract(client or platform.chain, platform.deployment.addresses.checkpoints)


def _worker(
    platform: Platform, clock: FakeClock | None = None, cache: TreeCache | None = None, **policy: float
) -> AnchorWorker:
    return AnchorWorker(
        db=platform.db,
        checkpoints=_checkpoints(platform),
        logs=[LOG],
        policy=AnchorPolicy(**policy),  # type: ignore[arg-type]
        from_block=platform.deployment.block,
        clock=clock or FakeClock(),
        cache=cache,
    )


MakeWorker = Callable[..., AnchorWorker]


@pytest.fixture
def workers(platform: Platform) -> Iterator[MakeWorker]:
    """Workers for this test, closed afterwards so their locks do not outlive it."""
    made: list[AnchorWorker] = []

    def make(clock: FakeClock | None = None, cache: TreeCache | None = None, **policy: float) -> AnchorWorker:
        worker = _worker(platform, clock, cache, **policy)
        made.append(worker)
        return worker

    yield make
    for worker in made:
        worker.close()


def _ingest(sdk: SdkFor, provider: LocalAccount, count: int, start: int = 0) -> list[dict[str, object]]:
    report = sdk(provider).submit_records(list(sample_records(count, start=start)))
    receipts: list[dict[str, object]] = report["receipts"]
    return receipts


def test_proof_verifies_against_the_chain(
    sdk: SdkFor,
    workers: MakeWorker,
    platform: Platform,
    provider: LocalAccount,
    other_provider: LocalAccount,
    catalogue_v1: Catalogue,
) -> None:
    receipts = _ingest(sdk, provider, 13)
    first = receipts[5]
    with pytest.raises(ApiError) as pending:
        sdk(provider).record_proof(str(first["record_id"]), 1)
    assert pending.value.status == 409 and "not anchored yet" in pending.value.message
    result = workers().anchor_now(LOG)
    assert result is not None and (result.previous_size, result.size) == (0, 13)
    bundle = sdk(provider).record_proof(str(first["record_id"]), 1, with_opening=True)
    assert bundle["index"] == first["log_index"] and bundle["leaf_hash"] == first["leaf_hash"]
    assert bundle["anchor"]["transaction"] == "0x" + result.transaction_hash.hex()
    verified = verify_record_bundle(bundle, checkpoints=_checkpoints(platform))
    assert (verified.tree_size, verified.index) == (13, first["log_index"])

    # any tampering is caught, with the step that failed
    for key, value, message in [
        ("leaf_hash", "0x" + "00" * 32, "leaf hash"),
        ("index", 6, "sequence number"),
        ("root", "0x" + "11" * 32, "inclusion proof"),
        ("tree_size", 12, "no checkpoint of size 12"),  # a path can fit two sizes: the chain decides
    ]:
        with pytest.raises(ProofVerificationError, match=message):
            verify_record_bundle({**bundle, key: value}, checkpoints=_checkpoints(platform))
    forged = {
        **bundle["opening"],
        "canonical_record": bundle["opening"]["canonical_record"].replace("2", "3", 1),
    }
    with pytest.raises(ProofVerificationError, match="commitment"):
        verify_record_bundle({**bundle, "opening": forged}, checkpoints=_checkpoints(platform))
    # another provider may fetch the proof, but not the opening
    assert sdk(other_provider).record_proof(str(first["record_id"]), 1)["root"] == bundle["root"]
    with pytest.raises(ApiError) as refused:
        sdk(other_provider).record_proof(str(first["record_id"]), 1, with_opening=True)
    assert refused.value.status == 403
    # by its receipt's log index: the same bundle, to the same callers
    index = int(str(first["log_index"]))
    at = sdk(provider).record_proof_at(index, with_opening=True)
    assert at == bundle and at["record"] == {"record_id": first["record_id"], "version": 1}
    assert sdk(other_provider).record_proof_at(index)["root"] == bundle["root"]
    for caller, asked, opening, status in ((other_provider, index, True, 403), (provider, 13, False, 404)):
        with pytest.raises(ApiError) as refused:
            sdk(caller).record_proof_at(asked, with_opening=opening)
        assert refused.value.status == status


def test_proofs_follow_the_latest_checkpoint_and_checkpoints_are_consistent(
    sdk: SdkFor, workers: MakeWorker, platform: Platform, provider: LocalAccount, catalogue_v1: Catalogue
) -> None:
    worker = workers()
    receipts = _ingest(sdk, provider, 7)
    worker.anchor_now(LOG)
    receipts += _ingest(sdk, provider, 10, start=7)
    second = worker.anchor_now(LOG)
    assert second is not None and (second.previous_size, second.size) == (7, 17)
    bundle = sdk(provider).record_proof(str(receipts[0]["record_id"]), 1)
    assert bundle["tree_size"] == 17
    verify_record_bundle(bundle, checkpoints=_checkpoints(platform))
    body = sdk(provider).log_consistency(LOG, 7, 17)
    verify_consistency(
        7,
        17,
        bytes.fromhex(body["first_root"][2:]),
        bytes.fromhex(body["second_root"][2:]),
        [bytes.fromhex(h[2:]) for h in body["proof"]],
    )
    info = sdk(provider).log_info(LOG)
    assert info["size"] == 17 and info["latest_checkpoint"]["size"] == 17
    assert info["log_id"] == "0x" + log_id(LOG).hex()
    assert _checkpoints(platform).latest(log_id(LOG)).size == 17


def test_policy_anchors_by_size_or_by_time_whichever_first(
    sdk: SdkFor, workers: MakeWorker, platform: Platform, provider: LocalAccount, catalogue_v1: Catalogue
) -> None:
    clock = FakeClock()
    worker = workers(clock, max_entries=10, max_delay_seconds=60)
    assert worker.tick() == []  # empty log: nothing to do
    _ingest(sdk, provider, 4)
    assert worker.tick() == []  # 4 pending, 0 s waited
    clock.now += 30
    _ingest(sdk, provider, 5, start=4)
    assert worker.tick() == []  # 9 pending, 30 s waited
    _ingest(sdk, provider, 1, start=9)
    [by_size] = worker.tick()  # 10 pending: size wins
    assert by_size.size == 10
    _ingest(sdk, provider, 2, start=10)
    assert worker.tick() == []
    clock.now += 59
    assert worker.tick() == []
    clock.now += 1
    [by_time] = worker.tick()  # 60 s since the first pending one: time wins
    assert (by_time.previous_size, by_time.size) == (10, 12)


def test_chain_outage_is_retried_with_backoff_and_nothing_is_lost(
    sdk: SdkFor, workers: MakeWorker, platform: Platform, provider: LocalAccount, catalogue_v1: Catalogue
) -> None:
    clock = FakeClock()
    worker = workers(clock, max_entries=1, backoff_initial_seconds=2, backoff_max_seconds=8)
    live = worker.checkpoints
    gone = ChainClient.connect("http://127.0.0.1:9", devnet_key(0), artifacts=platform.chain.artifacts)
    worker.checkpoints = _checkpoints(platform, gone)
    _ingest(sdk, provider, 5)
    delays = []
    for _ in range(4):
        assert worker.tick() == []
        state = worker._state[LOG]
        delays.append(state.retry_at - clock.now)
        assert worker.tick() == []  # still backing off: not even tried
        clock.now = state.retry_at
    assert delays[0] == pytest.approx(2, rel=0.21) and delays[3] == pytest.approx(8, rel=0.21)
    assert delays[1] == pytest.approx(4, rel=0.21)
    worker.checkpoints = live  # the chain is back
    _ingest(sdk, provider, 3, start=5)
    [result] = worker.tick()
    assert (result.previous_size, result.size) == (0, 8)


def test_crash_between_anchoring_and_recording_is_recovered_without_double_anchoring(
    sdk: SdkFor, workers: MakeWorker, platform: Platform, provider: LocalAccount, catalogue_v1: Catalogue
) -> None:
    _ingest(sdk, provider, 9)
    tree = LogProofs(platform.db).cache.tree(platform.db, LOG, 9)
    checkpoints = _checkpoints(platform)
    receipt = checkpoints.submit(log_id(LOG), 9, tree.root(9), [])  # anchored, then the worker "died"
    with platform.db.session() as session:
        assert session.scalars(select(LogCheckpoint)).all() == []
    blocks = platform.chain.block_number()
    worker = workers(max_entries=1)
    assert worker.tick() == []  # reconciled from the chain: nothing new to anchor
    assert platform.chain.block_number() == blocks  # no second transaction
    with platform.db.session() as session:
        row = session.scalars(select(LogCheckpoint)).one()
        assert (row.size, row.transaction_hash) == (9, bytes(receipt["transactionHash"]))
    _ingest(sdk, provider, 1, start=9)
    [result] = worker.tick()
    assert (result.previous_size, result.size) == (9, 10)
    assert len(checkpoints.history(log_id(LOG))) == 2


def test_two_workers_never_both_anchor(
    sdk: SdkFor, workers: MakeWorker, platform: Platform, provider: LocalAccount, catalogue_v1: Catalogue
) -> None:
    one = workers(max_entries=1)
    two = workers(max_entries=1)
    _ingest(sdk, provider, 3)
    assert len(one.tick()) == 1
    _ingest(sdk, provider, 3, start=3)
    assert two.tick() == []  # the lock is taken: standing by
    assert len(one.tick()) == 1
    one.close()  # e.g. the first worker stopped
    _ingest(sdk, provider, 2, start=6)
    [taken_over] = two.tick()
    assert (taken_over.previous_size, taken_over.size) == (6, 8)
    assert [e.size for e in _checkpoints(platform).history(log_id(LOG))] == [3, 6, 8]


def test_a_rewritten_entry_stops_anchoring_and_proofs(
    sdk: SdkFor, workers: MakeWorker, platform: Platform, provider: LocalAccount, catalogue_v1: Catalogue
) -> None:
    receipts = _ingest(sdk, provider, 4)
    worker = workers(max_entries=1)
    worker.tick()
    with platform.db.session() as session:  # someone rewrites anchored history in the database
        session.execute(
            update(LogEntry).where(LogEntry.seq == 2).values(leaf_hash=hash_leaf(FORGED), leaf=FORGED)
        )
    assert sdk(provider).record_proof(str(receipts[0]["record_id"]), 1)["index"] == 0  # untouched entry
    with pytest.raises(ApiError) as refused:
        sdk(provider).record_proof(str(receipts[2]["record_id"]), 1)
    assert refused.value.status == 503 and "stored entry 2 is not the entry that was anchored" in (
        refused.value.message
    )
    _ingest(sdk, provider, 2, start=4)
    with platform.db.session() as session:  # and an entry not anchored yet
        session.execute(
            update(LogEntry).where(LogEntry.seq == 5).values(leaf_hash=hash_leaf(FORGED), leaf=FORGED)
        )
    worker.close()
    fresh = workers(cache=TreeCache(), max_entries=1)  # as after a restart
    assert fresh.tick() == []
    fatal = fresh._state[LOG].fatal
    assert fatal is not None and "stored entry 5 does not match the leaf hash in its tile" in fatal
    assert _checkpoints(platform).latest(log_id(LOG)).size == 4


def test_a_rewritten_tile_stops_anchoring(
    sdk: SdkFor, workers: MakeWorker, platform: Platform, provider: LocalAccount, catalogue_v1: Catalogue
) -> None:
    _ingest(sdk, provider, 4)
    worker = workers(max_entries=1)
    worker.tick()
    with platform.db.session() as session:  # the tree itself is rewritten
        session.execute(update(LogTile).values(hashes=hash_leaf(FORGED) * 4))
    _ingest(sdk, provider, 2, start=4)
    worker.close()
    fresh = workers(cache=TreeCache(), max_entries=1)
    assert fresh.tick() == []
    fatal = fresh._state[LOG].fatal
    assert fatal is not None and "is not the root" in fatal and "of the stored tiles" in fatal
    assert _checkpoints(platform).latest(log_id(LOG)).size == 4


def test_log_proofs_refuse_a_log_that_no_longer_matches(
    sdk: SdkFor, workers: MakeWorker, platform: Platform, provider: LocalAccount, catalogue_v1: Catalogue
) -> None:
    _ingest(sdk, provider, 3)
    workers().anchor_now(LOG)
    with platform.db.session() as session:
        session.execute(update(LogCheckpoint).values(root=b"\x02" * 32))
    with pytest.raises(LogCorrupted):
        LogProofs(platform.db).inclusion(LOG, 1)


def test_the_wired_worker_follows_the_settings(platform: Platform) -> None:
    settings = platform.settings.model_copy(
        update={"anchor_max_entries": 7, "anchor_logs": ["credit-records"]}
    )
    worker = anchor_worker(dataclasses.replace(platform, settings=settings))
    assert worker.policy.max_entries == 7 and worker.logs == ["credit-records"]


def test_up_runs_the_worker_in_the_background(
    sdk: SdkFor, platform: Platform, provider: LocalAccount, catalogue_v1: Catalogue
) -> None:
    settings = platform.settings.model_copy(
        update={"anchor_logs": [LOG], "anchor_max_delay_seconds": 0.2, "anchor_poll_seconds": 0.05}
    )
    stop = start_anchoring(dataclasses.replace(platform, settings=settings))
    assert stop is not None
    try:
        _ingest(sdk, provider, 5)
        deadline = time.monotonic() + 20
        while _checkpoints(platform).latest(log_id(LOG)).size < 5:
            assert time.monotonic() < deadline, "the background worker did not anchor"
            time.sleep(0.05)
    finally:
        stop()
    off = platform.settings.model_copy(update={"anchor_in_up": False})
    assert start_anchoring(dataclasses.replace(platform, settings=off)) is None


def test_openapi_documents_the_routes(api: TestClient) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    assert {"/records", "/records/bulk", "/catalogue/versions", "/logs/{name}/consistency"} <= set(paths)
    assert "application/x-ndjson" in paths["/records/bulk"]["post"]["requestBody"]["content"]


def test_cli_verifies_a_proof_offline(
    sdk: SdkFor, workers: MakeWorker, platform: Platform, provider: LocalAccount, catalogue_v1: Catalogue,
    tmp_path: Path,
) -> None:  # fmt: skip
    receipts = _ingest(sdk, provider, 3)
    workers().anchor_now(LOG)
    bundle = sdk(provider).record_proof(str(receipts[1]["record_id"]), 1, with_opening=True)
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(bundle))
    bad.write_text(json.dumps({**bundle, "leaf_hash": "0x" + "00" * 32}))
    args = ["--rpc", platform.chain.rpc_url, "--checkpoints", platform.deployment.addresses.checkpoints]
    ok = CliRunner().invoke(cli, ["records", "verify-proof", str(good), *args])
    assert ok.exit_code == 0 and "and its opening is entry 1 of credit-records" in ok.output, ok.output
    refused = CliRunner().invoke(cli, ["records", "verify-proof", str(bad), *args])
    assert refused.exit_code == 1 and "leaf hash: expected" in refused.output, refused.output
