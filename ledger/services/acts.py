"""Relaying members' signed acts on agreements, commitments and consents.

(Catalogue versions are published through `POST /catalogue/versions`, which also stores
the catalogue's content before anchoring its hash.)

Each act is an EIP-712 message whose fields are exactly the contract function's
parameters, so one table describes them all: which contract, which function, which
field names the actor, which roles may act, and which event announces a created id.
The service insists that the member who authenticated the request is the actor the
message names, then relays; the contract checks everything else and refuses with a
custom error.
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
from ledger.chain.membership import Role, Signed, TypedMessage
from ledger.chain.signed_acts import SignedActsContract
from ledger.errors import InvalidInput, NotAuthorized, NotFound
from ledger.platform import Platform


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
    )
}


@dataclass(frozen=True)
class ActResult:
    act: str
    transaction: str
    block: int
    created_id: int | None


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


class ActsService:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def binding(self, contract: type[SignedActsContract]) -> SignedActsContract:
        return contract(self.platform.chain, self.platform.deployment.addresses[contract.CONTRACT_NAME])

    def relay(self, caller: str, caller_role: Role, act: str, signed: Signed[Any]) -> ActResult:
        spec = ACTS.get(act)
        if spec is None:
            raise NotFound(f"unknown act {act!r}; known: {', '.join(sorted(ACTS))}")
        if not isinstance(signed.message, spec.message):
            raise InvalidInput(f"act {act} needs a {spec.message.__name__}")
        if caller_role not in spec.roles:
            names = " or ".join(r.name.lower() for r in spec.roles)
            raise NotAuthorized(f"{act} is an act of a {names}; {caller} is a {caller_role.name.lower()}")
        actor = getattr(signed.message, spec.actor_field)
        if to_checksum_address(actor) != to_checksum_address(caller):
            raise NotAuthorized(f"the request is signed by {caller} but the act names {actor} as its actor")
        binding = self.binding(spec.binding)
        receipt = binding.relay(spec.function, signed)
        created = None
        if spec.created is not None:
            event, argument = spec.created
            created = int(binding.events(event, receipt)[0][argument])
        return ActResult(
            act=act,
            transaction=receipt["transactionHash"].to_0x_hex(),
            block=int(receipt["blockNumber"]),
            created_id=created,
        )
