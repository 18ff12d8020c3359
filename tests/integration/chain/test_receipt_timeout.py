"""A transaction no block takes in time: refused, clearly, after the receipt timeout.

On a chain that seals a block every N seconds every relayed transaction waits up to N for
its receipt; `LEDGER_RECEIPT_TIMEOUT_SECONDS` bounds the wait. Here the node seals a
block a minute and the client waits 1.5 s: the call is refused with a message saying
the transaction is not acknowledged and may still take effect (it waits in the pool).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ledger.chain.client import ChainClient
from ledger.chain.compile import CompiledContract
from ledger.chain.errors import ChainUnavailable
from ledger.devnet import Devnet, devnet_key
from tests.conftest import free_port


def test_a_transaction_no_block_takes_in_time_is_refused_clearly(
    tmp_path: Path, artifacts: dict[str, CompiledContract]
) -> None:
    node = Devnet(tmp_path / "devnet", port=free_port(), block_time=60, mixed_mining=False)
    node.start()
    try:
        chain = ChainClient.connect(node.url, devnet_key(0), artifacts=artifacts)
        chain.receipt_timeout = 1.5
        started = time.monotonic()
        with pytest.raises(ChainUnavailable, match=r"within 1\.5 s: .*not acknowledged and may or may not"):
            chain.deploy("Checkpoints", chain.relayer.address)
        assert time.monotonic() - started < 10
        relayer = chain.relayer.address
        assert chain.w3.eth.get_transaction_count(relayer, "pending") == 1  # still in the pool
        assert chain.w3.eth.get_transaction_count(relayer) == 0
    finally:
        node.kill()
