"""The chain client against a real node: deploy, transact, decode custom errors."""

from __future__ import annotations

from ledger.chain.client import ChainClient


def test_relayer_sends_in_nonce_order(chain: ChainClient) -> None:
    before = chain.block_number()
    for _ in range(3):
        chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    assert chain.block_number() == before + 3
    assert chain.chain_id() == 31337
