"""The relayer's cached nonce running ahead of the node (issue 14, reproduction 3).

After a node lost blocks, the nonce the client cached counts transactions the node no
longer has: a transaction sent with it waits behind the gap forever, and before the
fix every act hung for the receipt timeout (about 120 s) until a restart.
"""

from __future__ import annotations

import time

from eth_account.signers.local import LocalAccount

from ledger.chain.client import ChainClient
from ledger.chain.compile import CompiledContract
from ledger.chain.deploy import Governance, deploy_all
from ledger.chain.membership import MembershipContract
from ledger.devnet import Devnet, devnet_key
from ledger.records.samples import sample_uscc


def test_a_nonce_ahead_of_the_node_costs_about_a_second_not_a_timeout(
    durable_devnet: Devnet,
    artifacts: dict[str, CompiledContract],
    operators: list[LocalAccount],
    dev_accounts: list[LocalAccount],
) -> None:
    chain = ChainClient.connect(durable_devnet.url, devnet_key(0), artifacts=artifacts)
    governance = Governance([o.address for o in operators], 2, 3600, chain.relayer.address)
    membership = MembershipContract(chain, deploy_all(chain, governance).addresses.membership)
    on_node = chain.w3.eth.get_transaction_count(chain.relayer.address)
    chain._next_nonce = on_node + 3  # what the client counted before the node lost three blocks
    enterprise = dev_accounts[7]
    started = time.monotonic()
    membership.register_enterprise(
        membership.sign_register_enterprise(operators[0], enterprise.address, sample_uscc(0), "样例")
    )
    assert time.monotonic() - started < 5
    assert membership.enterprise_by_uscc(sample_uscc(0)) == enterprise.address
    assert chain.w3.eth.get_transaction_count(chain.relayer.address) == on_node + 1
