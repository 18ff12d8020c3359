"""Which network nodes may connect: an allowlist for Besu drawn from the Membership contract.

A permissioned network admits a node by its enode (its public key, host and port). The
platform ties that to membership: each node is *declared* by the member that runs it,
a message signed with the member's key naming the chain, the Membership contract and
the enode. The allowlist holds the nodes whose declaring member is, at the chain's
latest block, an active member of a role that may run a node (operators, institutions
and auditors; not enterprises or providers). Suspend the member through governance
and its nodes leave the next allowlist; nothing else needs editing.

The allowlist is written as Besu's local permissioning file (`nodes-allowlist` in
`permissions_config.toml`, reloaded with `perm_reloadPermissionsFromFile`). Besu's
on-chain node permissioning is deprecated upstream, so the check runs here, against
the same contract every other permission comes from, and the file is regenerated
after each membership change (`credit-ledger chain node-allowlist`, see `deploy/`).

Why a personal-sign message rather than an EIP-712 act: nothing on chain verifies it;
the declaration is read by this tool and by whoever audits the allowlist, and
EIP-191's text is readable to the member who signs it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount

from ledger.chain.membership import MembershipContract, Role
from ledger.errors import InvalidInput

__all__ = [
    "NODE_ROLES",
    "NodeDecision",
    "NodeDeclaration",
    "decide_nodes",
    "declaration_text",
    "declare_node",
    "read_declarations",
    "render_besu_allowlist",
]

#: roles whose members may run a node of the network
NODE_ROLES = frozenset({Role.OPERATOR, Role.INSTITUTION, Role.AUDITOR})

_ENODE = re.compile(r"^enode://[0-9a-f]{128}@[A-Za-z0-9.\-]+:\d{1,5}(\?discport=\d{1,5})?$")


@dataclass(frozen=True)
class NodeDeclaration:
    """A member's signed statement that it runs the node `enode`."""

    enode: str
    member: str
    signature: str

    def to_json(self) -> dict[str, str]:
        return {"enode": self.enode, "member": self.member, "signature": self.signature}


@dataclass(frozen=True)
class NodeDecision:
    enode: str
    member: str
    allowed: bool
    reason: str


def _check_enode(enode: str) -> str:
    if not _ENODE.match(enode):
        raise InvalidInput(f"not an enode URL (enode://<128 hex>@host:port): {enode!r}")
    return enode


def declaration_text(chain_id: int, membership: str, enode: str) -> str:
    """The text a member signs to declare a node (bound to one network and one contract)."""
    return (
        "credit-ledger node declaration\n"
        f"chain: {chain_id}\n"
        f"membership: {membership}\n"
        f"enode: {_check_enode(enode)}"
    )


def declare_node(member: LocalAccount, chain_id: int, membership: str, enode: str) -> NodeDeclaration:
    """The member's declaration of `enode`, signed with its key."""
    message = encode_defunct(text=declaration_text(chain_id, membership, enode))
    signature = member.sign_message(message).signature
    return NodeDeclaration(enode, member.address, "0x" + bytes(signature).hex())


def read_declarations(path: Path) -> list[NodeDeclaration]:
    """Declarations from a JSON list of {enode, member, signature}."""
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
        return [NodeDeclaration(str(i["enode"]), str(i["member"]), str(i["signature"])) for i in items]
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise InvalidInput(f"{path}: not a list of node declarations ({exc})") from None


def decide_nodes(membership: MembershipContract, declarations: list[NodeDeclaration]) -> list[NodeDecision]:
    """For each declaration: allowed, or why not (bad signature, not a member, suspended, role)."""
    chain_id = membership.client.chain_id()
    decisions = []
    for declared in declarations:
        try:
            text = declaration_text(chain_id, membership.address, declared.enode)
            signer = Account.recover_message(encode_defunct(text=text), signature=declared.signature)
        except (InvalidInput, ValueError) as exc:
            decisions.append(NodeDecision(declared.enode, declared.member, False, f"unreadable: {exc}"))
            continue
        if signer != declared.member:
            reason = "the signature is not the declaring member's (another network, contract or key)"
            decisions.append(NodeDecision(declared.enode, declared.member, False, reason))
            continue
        member = membership.member_of(signer)
        if member.role not in NODE_ROLES:
            reason = f"role {member.role.name.lower()} may not run a node"
            decisions.append(NodeDecision(declared.enode, signer, False, reason))
        elif not member.active:
            decisions.append(
                NodeDecision(declared.enode, signer, False, f"member is {member.status.name.lower()}")
            )
        else:
            decisions.append(NodeDecision(declared.enode, signer, True, f"active {member.role.name.lower()}"))
    return decisions


def render_besu_allowlist(decisions: list[NodeDecision]) -> str:
    """Besu's `permissions_config.toml` with the allowed nodes, each with its member as comment."""
    allowed = sorted({(d.enode, d.member) for d in decisions if d.allowed})
    lines = ["# Generated by `credit-ledger chain node-allowlist` from the Membership contract.", ""]
    lines.append("nodes-allowlist=[")
    lines += [f'  "{enode}",  # {member}' for enode, member in allowed]
    lines.append("]")
    return "\n".join(lines) + "\n"
