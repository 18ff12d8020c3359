"""The chain client against a real node: deploy, transact, decode custom errors."""

from __future__ import annotations

from eth_account.signers.local import LocalAccount

from ledger.chain.client import ChainClient


def test_relayer_sends_in_nonce_order(chain: ChainClient) -> None:
    before = chain.block_number()
    for _ in range(3):
        chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    assert chain.block_number() == before + 3
    assert chain.chain_id() == 31337


def test_two_clients_relaying_from_one_account_do_not_collide(
    chain: ChainClient, dev_accounts: list[LocalAccount]
) -> None:
    """The anchoring worker and the API workers each hold a client for the same relayer."""
    other = ChainClient.connect(
        chain.rpc_url, "0x" + bytes(dev_accounts[0].key).hex(), artifacts=chain.artifacts
    )
    address = chain.deploy("RFC9162Harness")
    other.deploy("RFC9162Harness")  # takes the nonce `chain` believes is next
    again = chain.deploy("RFC9162Harness")  # must resynchronise, not fail with "nonce too low"
    assert again != address
