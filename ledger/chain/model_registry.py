"""Typed binding of the `ModelRegistry` contract: credit-evaluation models governed by quorum.

An operator proposes a model version (model document hash, model card hash, indicator
file version, input categories); it becomes active once operators reaching the
membership's quorum approved it, and is retired the same way. Only an active version
may be used: `active_model` answers it at a given block or raises the contract's
`ModelNotActive` / `NonexistentModelVersion`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import httpx
from eth_abi import decode, encode
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from web3.types import TxReceipt

from ledger.chain.client import ChainClient
from ledger.chain.eip712 import Signed, TypedMessage
from ledger.chain.errors import ChainUnavailable
from ledger.chain.signed_acts import SignedActsContract

CONTRACT_NAME = "ModelRegistry"


class ModelStatus(IntEnum):
    NONE = 0
    PROPOSED = 1
    ACTIVE = 2
    RETIRED = 3


class ModelAction(IntEnum):
    ACTIVATE = 0
    RETIRE = 1


@dataclass(frozen=True)
class ModelVersion:
    version: int
    model_hash: bytes
    card_hash: bytes
    indicator_version: int
    input_categories: int  # bit mask of catalogue categories (the catalogue's category bits)
    status: ModelStatus


@dataclass(frozen=True)
class ModelProposal:
    id: int
    action: ModelAction
    executed: bool
    approvals: int
    expires_at: int
    version: int


@dataclass(frozen=True)
class ProposeModelMessage(TypedMessage):
    PRIMARY_TYPE = "ProposeModel"
    EIP712_TYPES = ("bytes32", "bytes32", "uint256", "uint256", "address", "uint256", "uint256")

    model_hash: bytes
    card_hash: bytes
    indicator_version: int
    input_categories: int
    operator: str
    nonce: int
    deadline: int


@dataclass(frozen=True)
class ProposeModelRetirementMessage(TypedMessage):
    PRIMARY_TYPE = "ProposeModelRetirement"
    EIP712_TYPES = ("uint256", "address", "uint256", "uint256")

    version: int
    operator: str
    nonce: int
    deadline: int


@dataclass(frozen=True)
class ApproveModelProposalMessage(TypedMessage):
    PRIMARY_TYPE = "ApproveModelProposal"
    EIP712_TYPES = ("uint256", "address", "uint256", "uint256")

    id: int
    operator: str
    nonce: int
    deadline: int


MESSAGES: tuple[type[TypedMessage], ...] = (
    ProposeModelMessage,
    ProposeModelRetirementMessage,
    ApproveModelProposalMessage,
)


class ModelRegistryContract(SignedActsContract):
    """The deployed `ModelRegistry` contract at `address`, driven through `client`."""

    CONTRACT_NAME = CONTRACT_NAME

    @classmethod
    def deploy(cls, client: ChainClient, membership: str) -> ModelRegistryContract:
        """Deploy a new `ModelRegistry` consulting the membership contract at `membership`."""
        return cls(client, client.deploy(CONTRACT_NAME, membership))

    def sign_propose(
        self,
        operator: LocalAccount,
        model_hash: bytes,
        card_hash: bytes,
        indicator_version: int,
        input_categories: int,
        *,
        nonce: int | None = None,
        deadline: int | None = None,
    ) -> Signed[ProposeModelMessage]:
        """Operator `operator`'s signed proposal of a model version."""
        return self._sign(
            operator,
            lambda n, d: ProposeModelMessage(
                model_hash, card_hash, indicator_version, input_categories, operator.address, n, d
            ),
            nonce,
            deadline,
        )

    def sign_retire(
        self, operator: LocalAccount, version: int, *, nonce: int | None = None, deadline: int | None = None
    ) -> Signed[ProposeModelRetirementMessage]:
        """Operator `operator`'s signed proposal to retire `version`."""
        return self._sign(
            operator,
            lambda n, d: ProposeModelRetirementMessage(version, operator.address, n, d),
            nonce,
            deadline,
        )

    def sign_approve(
        self,
        operator: LocalAccount,
        proposal_id: int,
        *,
        nonce: int | None = None,
        deadline: int | None = None,
    ) -> Signed[ApproveModelProposalMessage]:
        """Operator `operator`'s signed approval of proposal `proposal_id`."""
        return self._sign(
            operator,
            lambda n, d: ApproveModelProposalMessage(proposal_id, operator.address, n, d),
            nonce,
            deadline,
        )

    def propose(self, signed: Signed[ProposeModelMessage]) -> TxReceipt:
        return self.relay("proposeModel", signed)

    def propose_retirement(self, signed: Signed[ProposeModelRetirementMessage]) -> TxReceipt:
        return self.relay("proposeRetirement", signed)

    def approve(self, signed: Signed[ApproveModelProposalMessage]) -> TxReceipt:
        return self.relay("approve", signed)

    def model(self, version: int, block_identifier: int | str = "latest") -> ModelVersion:
        """Model `version`, whatever its status; `ContractRevert("NonexistentModelVersion")` if unknown."""
        raw = self.client.call(self.contract.functions.model(version), block_identifier=block_identifier)
        return _version(version, raw)

    def active_model(self, version: int, block_identifier: int | str = "latest") -> ModelVersion:
        """Model `version` if active at `block_identifier`; else the contract's revert
        (`NonexistentModelVersion` or `ModelNotActive`) as a `ContractRevert`."""
        raw = self.client.call(
            self.contract.functions.activeModel(version), block_identifier=block_identifier
        )
        return _version(version, raw)

    def proposal(self, proposal_id: int, block_identifier: int | str = "latest") -> ModelProposal:
        raw = self.client.call(
            self.contract.functions.proposal(proposal_id), block_identifier=block_identifier
        )
        action, executed, approvals, expires_at, version = raw
        return ModelProposal(
            proposal_id, ModelAction(action), bool(executed), int(approvals), int(expires_at), int(version)
        )

    def proposal_count(self) -> int:
        """How many model proposals (activations and retirements) were ever made; ids are 1..count."""
        return int(self.client.call(self.contract.functions.proposalCount()))

    def has_approved(self, proposal_id: int, operator: str) -> bool:
        return bool(self.client.call(self.contract.functions.hasApproved(proposal_id, operator)))

    def version_count(self, block_identifier: int | str = "latest") -> int:
        return int(
            self.client.call(self.contract.functions.versionCount(), block_identifier=block_identifier)
        )


class ModelCaller:
    """`model(version)` of the registry at a block, as one raw `eth_call` over a kept-alive
    connection: the evaluation path reads a model's status at each decision's block B, and
    web3's call machinery costs several times the node's answer (the same reason as
    `ledger.chain.authorize_call`). Safe to share between threads (httpx's client is)."""

    _SELECTOR = keccak(text="model(uint256)")[:4]

    def __init__(self, rpc_url: str, registry: str, *, timeout: float = 10.0) -> None:
        self.rpc_url = rpc_url
        self.registry = to_checksum_address(registry)
        self._http = httpx.Client(timeout=timeout)

    def model(self, version: int, block: int) -> ModelVersion | None:
        """Model `version` at `block`; None when it was never proposed (the call reverts)."""
        data = "0x" + (self._SELECTOR + encode(["uint256"], [version])).hex()
        call = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "eth_call",
            "params": [{"to": self.registry, "data": data}, hex(block)],
        }
        try:
            body = self._http.post(self.rpc_url, json=call).json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ChainUnavailable(f"model call at {self.rpc_url} failed: {exc}") from exc
        if not isinstance(body, dict):
            raise ChainUnavailable(f"model call at {self.rpc_url}: unexpected answer")
        if "error" in body:
            if "revert" in str(body["error"]).lower():
                return None
            raise ChainUnavailable(f"model call at {self.rpc_url} failed: {body['error']}")
        raw = bytes.fromhex(str(body.get("result", "")).removeprefix("0x"))
        if len(raw) != 160:
            raise ChainUnavailable(f"model call at {self.rpc_url}: {len(raw)} bytes, not 160")
        decoded = decode(["bytes32", "bytes32", "uint256", "uint256", "uint8"], raw)
        return _version(version, decoded)

    def close(self) -> None:
        self._http.close()


def _version(version: int, raw: Any) -> ModelVersion:
    model_hash, card_hash, indicator_version, inputs, status = raw
    return ModelVersion(
        version, bytes(model_hash), bytes(card_hash), int(indicator_version), int(inputs), ModelStatus(status)
    )
