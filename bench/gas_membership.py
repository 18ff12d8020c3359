"""Gas of each membership and governance act.

Starts a throw-away anvil (Cancun rules, like the ledger's devnet), deploys `Membership`
with three operators and a quorum of 3 (so that a plain approval and an executing one
can be told apart), runs one warm-up proposal so that every operator's nonce and the
proposal counter are already non-zero, then measures each act once, in steady state.
Each act is a relayed EIP-712 signature (signature recovery ≈ 3,000 gas, nonce 5,000).
An enterprise's first signature in the contract also pays ~17,100 gas more for its
fresh nonce slot, as in the key rotation below.

    .venv/bin/python bench/gas_membership.py
"""

from __future__ import annotations

import socket
import tempfile
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3.types import TxReceipt

from ledger.chain.client import ChainClient
from ledger.chain.compile import compile_contracts
from ledger.chain.membership import Action, MembershipContract, Role, name_hash
from ledger.devnet import Devnet, devnet_key

QUORUM = 3
LIFETIME = 7 * 24 * 3600


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _govern(
    m: MembershipContract, ops: list[LocalAccount], action: Action, **fields: Any
) -> tuple[TxReceipt, TxReceipt, TxReceipt]:
    """Propose with ops[0], approve with ops[1] and ops[2] (the last one executes)."""
    proposed = m.propose(m.sign_propose(ops[0], action, **fields))
    second = m.approve(m.sign_approve(ops[1], proposed.proposal_id))
    third = m.approve(m.sign_approve(ops[2], proposed.proposal_id))
    assert not second.executed and third.executed
    return proposed.receipt, second.receipt, third.receipt


def run(client: ChainClient) -> list[tuple[str, int]]:
    # DEVNET ONLY keys: 1-3 operators, 4 platform, 5-8 members
    accounts = [Account.from_key(devnet_key(i)) for i in range(9)]
    ops, platform = accounts[1:4], accounts[4]
    m = MembershipContract.deploy(client, [o.address for o in ops], QUORUM, LIFETIME, platform.address)
    [deployment] = client.w3.eth.get_block("latest")["transactions"]
    deployed = client.w3.eth.get_transaction_receipt(deployment)  # type: ignore[arg-type]
    rows = [("deploy (3 operators + platform)", deployed["gasUsed"])]

    _govern(m, ops, Action.SET_QUORUM, new_quorum=QUORUM)  # warm-up: nonces and counter non-zero

    provider = accounts[5].address
    proposed, approved, executed = _govern(
        m, ops, Action.ADMIT, account=provider, role=Role.PROVIDER, name_hash=name_hash("Provider Co")
    )
    rows += [
        ("propose Admit (incl. proposer's approval)", proposed["gasUsed"]),
        ("approve (below quorum)", approved["gasUsed"]),
        ("approve reaching quorum + execute Admit", executed["gasUsed"]),
    ]
    for action in (Action.SUSPEND, Action.REINSTATE, Action.REMOVE):
        proposed, _, executed = _govern(m, ops, action, account=provider)
        rows += [
            (f"propose {action.name.title()}", proposed["gasUsed"]),
            (f"approve reaching quorum + execute {action.name.title()}", executed["gasUsed"]),
        ]
    _, _, executed = _govern(m, ops, Action.SET_QUORUM, new_quorum=2)
    rows.append(("approve reaching quorum + execute SetQuorum", executed["gasUsed"]))

    uscc = "91110000100000000A"
    enterprise, new_key = accounts[6], accounts[7]
    m.register_enterprise(m.sign_register_enterprise(ops[0], accounts[8].address, "9111W", "Warm-up Ltd"))
    registered = m.register_enterprise(m.sign_register_enterprise(ops[0], enterprise.address, uscc, "Acme"))
    suspended = m.suspend_enterprise(m.sign_suspend_enterprise(ops[1], uscc))
    reinstated = m.reinstate_enterprise(m.sign_reinstate_enterprise(ops[2], uscc))
    rotated = m.rotate_key(m.sign_rotate_key(enterprise, uscc, new_key.address))
    rows += [
        ("registerEnterprise (1 operator)", registered["gasUsed"]),
        ("suspendEnterprise (1 operator)", suspended["gasUsed"]),
        ("reinstateEnterprise (1 operator)", reinstated["gasUsed"]),
        ("rotateEnterpriseKey (first signature of the key)", rotated["gasUsed"]),
    ]
    return [(label, int(gas)) for label, gas in rows]


def main() -> None:
    artifacts = compile_contracts()
    with tempfile.TemporaryDirectory(prefix="gas-membership-") as tmp:
        node = Devnet(Path(tmp), port=_free_port())
        node.start()
        try:
            rows = run(ChainClient.connect(node.url, devnet_key(0), artifacts=artifacts))
        finally:
            node.stop()
    width = max(len(label) for label, _ in rows)
    print(f"Membership gas (quorum {QUORUM} of 3, steady state; whole transaction incl. 21,000 base)")
    print(f"  {'operation':<{width}}  {'gas':>9}")
    for label, gas in rows:
        print(f"  {label:<{width}}  {gas:>9,}")


if __name__ == "__main__":
    main()
