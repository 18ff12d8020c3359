"""Typed binding of the `Membership` contract: who may act, and how operators govern it.

Every act is an EIP-712 message signed by the acting member and relayed by the
client's account (`ChainClient.relayer`), which needs no role. The `sign_*` methods
build a message with the signer's current on-chain nonce and sign it; the methods
named after the act relay a signed message (`ledger.chain.signed_acts`). Governance proposals execute
automatically when the approval that reaches the quorum arrives, so there is no
separate execute step: `propose` and `approve` report whether that happened.

Refusals surface as `ContractRevert` with the contract's error name and arguments,
e.g. `NotActiveMember(account, role)`, `DuplicateApproval(id, approver)`,
`ProposalExpired(id, expiresAt)`, `InvalidQuorum(quorum, operators)`,
`InvalidAccountNonce(account, currentNonce)`, `InvalidSigner(expected, recovered)`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3.types import TxReceipt

from ledger.chain.client import ChainClient
from ledger.chain.eip712 import Signed, TypedMessage
from ledger.chain.signed_acts import SignedActsContract

CONTRACT_NAME = "Membership"
ZERO_ADDRESS = "0x" + "00" * 20
ZERO_HASH = bytes(32)


class Role(IntEnum):
    NONE = 0
    OPERATOR = 1
    PROVIDER = 2
    INSTITUTION = 3
    ENTERPRISE = 4
    AUDITOR = 5
    PLATFORM = 6
    DISTRICT_OPERATOR = 7  # a district's office: publishes the district's white lists


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


class MembershipContract(SignedActsContract):
    """The deployed `Membership` contract at `address`, driven through `client`."""

    CONTRACT_NAME = CONTRACT_NAME

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

    # -- signing ------------------------------------------------------------------------

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
        return self._sign(
            proposer,
            lambda n, d: ProposeMessage(
                action, account, role, kind, name_hash, new_quorum, proposer.address, n, d
            ),
            nonce,
            deadline,
        )

    def sign_approve(
        self,
        approver: LocalAccount,
        proposal_id: int,
        *,
        nonce: int | None = None,
        deadline: int | None = None,
    ) -> Signed[ApproveMessage]:
        """Operator `approver`'s signed approval of proposal `proposal_id`."""
        return self._sign(
            approver, lambda n, d: ApproveMessage(proposal_id, approver.address, n, d), nonce, deadline
        )

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
        return self._sign(
            operator,
            lambda n, d: RegisterEnterpriseMessage(
                account, uscc_hash(uscc), name_hash(name), operator.address, n, d
            ),
            nonce,
            deadline,
        )

    def sign_suspend_enterprise(
        self, operator: LocalAccount, uscc: str, *, nonce: int | None = None, deadline: int | None = None
    ) -> Signed[SuspendEnterpriseMessage]:
        """Operator `operator`'s signed suspension of enterprise `uscc`."""
        return self._sign(
            operator,
            lambda n, d: SuspendEnterpriseMessage(uscc_hash(uscc), operator.address, n, d),
            nonce,
            deadline,
        )

    def sign_reinstate_enterprise(
        self, operator: LocalAccount, uscc: str, *, nonce: int | None = None, deadline: int | None = None
    ) -> Signed[ReinstateEnterpriseMessage]:
        """Operator `operator`'s signed reinstatement of enterprise `uscc`."""
        return self._sign(
            operator,
            lambda n, d: ReinstateEnterpriseMessage(uscc_hash(uscc), operator.address, n, d),
            nonce,
            deadline,
        )

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
        return self._sign(
            current, lambda n, d: RotateKeyMessage(uscc_hash(uscc), new_account, n, d), nonce, deadline
        )

    # -- acts ---------------------------------------------------------------------------

    def propose(self, signed: Signed[ProposeMessage]) -> ProposalOutcome:
        """Relay a proposal; it executes at once when the quorum is 1."""
        return self._outcome(self.relay("propose", signed))

    def approve(self, signed: Signed[ApproveMessage]) -> ProposalOutcome:
        """Relay an approval; the one that reaches the quorum executes the proposal."""
        return self._outcome(self.relay("approve", signed))

    def register_enterprise(self, signed: Signed[RegisterEnterpriseMessage]) -> TxReceipt:
        return self.relay("registerEnterprise", signed)

    def suspend_enterprise(self, signed: Signed[SuspendEnterpriseMessage]) -> TxReceipt:
        return self.relay("suspendEnterprise", signed)

    def reinstate_enterprise(self, signed: Signed[ReinstateEnterpriseMessage]) -> TxReceipt:
        return self.relay("reinstateEnterprise", signed)

    def rotate_key(self, signed: Signed[RotateKeyMessage]) -> TxReceipt:
        return self.relay("rotateEnterpriseKey", signed)

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
        raw = self.client.call(self.contract.functions.memberOf(account), block_identifier=block_identifier)
        return _member(account, raw)

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
        functions = self.contract.functions
        accounts = [
            str(a)
            for a in self.client.call_many([functions.memberAt(i) for i in range(count)], block_identifier)
        ]
        records = self.client.call_many([functions.memberOf(a) for a in accounts], block_identifier)
        return [_member(a, raw) for a, raw in zip(accounts, records, strict=True)]


def _member(account: str, raw: Any) -> Member:
    """`memberOf(account)`'s answer as a `Member`."""
    role, status, kind, since, name, uscc = raw
    return Member(
        to_checksum_address(account), Role(role), Status(status), InstitutionKind(kind),
        int(since), bytes(name), bytes(uscc),
    )  # fmt: skip
