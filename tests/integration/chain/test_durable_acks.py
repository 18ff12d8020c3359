"""Reproduction 2 of issue 14: an acknowledged act must survive a node crash right after.

anvil writes its state every second; before acknowledgements waited for it, a
revocation acknowledged and followed at once by a SIGKILL came back undone, and the
bank received raw data the enterprise had withdrawn. Each act below is answered, the
node is killed at once, restarted, and the act must be on chain.
"""

from __future__ import annotations

import time

from ledger.chain.consents import ConsentsContract, RevokeMessage
from ledger.chain.finality import DevnetState, state_file_block
from ledger.devnet import Devnet
from tests.integration.chain.conftest import eventually, release_answer, restart
from tests.integration.test_release import TAX, World, refused


def consents(world: World) -> ConsentsContract:
    return ConsentsContract(world.platform.chain, world.platform.deployment.addresses.consents)


def test_a_revocation_acknowledged_then_a_crash_stays_revoked(world: World, durable_devnet: Devnet) -> None:
    grant = world.grant(world.bank, TAX, raw=TAX)
    assert world.release(categories=TAX, raw=True)["data"]["records"]  # type: ignore[index]
    answer = world.sdk(world.enterprise).act(RevokeMessage, grant_id=grant)
    on_disk = state_file_block(durable_devnet.state_file)
    assert on_disk is not None and on_disk >= answer["block"]  # on disk when answered
    restart(durable_devnet)
    revoked = consents(world).get_grant(grant)
    assert revoked is not None and revoked.revoked
    assert eventually(lambda: release_answer(world, categories=TAX, raw=True)) == 403
    error = refused(lambda: world.release(categories=TAX, raw=True))
    assert "no_covering_grant" in error.message


def test_a_grant_acknowledged_then_a_crash_is_still_granted(world: World, durable_devnet: Devnet) -> None:
    grant = world.grant(world.bank, TAX)
    restart(durable_devnet)
    found = consents(world).get_grant(grant)
    assert found is not None and not found.revoked
    assert eventually(lambda: release_answer(world, categories=TAX)) == 200


def test_the_wait_for_the_disk_is_bounded(durable_devnet: Devnet) -> None:
    """A block the state file does not cover in time is refused as not durable, not waited on forever."""
    import pytest

    from ledger.chain.finality import NotDurable

    rule = DevnetState(durable_devnet.state_file)
    covered = eventually(lambda: state_file_block(durable_devnet.state_file), what="a first state dump")
    started = time.monotonic()
    with pytest.raises(NotDurable):
        rule.wait_durable(covered + 1000, b"\0" * 32, timeout=0.3)
    assert time.monotonic() - started < 2
    rule.wait_durable(covered, b"\0" * 32, timeout=5)
    acked = state_file_block(rule.acked_file)
    assert acked is not None and acked >= covered
