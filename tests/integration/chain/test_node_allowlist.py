"""The network's node allowlist follows the Membership contract: declared by members, checked on chain."""

from __future__ import annotations

import tomllib

from eth_account import Account

from ledger.chain.membership import InstitutionKind, MembershipContract, Role
from ledger.chain.node_permissions import decide_nodes, declare_node, render_besu_allowlist
from ledger.platform import Platform
from tests.integration.conftest import Onboarding


def _enode(n: int) -> str:
    return f"enode://{n:0128x}@10.0.0.{n}:30303"


def test_only_active_members_of_node_roles_get_their_nodes_allowed(
    platform: Platform, onboarding: Onboarding
) -> None:
    membership = MembershipContract(platform.chain, platform.deployment.addresses.membership)
    chain_id, address = platform.chain.chain_id(), platform.deployment.addresses.membership
    bank, auditor, suspended, stranger, enterprise = (Account.create() for _ in range(5))
    onboarding.admit(bank, Role.INSTITUTION, InstitutionKind.BANK, "bank")
    onboarding.admit(auditor, Role.AUDITOR, name="auditor")
    onboarding.admit(suspended, Role.INSTITUTION, InstitutionKind.BANK, "suspended bank")
    onboarding.suspend(suspended)
    onboarding.enterprise(enterprise, "91410100MA44XXXX1A")

    declarations = [
        declare_node(bank, chain_id, address, _enode(1)),
        declare_node(auditor, chain_id, address, _enode(2)),
        declare_node(suspended, chain_id, address, _enode(3)),
        declare_node(stranger, chain_id, address, _enode(4)),
        declare_node(enterprise, chain_id, address, _enode(5)),
        declare_node(bank, chain_id + 1, address, _enode(6)),  # signed for another network
    ]
    forged = declare_node(stranger, chain_id, address, _enode(7))
    declarations.append(type(forged)(forged.enode, bank.address, forged.signature))  # claims to be the bank's

    decisions = {d.enode: d for d in decide_nodes(membership, declarations)}
    assert [e for e, d in decisions.items() if d.allowed] == [_enode(1), _enode(2)]
    assert decisions[_enode(3)].reason == "member is suspended"
    assert decisions[_enode(4)].reason == "role none may not run a node"
    assert decisions[_enode(5)].reason == "role enterprise may not run a node"
    assert "another network" in decisions[_enode(6)].reason
    assert "not the declaring member's" in decisions[_enode(7)].reason

    allowlist = tomllib.loads(render_besu_allowlist(list(decisions.values())))
    assert allowlist == {"nodes-allowlist": sorted([_enode(1), _enode(2)])}
