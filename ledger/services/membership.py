"""Membership use cases: who is a member, and relaying operators' governance acts.

The chain is the only record of membership; this service reads it and relays signed
acts. It insists that the member who authenticated the API request is the member who
signed the act, so one member cannot push another's signature through the platform.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from eth_utils import to_checksum_address

from ledger.chain.eip712 import Signed
from ledger.chain.membership import (
    ApproveMessage,
    Member,
    MembershipContract,
    ProposalOutcome,
    ProposeMessage,
    RegisterEnterpriseMessage,
    ReinstateEnterpriseMessage,
    RotateKeyMessage,
    SuspendEnterpriseMessage,
    uscc_hash,
)
from ledger.chain.signed_acts import SignedActsContract
from ledger.errors import NotAuthorized, NotFound

M = TypeVar("M")


@dataclass(frozen=True)
class Relayed:
    transaction: str
    block: int


class MembershipService:
    """Over the Membership contract; `signed_acts` are the other contracts whose nonces a
    member needs to sign acts."""

    def __init__(self, contract: MembershipContract, *, signed_acts: Sequence[SignedActsContract]) -> None:
        self.contract = contract
        self.signed_acts = tuple(signed_acts)

    def member(self, address: str) -> Member:
        return self.contract.member_of(to_checksum_address(address))

    def members(self) -> list[Member]:
        return self.contract.members()

    def nonces(self, address: str) -> dict[str, int]:
        """The member's next EIP-712 nonce in every contract that takes signed acts."""
        account = to_checksum_address(address)
        result = {"Membership": self.contract.nonce(account)}
        for binding in self.signed_acts:
            result[binding.CONTRACT_NAME] = binding.nonce(account)
        return result

    def enterprise(self, uscc: str) -> Member:
        account = self.contract.enterprise_by_uscc(uscc)
        if account is None:
            raise NotFound(f"no enterprise is registered with USCC {uscc}")
        return self.member(account)

    # -- relayed acts -------------------------------------------------------------------

    def propose(self, caller: str, signed: Signed[ProposeMessage]) -> ProposalOutcome:
        _same_actor(caller, signed.message.proposer)
        return self.contract.propose(signed)

    def approve(self, caller: str, signed: Signed[ApproveMessage]) -> ProposalOutcome:
        _same_actor(caller, signed.message.approver)
        return self.contract.approve(signed)

    def register_enterprise(self, caller: str, signed: Signed[RegisterEnterpriseMessage]) -> Relayed:
        _same_actor(caller, signed.message.operator)
        return _relayed(self.contract.register_enterprise, signed)

    def suspend_enterprise(self, caller: str, signed: Signed[SuspendEnterpriseMessage]) -> Relayed:
        _same_actor(caller, signed.message.operator)
        return _relayed(self.contract.suspend_enterprise, signed)

    def reinstate_enterprise(self, caller: str, signed: Signed[ReinstateEnterpriseMessage]) -> Relayed:
        _same_actor(caller, signed.message.operator)
        return _relayed(self.contract.reinstate_enterprise, signed)

    def rotate_key(self, caller: str, signed: Signed[RotateKeyMessage]) -> Relayed:
        current = self.contract.member_of(caller)
        if current.uscc_hash != signed.message.uscc_hash:
            raise NotAuthorized(
                f"{caller} is not the current key of enterprise 0x{signed.message.uscc_hash.hex()}"
            )
        return _relayed(self.contract.rotate_key, signed)


def _same_actor(caller: str, signer: str) -> None:
    if to_checksum_address(caller) != to_checksum_address(signer):
        raise NotAuthorized(f"the request is signed by {caller} but the act names {signer} as its actor")


def _relayed(send: Callable[[Signed[Any]], Any], signed: Signed[Any]) -> Relayed:
    receipt = send(signed)
    return Relayed(transaction=receipt["transactionHash"].to_0x_hex(), block=int(receipt["blockNumber"]))


__all__ = ["MembershipService", "Relayed", "uscc_hash"]
