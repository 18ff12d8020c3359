"""Reproduction 3 of issue 14: a chain that comes back behind is detected and repaired.

The node is restarted from an older state file, as after a crash that lost its last
blocks: a revocation, a grant and an anchor the platform had relied on are gone.
Until it is reconciled, releases, proofs and new acts are refused with a clear 503;
reconciliation re-submits the lost acts from their stored calldata (the revocation
comes back), reports the one that can no longer be sent (its deadline passed), and the
anchoring worker anchors again from what the chain holds. A proof naming the lost
anchor transaction is reported as not on chain by the verifiers, not as a traceback.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger.chain.agreements import CommitmentKind, CommitMessage
from ledger.chain.checkpoints import CheckpointsContract
from ledger.chain.client import ChainClient
from ledger.chain.consents import ConsentsContract, GrantTerms, RevokeMessage
from ledger.chain.finality import acked_copy
from ledger.chain.journal import ActJournal
from ledger.chain.membership import uscc_hash
from ledger.cli import app as cli
from ledger.devnet import Devnet, devnet_key
from ledger.domain.log_names import ACCESS_TRAIL_LOG
from ledger.logs.verify import ProofVerificationError, verify_inclusion_bundle
from ledger.storage.locks import anchor_lock
from ledger.wiring import anchor_worker
from tests.integration.audit.conftest import export_of, verifier_for
from tests.integration.chain.conftest import eventually, release_answer
from tests.integration.test_release import CREDIT, REGISTRATION, SUBJECT, TAX, World, refused


def rollback(devnet: Devnet, old_state: bytes) -> None:
    """Kill the node and bring it back from `old_state`: the blocks since are lost."""
    devnet.kill()
    devnet.state_file.write_bytes(old_state)
    acked_copy(devnet.state_file).unlink(missing_ok=True)
    devnet.state_file.with_suffix(".good.json").unlink(missing_ok=True)
    devnet.start()


def reader_of(world: World) -> CheckpointsContract:
    reader = ChainClient.connect(
        world.platform.chain.rpc_url, devnet_key(9), artifacts=world.platform.chain.artifacts
    )
    return CheckpointsContract(reader, world.platform.deployment.addresses.checkpoints)


def test_a_chain_back_behind_is_refused_then_reconciled(
    world: World, durable_devnet: Devnet, tmp_path: Path
) -> None:
    platform, watch = world.platform, world.platform.watch
    assert watch is not None
    consents = ConsentsContract(platform.chain, platform.deployment.addresses.consents)
    journal = ActJournal(platform.db, platform.deployment.chain_id)
    worker = anchor_worker(platform, logs=[ACCESS_TRAIL_LOG])

    grant = world.grant(world.bank, TAX)
    kept = world.release()["receipt"]["index"]  # type: ignore[index]
    worker.anchor_now(ACCESS_TRAIL_LOG)
    old_state = durable_devnet.state_file.read_bytes()  # what the node will come back with

    # -- acts and an anchor the chain will lose ------------------------------------------
    world.sdk(world.enterprise).act(RevokeMessage, grant_id=grant)
    registration = world.release(categories=REGISTRATION)["receipt"]["index"]  # type: ignore[index]
    worker.anchor_now(ACCESS_TRAIL_LOG)
    lost_bundle = world.sdk(world.bank).release_proof(registration)
    now = int(platform.chain.w3.eth.get_block("latest")["timestamp"])
    terms = GrantTerms(uscc_hash(SUBJECT), world.bank.address, 0, TAX, CREDIT, 0, now + 3600)
    short_lived = consents.grant(consents.sign_grant(world.enterprise, terms, deadline=now + 2))
    watermark = journal.watermark()
    assert watermark is not None

    # -- the node comes back behind, and nothing may reconcile yet -----------------------
    holding = anchor_lock(platform.db, "chain-reconcile")
    assert holding.acquire()
    try:
        rollback(durable_devnet, old_state)
        assert platform.chain.block_number() < watermark.number
        eventually(lambda: watch.behind, what="the watch to find the chain behind")
        error = refused(world.release)
        assert error.status == 503 and "chain behind" in error.message
        proof = refused(lambda: world.sdk(world.bank).release_proof(kept))
        assert proof.status == 503
        started = time.monotonic()
        act = refused(
            lambda: world.sdk(world.bank).act(
                CommitMessage, kind=CommitmentKind.INSTITUTION_USAGE, document_hash=b"\1" * 32
            )
        )
        assert act.status == 503 and time.monotonic() - started < 5  # refused at once, not hung
        time.sleep(max(0.0, now + 3 - time.time()))  # the short-lived grant's deadline passes
    finally:
        holding.release()

    # -- reconciled: the revocation is back, the expired act reported -------------------
    eventually(lambda: None if watch.behind else True, what="the reconciliation")
    revoked = consents.get_grant(grant)
    assert revoked is not None and revoked.revoked
    assert eventually(lambda: release_answer(world)) == 403
    lost = journal.lost_calls()
    assert [c.function for c in lost] == ["grant"] and "refused when re-submitted" in (lost[0].detail or "")
    assert consents.get_grant(short_lived) is None
    platform.deployment.save(tmp_path / "ops" / "deployment.json")
    status = CliRunner().invoke(
        cli,
        ["chain", "status"],
        env={"LEDGER_DATA_DIR": str(tmp_path / "ops"), "LEDGER_DATABASE_URL": platform.db.url,
             "LEDGER_RPC_URL": platform.chain.rpc_url, "LEDGER_FINALITY": "inclusion"},
    )  # fmt: skip
    assert status.exit_code == 0, status.output
    assert "acts lost for good: 1" in status.output and f"#{lost[0].id} grant" in status.output

    # -- before re-anchoring: the proof naming the lost anchor is a finding, no traceback -
    with pytest.raises(ProofVerificationError, match="not on chain"):
        verify_inclusion_bundle(lost_bundle, checkpoints=reader_of(world))
    bundle_file = tmp_path / "lost.json"
    bundle_file.write_text(json.dumps(lost_bundle))
    result = CliRunner().invoke(
        cli,
        ["release", "verify-proof", str(bundle_file), "--rpc", platform.chain.rpc_url,
         "--checkpoints", platform.deployment.addresses.checkpoints],
        env={"LEDGER_DATA_DIR": str(tmp_path / "cli")},
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "not on chain" in result.output and "Traceback" not in result.output
    unanchored = refused(lambda: world.sdk(world.bank).release_proof(registration))
    assert unanchored.status == 409  # no proof is served against the lost checkpoint

    # -- anchoring resumes from what the chain holds --------------------------------------
    again = worker.anchor_now(ACCESS_TRAIL_LOG)
    assert again is not None and again.previous_size == kept + 1 and again.size == registration + 1
    checkpoints = reader_of(world)
    assert checkpoints.latest(checkpoints.log_id(ACCESS_TRAIL_LOG)).size == registration + 1
    fresh = world.sdk(world.bank).release_proof(registration)
    verify_inclusion_bundle(fresh, checkpoints=reader_of(world))

    worker.close()

    # -- the audit of the repaired chain finds nothing wrong with a legitimate entry --------
    report = verifier_for(platform).verify(export_of(platform))
    assert [str(f) for f in report.findings] == []
