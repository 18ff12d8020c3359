"""The verifier end to end without a chain: a clean world passes every step, each kind of damage is
found at its step, the chain is asked only what it must be, and step 4.7 runs on the sample.
"""

from __future__ import annotations

import dataclasses
import random
import time
from typing import Any

import pytest

from ledger.audit.chain import ChainReader
from ledger.audit.export import AuditExport, ExportedEntry, ExportHeader
from ledger.audit.findings import Finding, Step
from ledger.audit.verifier import Verifier, VerifyOptions, log_names, verify_offline
from ledger.chain.deploy import Deployment
from ledger.logs.leaves import encode_leaf
from tests.unit.audit import world
from tests.unit.audit.fakes import RecordingProgress


def steps(findings: list[Finding]) -> list[tuple[str, str | None, int | None]]:
    return sorted((f.step.value, f.log, f.index) for f in findings)


def test_a_clean_world_passes_every_offline_step() -> None:
    started = time.perf_counter()
    result = verify_offline(world.export(), world.snapshot(), world.DEPLOYMENT)
    elapsed = time.perf_counter() - started
    assert result.findings == []
    assert sorted(result.logs) == ["access-trail", "credit-records"]
    trail = result.logs["access-trail"]
    assert (trail.served, trail.anchored_size, trail.unanchored) == (3, 2, 1)
    assert [(c.size, c.rebuilt, c.consistent) for c in trail.checkpoints] == [
        (1, True, True),
        (2, True, True),
    ]
    assert len(result.access.entries) == 3 and sorted(result.access.replayed) == [0, 1, 2]
    assert result.access.levels_checked == 3 and result.access.unauthorized == []
    assert (result.records.leaves, result.records.versions, result.records.openings) == (2, 2, 2)
    assert result.records.checked
    assert set(result.seconds) == {"records", "examine", "leaves", "merkle", "replay"}
    assert all(0 <= v <= elapsed for v in result.seconds.values())


def test_damage_is_found_at_its_step() -> None:
    access = world.access_leaves()
    access[1] = encode_leaf("access", 1, world.access_payload(1, raw=True, raw_categories="0"))  # 4.6 and 3.3
    access[2] = encode_leaf("access", 2, world.access_payload(2, level=world.LEVEL + 1))  # 4.8 (unanchored)
    export = world.export(access=access)
    export.records[1] = dataclasses.replace(export.records[1], commitment=bytes(32))  # 5.1
    result = verify_offline(export, world.snapshot(), world.DEPLOYMENT)
    assert steps(result.findings) == [
        ("3.3", "access-trail", 1),
        ("4.6", "access-trail", 1),
        ("4.8", "access-trail", 2),
        ("5.1", "credit-records", 1),
    ]
    assert result.access.unauthorized == [1]


def test_a_leaf_that_does_not_decode_is_a_leaf_finding_of_the_trail() -> None:
    access = world.access_leaves()
    access[2] = b"not json"
    result = verify_offline(world.export(access=access), world.snapshot(), world.DEPLOYMENT)
    assert [(f.step, f.index, f.what) for f in result.findings] == [(Step.LEAF, 2, "leaf is not UTF-8 JSON")]
    assert len(result.access.entries) == 2


def test_the_deployment_step_compares_endpoint_manifest_and_export() -> None:
    header = world.export().header
    assert header is not None
    foreign = dataclasses.replace(
        header, chain_id=5, contracts={**header.contracts, "Consents": "0x" + "99" * 20, "Other": "0x01"}
    )
    snap = world.snapshot(chain_id=1, missing_code=("Agreements", "Checkpoints"))
    result = verify_offline(world.export(header=foreign), snap, world.DEPLOYMENT)
    deployment = [f for f in result.findings if f.step is Step.DEPLOYMENT]
    assert deployment == [
        Finding(
            Step.DEPLOYMENT, None, None, "the endpoint is another chain than the manifest's", "31337", "1"
        ),
        Finding(
            Step.DEPLOYMENT,
            None,
            None,
            "no code for Agreements at the manifest's address",
            "contract code",
            "none",
        ),
        Finding(
            Step.DEPLOYMENT,
            None,
            None,
            "no code for Checkpoints at the manifest's address",
            "contract code",
            "none",
        ),
        Finding(Step.DEPLOYMENT, None, None, "the export is of another chain", "31337", "5"),
        Finding(
            Step.DEPLOYMENT,
            None,
            None,
            "the export names another Consents contract",
            world.ADDRESSES["Consents"],
            "0x" + "99" * 20,
        ),
    ]


def test_an_export_without_header_or_naming_fewer_contracts_is_not_a_deployment_finding() -> None:
    export = world.export()
    assert export.header is not None
    export.header = dataclasses.replace(
        export.header, contracts={"Consents": world.ADDRESSES["Consents"].upper()}
    )
    assert verify_offline(export, world.snapshot(), world.DEPLOYMENT).findings == []
    export.header = None
    result = verify_offline(export, world.snapshot(), world.DEPLOYMENT)
    assert result.findings == [] and result.records.checked  # the records carried say so


def test_the_declared_sizes_of_the_header_are_checked_for_every_log() -> None:
    export = world.export()
    assert export.header is not None
    export.header = dataclasses.replace(
        export.header, logs={"access-trail": 4, "credit-records": 1, "extra": 2}
    )
    result = verify_offline(export, world.snapshot(), world.DEPLOYMENT)
    assert steps(result.findings) == [
        ("3.5", "access-trail", None),
        ("3.5", "credit-records", None),
        ("3.5", "extra", None),
    ]
    assert sorted(result.logs) == ["access-trail", "credit-records", "extra"]


def test_block_times_are_fetched_for_the_first_and_the_last_block_of_the_range() -> None:
    access = world.access_leaves()
    access[0] = encode_leaf("access", 0, world.access_payload(0, block=1))
    access[2] = encode_leaf("access", 2, world.access_payload(2, block=world.HEAD))
    asked: list[list[int]] = []

    def fetch(blocks: Any) -> dict[int, int]:
        asked.append(list(blocks))
        return {b: world.BLOCK_TIME for b in blocks}

    export = world.export(access=access)
    verify_offline(export, world.snapshot(timestamps={}), world.DEPLOYMENT, timestamps=fetch)
    assert asked == [[1, world.B, world.HEAD]]


def test_block_times_are_fetched_only_for_blocks_of_the_deployment_not_yet_known() -> None:
    access = world.access_leaves()
    access[2] = encode_leaf("access", 2, world.access_payload(2, block=world.HEAD + 1))
    asked: list[list[int]] = []

    def fetch(blocks: Any) -> dict[int, int]:
        asked.append(list(blocks))
        return {b: world.BLOCK_TIME for b in blocks}

    result = verify_offline(
        world.export(access=access), world.snapshot(timestamps={}), world.DEPLOYMENT, timestamps=fetch
    )
    assert asked == [[world.B]]
    assert result.snapshot.timestamps == {world.B: world.BLOCK_TIME}
    assert steps(result.findings) == [("4.5", "access-trail", 2)]
    verify_offline(world.export(), world.snapshot(), world.DEPLOYMENT, timestamps=fetch)
    assert asked == [[world.B]]  # already in the snapshot: not fetched again
    below = world.snapshot(timestamps={}, deployment_block=world.B + 1)
    verify_offline(world.export(), below, world.DEPLOYMENT, timestamps=fetch)
    assert asked == [[world.B]]


def test_without_a_timestamp_source_unknown_block_times_are_findings() -> None:
    result = verify_offline(world.export(), world.snapshot(timestamps={}), world.DEPLOYMENT)
    assert [(f.step, f.what) for f in result.findings] == [
        (Step.BLOCK, f"timestamp of block {world.B} unknown")
    ] * 3


def test_the_bound_on_a_decision_blocks_age_is_the_one_given() -> None:
    late = world.snapshot(timestamps={world.B: world.BLOCK_TIME - 30})
    assert verify_offline(world.export(), late, world.DEPLOYMENT, max_block_age=35).findings == []
    assert {f.step for f in verify_offline(world.export(), late, world.DEPLOYMENT).findings} == {Step.BLOCK}


def test_progress_reports_each_log_and_each_release() -> None:
    progress = RecordingProgress()
    verify_offline(world.export(), world.snapshot(), world.DEPLOYMENT, progress=progress)
    totals = {total: progress.advanced[d] for d, total in progress.tasks if total is not None}
    assert totals == {1: 1, 3: 3}  # the record log; the three releases examined and replayed


def test_log_names_are_the_standard_logs_those_served_and_those_declared() -> None:
    assert log_names(AuditExport()) == ["access-trail", "credit-records"]
    export = AuditExport(header=ExportHeader(1, {}, 1, "t", {"b": 0}, False, False))
    export.add_entry(ExportedEntry("a", 0, b""))
    assert log_names(export) == ["a", "access-trail", "b", "credit-records"]


def test_parallel_workers_are_passed_to_the_examination(monkeypatch: pytest.MonkeyPatch) -> None:
    import ledger.audit.verifier as verifier

    seen: list[int] = []
    real = verifier.Examination

    def spy(items: Any, separator: bytes, *, workers: int = 1) -> Any:
        seen.append(workers)
        return real(items, separator, workers=workers)

    monkeypatch.setattr(verifier, "Examination", spy)
    verify_offline(world.export(), world.snapshot(), world.DEPLOYMENT, workers=3)
    verify_offline(world.export(), world.snapshot(), world.DEPLOYMENT)
    assert seen == [2, 1]  # with workers, one of them checks the record log meanwhile


# -- the Verifier --------------------------------------------------------------------------------


def test_verify_reads_the_chain_once_confirms_every_entry_on_chain_and_reports_clean() -> None:
    chain, contract, progress = world.FakeChain(), world.FakeContract(), RecordingProgress()
    verifier = Verifier(
        chain=chain,  # type: ignore[arg-type]
        authorizer=contract,
        deployment=world.DEPLOYMENT,
        progress=progress,
        options=VerifyOptions(onchain_sample=None),
    )
    started = time.perf_counter()
    report = verifier.verify(world.export())
    elapsed = time.perf_counter() - started
    assert report.clean and report.findings == []
    assert chain.logs_asked == [["access-trail", "credit-records"]] and chain.blocks_asked == [[world.B]]
    assert [(block, len(queries)) for block, queries in contract.asked] == [(world.B, 3)]
    data = report.to_json()
    assert data["verdict"] == "clean" and data["replay"]["checked_both_ways"] == 3
    assert set(data["performance"]["seconds"]) == {
        "chain", "records", "examine", "leaves", "merkle", "replay", "onchain", "evaluations", "total"
    }  # fmt: skip
    assert data["generated_at"].endswith("+00:00") and len(data["generated_at"]) == 25
    # reading the chain (no known total), the record log, examining, replaying, confirming
    assert [total for _, total in progress.tasks] == [None, 1, 3, 3, 3]
    assert sum(progress.advanced.values()) == 1 + 3 + 3 + 3
    seconds = data["performance"]["seconds"]
    assert 0 <= seconds["chain"] <= seconds["total"] <= elapsed + 0.001
    assert 0 <= seconds["onchain"] <= seconds["total"]


def test_a_disagreeing_contract_is_a_finding_of_step_4_7() -> None:
    verifier = Verifier(
        chain=world.FakeChain(),  # type: ignore[arg-type]
        authorizer=world.FakeContract(refuse=True),
        deployment=world.DEPLOYMENT,
        options=VerifyOptions(onchain_sample=2, seed=1),
    )
    report = verifier.verify(world.export())
    assert steps(report.findings) == [("4.7", "access-trail", 0), ("4.7", "access-trail", 2)]
    assert report.to_json()["replay"]["local_only"] == 1


def test_the_verifier_passes_its_options_to_the_offline_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    import ledger.audit.verifier as verifier_module

    seen: list[int] = []
    real = verifier_module.Examination

    def spy(items: Any, separator: bytes, *, workers: int = 1) -> Any:
        seen.append(workers)
        return real(items, separator, workers=workers)

    monkeypatch.setattr(verifier_module, "Examination", spy)
    strict = VerifyOptions(onchain_sample=0, workers=3, max_block_age_seconds=1)
    report = Verifier(
        chain=world.FakeChain(),  # type: ignore[arg-type]
        authorizer=None,
        deployment=world.DEPLOYMENT,
        options=strict,
    ).verify(world.export())
    assert seen == [2]  # and one checks the record log
    assert {f.step for f in report.findings} == {Step.BLOCK}  # released 5 s after the block


def test_the_sample_is_the_one_its_seed_draws() -> None:
    for seed in range(6):
        contract = world.FakeContract()
        Verifier(
            chain=world.FakeChain(),  # type: ignore[arg-type]
            authorizer=contract,
            deployment=world.DEPLOYMENT,
            options=VerifyOptions(onchain_sample=1, seed=seed),
        ).verify(world.export())
        ((_, queries),) = contract.asked
        drawn = random.Random(seed).sample([0, 1, 2], 1)[0]
        assert queries[0].level == (world.RAW_LEVEL if drawn == 1 else world.LEVEL)


def test_the_sample_is_seeded_and_sized_by_the_options() -> None:
    def asked(options: VerifyOptions) -> list[int]:
        contract = world.FakeContract()
        Verifier(
            chain=world.FakeChain(),  # type: ignore[arg-type]
            authorizer=contract,
            deployment=world.DEPLOYMENT,
            options=options,
        ).verify(world.export())
        return [len(q) for _, q in contract.asked]

    assert asked(VerifyOptions()) == [3]  # the default sample (256) holds all three
    assert asked(VerifyOptions(onchain_sample=1)) == [1]
    assert asked(VerifyOptions(onchain_sample=0)) == []


def test_no_authorizer_or_an_empty_sample_without_refusals_asks_the_contract_nothing() -> None:
    verifier = Verifier(chain=world.FakeChain(), authorizer=None, deployment=world.DEPLOYMENT)  # type: ignore[arg-type]
    report = verifier.verify(world.export())
    assert report.clean and report.to_json()["replay"]["local_only"] == 3
    assert "onchain" not in report.to_json()["performance"]["seconds"]


def test_entries_the_replay_refused_are_confirmed_even_with_an_empty_sample() -> None:
    access = world.access_leaves()
    access[0] = encode_leaf("access", 0, world.access_payload(0, grant_id=world.GRANT + 1))
    contract = world.FakeContract()
    verifier = Verifier(
        chain=world.FakeChain(),  # type: ignore[arg-type]
        authorizer=contract,
        deployment=world.DEPLOYMENT,
        options=VerifyOptions(onchain_sample=0),
    )
    report = verifier.verify(world.export(access=access))
    assert [len(q) for _, q in contract.asked] == [1]
    assert report.to_json()["replay"]["checked_both_ways_entries"] == [0]


def test_the_labels_given_name_the_purposes_in_the_report() -> None:
    verifier = Verifier(
        chain=world.FakeChain(),  # type: ignore[arg-type]
        authorizer=None,
        deployment=world.DEPLOYMENT,
        labels={"purposes": {1: "underwriting"}},
    )
    per = verifier.verify(world.export()).to_json()["access"]["per_institution_purpose"]
    assert [p["purpose_name"] for p in per] == ["underwriting"]


def test_production_wiring_reads_the_endpoint_for_the_manifests_contracts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connected: list[tuple[str, Deployment]] = []

    def connect(
        cls: type[ChainReader], rpc_url: str, deployment: Deployment, *, timeout: float = 30.0
    ) -> Any:
        connected.append((rpc_url, deployment))
        return world.FakeChain()

    monkeypatch.setattr(ChainReader, "connect", classmethod(connect))
    progress = RecordingProgress()
    verifier = Verifier.production(
        "http://node.test:8545",
        world.DEPLOYMENT,
        progress=progress,
        options=VerifyOptions(onchain_sample=0, max_block_age_seconds=1),
        labels={"purposes": {1: "underwriting"}},
    )
    assert connected == [("http://node.test:8545", world.DEPLOYMENT)]
    authorizer = verifier._authorizer
    assert authorizer is not None
    assert (authorizer.rpc_url, authorizer.consents, authorizer._timeout) == (  # type: ignore[attr-defined]
        "http://node.test:8545",
        world.ADDRESSES["Consents"],
        30.0,
    )
    report = verifier.verify(world.export())
    assert {f.step for f in report.findings} == {Step.BLOCK} and progress.tasks  # its options
    assert report.to_json()["access"]["per_institution_purpose"][0]["purpose_name"] == "underwriting"
