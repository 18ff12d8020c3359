"""Blocks the platform relied on, reorganized away, on a chain counting confirmations.

The node is anvil sealing a block every second; the platform acknowledges an act after
`confirmations:N` and reaches the node through a recording proxy. The test alone calls
`anvil_reorg` (on the node's own address): it replaces the last blocks with empty ones of
other hashes and drops their transactions, as a real network's reorganization can. What
the platform does (the README's "Finality and reorganizations"):

- a reorganization deeper than the rule takes an *acknowledged* act and anchor: the chain
  watch finds the watermark's block with another hash, refuses releases (503) until the
  act is sent again from the journal (the revocation holds again) and the lost checkpoint
  is forgotten (no proof names it), and the anchoring worker anchors again;
- a reorganization within the rule takes an act *not yet acknowledged*: the act is
  refused (503, not acknowledged) and its member may sign it again;
- a release decided at a block the reorganization replaced stands in the access trail,
  and the auditor's replay at that block on the chain as it now is reports it;
- through the whole story the platform asked the node for no anvil-only method.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from ledger.chain.consents import ConsentsContract, RevokeMessage
from ledger.chain.finality import Inclusion, parse_finality
from ledger.chain.journal import RelayedCall
from ledger.devnet import Devnet, _rpc
from ledger.domain.log_names import ACCESS_TRAIL_LOG
from ledger.platform import Platform
from ledger.sdk import ApiError
from ledger.storage.database import Database
from ledger.wiring import anchor_worker
from tests.integration.audit.conftest import export_of, verifier_for
from tests.integration.chain.conftest import eventually, release_answer
from tests.integration.chain.rpc_recorder import RecordingProxy
from tests.integration.test_release import TAX, World, refused

# one database is enough here: the journal and the watermark are tested on both elsewhere
pytestmark = pytest.mark.parametrize("database", ["postgresql"], indirect=True)


@pytest.fixture
def recorder(durable_devnet: Devnet) -> Iterator[RecordingProxy]:
    proxy = RecordingProxy(durable_devnet.url).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def rpc_url(recorder: RecordingProxy) -> str:
    return recorder.url


@pytest.fixture
def platform(platform: Platform) -> Platform:
    """The chain package's platform, acknowledging at inclusion while the world is set up
    (fast); each test then counts confirmations."""
    platform.chain.finality = Inclusion()
    return platform


def counting_confirmations(world: World, depth: int) -> None:
    """From now on an act is acknowledged once `depth` blocks were built on it."""
    chain = world.platform.chain
    chain.finality = parse_finality(f"confirmations:{depth}", state_file=None, block_at=chain.block_at)


def reorganize_from(devnet: Devnet, block: int) -> None:
    """Replace blocks `block`..head with empty ones of other hashes (devnet only, test only).

    The node seals a block every second: one sealed between reading the head and the
    reorganization leaves `block` in place, so its hash is compared and the move repeated.
    """

    def hash_at() -> object:
        return _rpc(devnet.url, "eth_getBlockByNumber", [hex(block), False])["hash"]  # type: ignore[index]

    before = hash_at()
    for _ in range(3):
        head = int(str(_rpc(devnet.url, "eth_blockNumber")), 16)
        _rpc(devnet.url, "anvil_reorg", [head - block + 1, []])
        if hash_at() != before:
            return
    raise AssertionError(f"block {block} survived three reorganizations")


def grant_calls(db: Database) -> list[RelayedCall]:
    with db.session() as session:
        return list(session.scalars(select(RelayedCall).where(RelayedCall.function == "grant")))


def test_an_acknowledged_revocation_and_anchor_reorganized_away_are_done_again(
    world: World, durable_devnet: Devnet, recorder: RecordingProxy
) -> None:
    platform, watch = world.platform, world.platform.watch
    assert watch is not None
    consents = ConsentsContract(platform.chain, platform.deployment.addresses.consents)
    worker = anchor_worker(platform, logs=[ACCESS_TRAIL_LOG])
    counting_confirmations(world, 2)
    grant = world.grant(world.bank, TAX)
    granted_in = max(grant_calls(platform.db), key=lambda c: c.id).block_number
    receipt = world.release()["receipt"]
    released, released_at = receipt["index"], receipt["block"]  # type: ignore[index]

    revoked = world.sdk(world.enterprise).act(RevokeMessage, grant_id=grant)
    assert platform.chain.block_number() >= revoked["block"] + 2  # acknowledged after two confirmations
    assert release_answer(world) == 403
    anchored = worker.anchor_now(ACCESS_TRAIL_LOG)
    assert anchored is not None and platform.chain.block_number() >= anchored.block_number + 2
    lost = world.sdk(world.bank).release_proof(released)["anchor"]
    assert lost["transaction"] == "0x" + anchored.transaction_hash.hex()

    # the grant, the block B the release was decided at, the revocation and the anchor
    reorganize_from(durable_devnet, granted_in)
    assert consents.get_grant(grant) is None
    behind = eventually(lambda: watch.behind, what="the watch to find the reorganization")
    assert "another hash" in behind
    assert refused(world.release).status == 503  # never the withdrawn data meanwhile

    eventually(lambda: None if watch.behind else True, what="the reconciliation")
    again = consents.get_grant(grant)
    assert again is not None and again.revoked
    assert eventually(lambda: release_answer(world)) == 403
    # no proof names the lost anchor; the worker anchors again from what the chain holds
    assert refused(lambda: world.sdk(world.bank).release_proof(released)).status == 409
    redone = worker.anchor_now(ACCESS_TRAIL_LOG)
    assert redone is not None and (redone.previous_size, redone.size) == (0, released + 1)
    anchor = world.sdk(world.bank).release_proof(released)["anchor"]
    assert anchor["transaction"] == "0x" + redone.transaction_hash.hex() != lost["transaction"]

    # the release decided at the replaced block B stands in the trail; the auditor replays
    # it at B on the chain as it now is, where the grant (sent again later) is not yet
    worker.close()
    report = verifier_for(platform).verify(export_of(platform))
    assert [str(f) for f in report.findings] == [
        f"step 4.6 authorization replay access-trail[{released}]: release not authorized at block "
        f"{released_at}: NO_COVERING_GRANT (expected ALLOWED, got NO_COVERING_GRANT)"
    ]
    assert not recorder.anvil_only(), recorder.methods
    assert recorder.methods["eth_call"] > 0 and recorder.methods["eth_sendRawTransaction"] > 0


def test_an_act_reorganized_away_before_its_confirmations_is_not_acknowledged(
    world: World, durable_devnet: Devnet, recorder: RecordingProxy
) -> None:
    counting_confirmations(world, 10)  # ten seconds: the reorganization comes well before
    before = {c.id for c in grant_calls(world.platform.db)}
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(world.grant, world.bank, TAX)
        included = eventually(
            lambda: next((c for c in grant_calls(world.platform.db) if c.id not in before), None),
            what="the grant in a block",
        )
        reorganize_from(durable_devnet, included.block_number)
        replaced = time.monotonic()
        with pytest.raises(ApiError) as refusal:
            pending.result(timeout=60)
        assert time.monotonic() - replaced < 5  # at once, not ten blocks later
    assert refusal.value.status == 503
    assert "replaced on chain before it became durable" in refusal.value.message
    assert release_answer(world) == 403  # the grant is not on chain

    counting_confirmations(world, 2)
    world.grant(world.bank, TAX)  # signed again, it takes effect
    assert release_answer(world) == 200
    assert not recorder.anvil_only(), recorder.methods
