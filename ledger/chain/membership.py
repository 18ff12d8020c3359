"""Typed binding of the `Membership` contract: who may act, and how operators govern it.

Every act is an EIP-712 message signed by the acting member and relayed by the
client's account (`ChainClient.relayer`), which needs no role. The `sign_*` functions
build a message with the signer's current on-chain nonce and sign it; the
`MembershipContract` methods relay a signed message. Governance proposals execute
automatically when the approval that reaches the quorum arrives, so there is no
separate execute step: `propose` and `approve` report whether that happened.

Refusals surface as `ContractRevert` with the contract's error name and arguments,
e.g. `NotActiveMember(account, role)`, `DuplicateApproval(id, approver)`,
`ProposalExpired(id, expiresAt)`, `InvalidQuorum(quorum, operators)`,
`InvalidAccountNonce(account, currentNonce)`, `InvalidSigner(expected, recovered)`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields
from enum import IntEnum
from functools import cached_property
from typing import Any, ClassVar, Generic, TypeVar

from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3.contract import Contract
from web3.logs import DISCARD
from web3.types import TxReceipt

from ledger.chain.client import ChainClient
from ledger.chain.eip712 import domain_of, sign_typed_data

CONTRACT_NAME = "Membership"
ZERO_ADDRESS = "0x" + "00" * 20
ZERO_HASH = bytes(32)
#: validity of a signature when the caller names no deadline
DEFAULT_VALIDITY_SECONDS = 3600


class Role(IntEnum):
    NONE = 0
    OPERATOR = 1
    PROVIDER = 2
    INSTITUTION = 3
    ENTERPRISE = 4
    AUDITOR = 5
    PLATFORM = 6


class Status(IntEnum):
    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2
    REMOVED = 3


class InstitutionKind(IntEnum):
    NONE = 0
    BANK = 1
    INSURER = 2
    GUARANTOR = 3
    CREDIT_SERVICE_AGENCY = 4


class Action(IntEnum):
    ADMIT = 0
    SUSPEND = 1
    REINSTATE = 2
    REMOVE = 3
    SET_QUORUM = 4


@functools.lru_cache(maxsize=65_536)  # every release hashes its subject twice (request, chain check)
def uscc_hash(uscc: str) -> bytes:
    """The on-chain key of an enterprise: keccak256 of its USCC (统一社会信用代码) as UTF-8."""
    return keccak(text=uscc)


def name_hash(name: str) -> bytes:
    """The on-chain commitment to a member's registered name: keccak256 of its UTF-8 bytes."""
    return keccak(text=name)


# -- EIP-712 messages -----------------------------------------------------------------


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


@dataclass(frozen=True)
class TypedMessage:
    """An EIP-712 message whose fields, in order, are the contract's typehash fields.

    Python field `name_hash` is EIP-712 member `nameHash`; the Solidity types are in
    `EIP712_TYPES`, and enum fields are `uint8`.
    """

    PRIMARY_TYPE: ClassVar[str]
    EIP712_TYPES: ClassVar[tuple[str, ...]]

    @classmethod
    def types(cls) -> dict[str, list[dict[str, str]]]:
        members = [
            {"name": _camel(f.name), "type": t} for f, t in zip(fields(cls), cls.EIP712_TYPES, strict=True)
        ]
        return {cls.PRIMARY_TYPE: members}

    @classmethod
    def type_string(cls) -> str:
        """The string the contract's typehash is the keccak256 of."""
        members = cls.types()[cls.PRIMARY_TYPE]
        return f"{cls.PRIMARY_TYPE}({','.join(m['type'] + ' ' + m['name'] for m in members)})"

    def message(self) -> dict[str, Any]:
        return {_camel(f.name): getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class ProposeMessage(TypedMessage):
    PRIMARY_TYPE = "Propose"
    EIP712_TYPES = (
        "uint8", "address", "uint8", "uint8", "bytes32", "uint256", "address", "uint256", "uint256",
    )  # fmt: skip

    action: Action
    account: str
    role: Role
    kind: InstitutionKind
    name_hash: bytes
    new_quorum: int
    proposer: str
    nonce: int
    deadline: int


@dataclass(frozen=True)
class ApproveMessage(TypedMessage):
    PRIMARY_TYPE = "Approve"
    EIP712_TYPES = ("uint256", "address", "uint256", "uint256")

    id: int
    approver: str
    nonce: int
    deadline: int


@dataclass(frozen=True)
class RegisterEnterpriseMessage(TypedMessage):
    PRIMARY_TYPE = "RegisterEnterprise"
    EIP712_TYPES = ("address", "bytes32", "bytes32", "address", "uint256", "uint256")

    account: str
    uscc_hash: bytes
    name_hash: bytes
    operator: str
    nonce: int
    deadline: int


@dataclass(frozen=True)
class _EnterpriseStatusMessage(TypedMessage):
    EIP712_TYPES = ("bytes32", "address", "uint256", "uint256")

    uscc_hash: bytes
    operator: str
    nonce: int
    deadline: int


@dataclass(frozen=True)
class SuspendEnterpriseMessage(_EnterpriseStatusMessage):
    PRIMARY_TYPE = "SuspendEnterprise"


@dataclass(frozen=True)
class ReinstateEnterpriseMessage(_EnterpriseStatusMessage):
    PRIMARY_TYPE = "ReinstateEnterprise"


@dataclass(frozen=True)
class RotateKeyMessage(TypedMessage):
    PRIMARY_TYPE = "RotateEnterpriseKey"
    EIP712_TYPES = ("bytes32", "address", "uint256", "uint256")

    uscc_hash: bytes
    new_account: str
    nonce: int
    deadline: int


M = TypeVar("M", bound=TypedMessage)


@dataclass(frozen=True)
class Signed(Generic[M]):
    """A message and its 65-byte signature (r ‖ s ‖ v) by the member it names."""

    message: M
    signature: bytes


def sign(signer: LocalAccount, domain: dict[str, Any], message: M) -> Signed[M]:
    """Sign `message` under `domain` (normally `MembershipContract.domain`)."""
    signature = sign_typed_data(signer.key, domain, message.types(), message.PRIMARY_TYPE, message.message())
    return Signed(message, signature)


# -- reads ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """The membership record of `account` (role `NONE` when it was never admitted)."""

    account: str
    role: Role
    status: Status
    kind: InstitutionKind
    since: int  # block number of admission
    name_hash: bytes
    uscc_hash: bytes  # enterprises only; zero otherwise

    @property
    def active(self) -> bool:
        return self.status is Status.ACTIVE


@dataclass(frozen=True)
class Proposal:
    id: int
    action: Action
    role: Role
    kind: InstitutionKind
    executed: bool
    approvals: int
    expires_at: int  # last second (block timestamp) at which it can be approved
    account: str
    name_hash: bytes
    new_quorum: int


@dataclass(frozen=True)
class ProposalOutcome:
    """What a `propose` or `approve` transaction did to proposal `proposal_id`."""

    proposal_id: int
    approvals: int
    executed: bool
    receipt: TxReceipt


class MembershipContract:
    """The deployed `Membership` contract at `address`, driven through `client`."""

    def __init__(self, client: ChainClient, address: str) -> None:
        self.client = client
        self.contract: Contract = client.contract(CONTRACT_NAME, address)

    @classmethod
    def deploy(
        cls,
        client: ChainClient,
        operators: list[str],
        quorum: int,
        proposal_lifetime: int,
        platform: str,
    ) -> MembershipContract:
        """Deploy a new `Membership` governed by `operators` with an M-of-N `quorum`."""
        return cls(client, client.deploy(CONTRACT_NAME, operators, quorum, proposal_lifetime, platform))

    @property
    def address(self) -> str:
        return str(self.contract.address)

    @cached_property
    def domain(self) -> dict[str, Any]:
        """The EIP-712 domain every act must be signed under (it never changes)."""
        return self.client.guard(lambda: domain_of(self.contract))

    # -- signing ------------------------------------------------------------------------

    def nonce(self, account: str) -> int:
        """The next unused signature nonce of `account` in this contract."""
        return int(self.client.call(self.contract.functions.nonces(account)))

    def default_deadline(self) -> int:
        latest = self.client.guard(lambda: self.client.w3.eth.get_block("latest"))
        return int(latest["timestamp"]) + DEFAULT_VALIDITY_SECONDS

    def _fill(self, signer: str, nonce: int | None, deadline: int | None) -> tuple[int, int]:
        return (
            self.nonce(signer) if nonce is None else nonce,
            self.default_deadline() if deadline is None else deadline,
        )

    def sign_propose(
        self,
        proposer: LocalAccount,
        action: Action,
        *,
        account: str = ZERO_ADDRESS,
        role: Role = Role.NONE,
        kind: InstitutionKind = InstitutionKind.NONE,
        name_hash: bytes = ZERO_HASH,
        new_quorum: int = 0,
        nonce: int | None = None,
        deadline: int | None = None,
    ) -> Signed[ProposeMessage]:
        """Operator `proposer`'s signed proposal (nonce from the chain unless given)."""
        nonce, deadline = self._fill(proposer.address, nonce, deadline)
        message = ProposeMessage(
            action, account, role, kind, name_hash, new_quorum, proposer.address, nonce, deadline
        )
        return sign(proposer, self.domain, message)

    def sign_approve(
        self,
        approver: LocalAccount,
        proposal_id: int,
        *,
        nonce: int | None = None,
        deadline: int | None = None,
    ) -> Signed[ApproveMessage]:
        """Operator `approver`'s signed approval of proposal `proposal_id`."""
        nonce, deadline = self._fill(approver.address, nonce, deadline)
        return sign(approver, self.domain, ApproveMessage(proposal_id, approver.address, nonce, deadline))

    def sign_register_enterprise(
        self,
        operator: LocalAccount,
        account: str,
        uscc: str,
        name: str,
        *,
        nonce: int | None = None,
        deadline: int | None = None,
    ) -> Signed[RegisterEnterpriseMessage]:
        """Operator `operator`'s signed registration of `account` as enterprise `uscc`."""
        nonce, deadline = self._fill(operator.address, nonce, deadline)
        message = RegisterEnterpriseMessage(
            account, uscc_hash(uscc), name_hash(name), operator.address, nonce, deadline
        )
        return sign(operator, self.domain, message)

    def sign_suspend_enterprise(
        self, operator: LocalAccount, uscc: str, *, nonce: int | None = None, deadline: int | None = None
    ) -> Signed[SuspendEnterpriseMessage]:
        """Operator `operator`'s signed suspension of enterprise `uscc`."""
        nonce, deadline = self._fill(operator.address, nonce, deadline)
        message = SuspendEnterpriseMessage(uscc_hash(uscc), operator.address, nonce, deadline)
        return sign(operator, self.domain, message)

    def sign_reinstate_enterprise(
        self, operator: LocalAccount, uscc: str, *, nonce: int | None = None, deadline: int | None = None
    ) -> Signed[ReinstateEnterpriseMessage]:
        """Operator `operator`'s signed reinstatement of enterprise `uscc`."""
        nonce, deadline = self._fill(operator.address, nonce, deadline)
        message = ReinstateEnterpriseMessage(uscc_hash(uscc), operator.address, nonce, deadline)
        return sign(operator, self.domain, message)

    def sign_rotate_key(
        self,
        current: LocalAccount,
        uscc: str,
        new_account: str,
        *,
        nonce: int | None = None,
        deadline: int | None = None,
    ) -> Signed[RotateKeyMessage]:
        """Enterprise `uscc`'s signed move to `new_account`, by its `current` key."""
        nonce, deadline = self._fill(current.address, nonce, deadline)
        return sign(current, self.domain, RotateKeyMessage(uscc_hash(uscc), new_account, nonce, deadline))

    # -- acts ---------------------------------------------------------------------------

    def propose(self, signed: Signed[ProposeMessage]) -> ProposalOutcome:
        """Relay a proposal; it executes at once when the quorum is 1."""
        m = signed.message
        fn = self.contract.functions.propose(
            m.action, m.account, m.role, m.kind, m.name_hash, m.new_quorum,
            m.proposer, m.nonce, m.deadline, signed.signature,
        )  # fmt: skip
        return self._outcome(self.client.transact(fn))

    def approve(self, signed: Signed[ApproveMessage]) -> ProposalOutcome:
        """Relay an approval; the one that reaches the quorum executes the proposal."""
        m = signed.message
        fn = self.contract.functions.approve(m.id, m.approver, m.nonce, m.deadline, signed.signature)
        return self._outcome(self.client.transact(fn))

    def register_enterprise(self, signed: Signed[RegisterEnterpriseMessage]) -> TxReceipt:
        m = signed.message
        fn = self.contract.functions.registerEnterprise(
            m.account, m.uscc_hash, m.name_hash, m.operator, m.nonce, m.deadline, signed.signature
        )
        return self.client.transact(fn)

    def suspend_enterprise(self, signed: Signed[SuspendEnterpriseMessage]) -> TxReceipt:
        m = signed.message
        fn = self.contract.functions.suspendEnterprise(
            m.uscc_hash, m.operator, m.nonce, m.deadline, signed.signature
        )
        return self.client.transact(fn)

    def reinstate_enterprise(self, signed: Signed[ReinstateEnterpriseMessage]) -> TxReceipt:
        m = signed.message
        fn = self.contract.functions.reinstateEnterprise(
            m.uscc_hash, m.operator, m.nonce, m.deadline, signed.signature
        )
        return self.client.transact(fn)

    def rotate_key(self, signed: Signed[RotateKeyMessage]) -> TxReceipt:
        m = signed.message
        fn = self.contract.functions.rotateEnterpriseKey(
            m.uscc_hash, m.new_account, m.nonce, m.deadline, signed.signature
        )
        return self.client.transact(fn)

    def events(self, name: str, receipt: TxReceipt) -> list[dict[str, Any]]:
        """The arguments of this contract's `name` events in `receipt`, in log order."""
        mine = [log for log in receipt["logs"] if log["address"] == self.contract.address]
        decoded = self.contract.events[name]().process_receipt({**receipt, "logs": mine}, errors=DISCARD)
        return [dict(e["args"]) for e in decoded]

    def _outcome(self, receipt: TxReceipt) -> ProposalOutcome:
        approved = self.events("ProposalApproved", receipt)[-1]
        return ProposalOutcome(
            proposal_id=int(approved["id"]),
            approvals=int(approved["approvals"]),
            executed=bool(self.events("ProposalExecuted", receipt)),
            receipt=receipt,
        )

    # -- reads --------------------------------------------------------------------------

    def member_of(self, account: str, block_identifier: int | str = "latest") -> Member:
        role, status, kind, since, name, uscc = self.client.call(
            self.contract.functions.memberOf(account), block_identifier=block_identifier
        )
        return Member(
            to_checksum_address(account), Role(role), Status(status), InstitutionKind(kind),
            int(since), bytes(name), bytes(uscc),
        )  # fmt: skip

    def is_active(self, account: str, role: Role, block_identifier: int | str = "latest") -> bool:
        """Whether `account` is an active member holding `role` at `block_identifier`."""
        fn = self.contract.functions.isActive(account, role)
        return bool(self.client.call(fn, block_identifier=block_identifier))

    def enterprise_by_uscc(self, uscc: str, block_identifier: int | str = "latest") -> str | None:
        """The current account of enterprise `uscc`, or None when it is not registered."""
        fn = self.contract.functions.enterpriseByUscc(uscc_hash(uscc))
        account = str(self.client.call(fn, block_identifier=block_identifier))
        return None if int(account, 16) == 0 else account

    def quorum(self) -> int:
        return int(self.client.call(self.contract.functions.quorum()))

    def operator_count(self) -> int:
        return int(self.client.call(self.contract.functions.operatorCount()))

    def proposal_lifetime(self) -> int:
        return int(self.client.call(self.contract.functions.proposalLifetime()))

    def proposal_count(self) -> int:
        return int(self.client.call(self.contract.functions.proposalCount()))

    def proposal(self, proposal_id: int) -> Proposal:
        """Proposal `proposal_id`; `ContractRevert("UnknownProposal")` when there is none."""
        action, role, kind, executed, approvals, expires_at, account, name, new_quorum = self.client.call(
            self.contract.functions.proposal(proposal_id)
        )
        return Proposal(
            proposal_id, Action(action), Role(role), InstitutionKind(kind), bool(executed),
            int(approvals), int(expires_at), str(account), bytes(name), int(new_quorum),
        )  # fmt: skip

    def has_approved(self, proposal_id: int, operator: str) -> bool:
        return bool(self.client.call(self.contract.functions.hasApproved(proposal_id, operator)))

    def member_count(self) -> int:
        return int(self.client.call(self.contract.functions.memberCount()))

    def member_at(self, index: int) -> str:
        return str(self.client.call(self.contract.functions.memberAt(index)))

    def members(self, block_identifier: int | str = "latest") -> list[Member]:
        """Every account ever admitted, in order of admission, with its record."""
        count = int(
            self.client.call(self.contract.functions.memberCount(), block_identifier=block_identifier)
        )
        accounts = [
            str(self.client.call(self.contract.functions.memberAt(i), block_identifier=block_identifier))
            for i in range(count)
        ]
        return [self.member_of(a, block_identifier) for a in accounts]
