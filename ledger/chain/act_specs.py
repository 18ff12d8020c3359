"""The signed acts a member can have the platform relay: one table, for the client and the server.

Each act is an EIP-712 message whose fields are exactly the contract function's
parameters, so one table describes them all: which contract, which function, which
field names the actor, which roles may act, and which event announces a created id.
The SDK signs from it and the API generates a route per act from it; it imports only
the chain's message types and bindings, so a client can use it without the server.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from eth_utils import to_checksum_address

from ledger.chain.agreements import (
    AgreementsContract,
    CommitMessage,
    CountersignMessage,
    MarkBreachedMessage,
    ProposeAgreementMessage,
    ReinstateMessage,
    SuspendMessage,
    TerminateMessage,
)
from ledger.chain.consents import ConsentsContract, GrantMessage, RevokeMessage
from ledger.chain.eip712 import TypedMessage
from ledger.chain.membership import Role
from ledger.chain.model_registry import (
    ApproveModelProposalMessage,
    ModelRegistryContract,
    ProposeModelMessage,
    ProposeModelRetirementMessage,
)
from ledger.chain.signed_acts import SignedActsContract


@dataclass(frozen=True)
class ActSpec:
    binding: type[SignedActsContract]
    message: type[TypedMessage]
    function: str
    actor_field: str
    roles: tuple[Role, ...]
    summary: str
    created: tuple[str, str] | None = None  # (event, argument) carrying a new object's id

    @property
    def name(self) -> str:
        return self.message.PRIMARY_TYPE

    @property
    def contract(self) -> str:
        return self.binding.CONTRACT_NAME


_INSTITUTION, _OPERATOR, _ENTERPRISE = (Role.INSTITUTION,), (Role.OPERATOR,), (Role.ENTERPRISE,)

ACTS: dict[str, ActSpec] = {
    spec.name: spec
    for spec in (
        ActSpec(
            AgreementsContract,
            CommitMessage,
            "commit",
            "member",
            (Role.INSTITUTION, Role.ENTERPRISE, Role.PROVIDER),
            "Make a credit commitment (信用承诺) to a document",
            ("CommitmentMade", "id"),
        ),
        ActSpec(
            AgreementsContract,
            MarkBreachedMessage,
            "markBreached",
            "operator",
            _OPERATOR,
            "Mark a commitment breached, with an evidence hash (operator)",
        ),
        ActSpec(
            AgreementsContract,
            ProposeAgreementMessage,
            "propose",
            "institution",
            _INSTITUTION,
            "Propose a data-sharing agreement (数据共享协议)",
            ("AgreementProposed", "id"),
        ),
        ActSpec(
            AgreementsContract,
            CountersignMessage,
            "countersign",
            "operator",
            _OPERATOR,
            "Countersign an agreement, making it active (operator)",
        ),
        ActSpec(
            AgreementsContract,
            SuspendMessage,
            "suspend",
            "operator",
            _OPERATOR,
            "Suspend an agreement (operator)",
        ),
        ActSpec(
            AgreementsContract,
            ReinstateMessage,
            "reinstate",
            "operator",
            _OPERATOR,
            "Reinstate a suspended agreement (operator)",
        ),
        ActSpec(
            AgreementsContract,
            TerminateMessage,
            "terminate",
            "signer",
            (Role.OPERATOR, Role.INSTITUTION),
            "Terminate an agreement (operator, or its institution)",
        ),
        ActSpec(
            ConsentsContract,
            GrantMessage,
            "grant",
            "enterprise",
            _ENTERPRISE,
            "Grant an institution consent (授权) to categories for purposes",
            ("ConsentGranted", "grantId"),
        ),
        ActSpec(
            ConsentsContract,
            RevokeMessage,
            "revoke",
            "enterprise",
            _ENTERPRISE,
            "Revoke a consent; effective from the block of the revocation",
        ),
        ActSpec(
            ModelRegistryContract,
            ProposeModelMessage,
            "proposeModel",
            "operator",
            _OPERATOR,
            "Propose a credit-evaluation model version (created_id: its activation proposal)",
            ("ModelProposalCreated", "id"),
        ),
        ActSpec(
            ModelRegistryContract,
            ProposeModelRetirementMessage,
            "proposeRetirement",
            "operator",
            _OPERATOR,
            "Propose to retire an active model version (operator quorum)",
            ("ModelProposalCreated", "id"),
        ),
        ActSpec(
            ModelRegistryContract,
            ApproveModelProposalMessage,
            "approve",
            "operator",
            _OPERATOR,
            "Approve a model proposal; the approval reaching the quorum executes it",
        ),
    )
}


def build_message(spec: ActSpec, values: dict[str, Any]) -> TypedMessage:
    """The message dataclass from JSON-ish values (hex strings for bytes32)."""
    kwargs: dict[str, Any] = {}
    for field, solidity_type in zip(fields(spec.message), spec.message.EIP712_TYPES, strict=True):
        value = values[field.name]
        if solidity_type == "bytes32" and isinstance(value, str):
            value = bytes.fromhex(value.removeprefix("0x"))
        elif solidity_type == "address":
            value = to_checksum_address(value)
        kwargs[field.name] = value
    return spec.message(**kwargs)
