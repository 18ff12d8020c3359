"""Typed binding of the `Agreements` contract: credit commitments and data-sharing agreements.

An institution signs a usage commitment (信用承诺) and proposes an agreement (数据共享协议)
that relies on it: categories, purposes, maximum sensitivity level and validity period,
all immutable. An operator countersigns it, which makes it active; operators suspend,
reinstate and terminate it, and the institution may terminate it too. An operator
marking the commitment breached makes every agreement relying on it refuse
authorization at once. `Expired` is derived from time, never stored.

The `sign_*` methods build a message with the signer's current nonce and sign it with
the member's key; the methods named after the act relay a signed message. Refusals
surface as `ContractRevert`, e.g. `NotActiveMember(account, role)`,
`UnexpectedAgreementStatus(id, current, expectedStatuses)`,
`CommitmentAlreadyBreached(id)`, `InvalidSigner(expected, recovered)`,
`InvalidAccountNonce(account, currentNonce)`, `SignatureExpired(deadline, timestamp)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_account.signers.local import LocalAccount
from web3.types import TxReceipt

from ledger.chain.client import ChainClient
from ledger.chain.eip712 import Signed, TypedMessage
from ledger.chain.signed_acts import SignedActsContract

CONTRACT_NAME = "Agreements"
#: sensitivity levels run from 1 (public) to 5 (important data), JR/T 0197-2020
MAX_LEVEL = 5


class CommitmentKind(IntEnum):
    INSTITUTION_USAGE = 0
    ENTERPRISE_TRUTHFULNESS = 1
    REPAIR_APPLICANT = 2


class AgreementStatus(IntEnum):
    PROPOSED = 0
    ACTIVE = 1
    SUSPENDED = 2
    TERMINATED = 3
    EXPIRED = 4  # derived from time, never stored


# -- EIP-712 messages -----------------------------------------------------------------


@dataclass(frozen=True)
class CommitMessage(TypedMessage):
    PRIMARY_TYPE = "Commit"
    EIP712_TYPES = ("uint8", "bytes32", "address", "uint256", "uint256")

    kind: CommitmentKind
    document_hash: bytes
    member: str
    nonce: int
    deadline: int


@dataclass(frozen=True)
class MarkBreachedMessage(TypedMessage):
    PRIMARY_TYPE = "MarkBreached"
    EIP712_TYPES = ("uint256", "bytes32", "address", "uint256", "uint256")

    commitment_id: int
    evidence_hash: bytes
    operator: str
    nonce: int
    deadline: int


@dataclass(frozen=True)
class ProposeAgreementMessage(TypedMessage):
    PRIMARY_TYPE = "ProposeAgreement"
    EIP712_TYPES = (
        "uint256",
        "uint256",
        "uint8",
        "uint48",
        "uint48",
        "bytes32",
        "uint256",
        "address",
        "uint256",
        "uint256",
    )

    categories: int
    purposes: int
    max_level: int
    valid_from: int
    valid_until: int
    document_hash: bytes
    commitment_id: int
    institution: str
    nonce: int
    deadline: int


@dataclass(frozen=True)
class _OperatorAgreementMessage(TypedMessage):
    EIP712_TYPES = ("uint256", "address", "uint256", "uint256")

    agreement_id: int
    operator: str
    nonce: int
    deadline: int


@dataclass(frozen=True)
class CountersignMessage(_OperatorAgreementMessage):
    PRIMARY_TYPE = "Countersign"


@dataclass(frozen=True)
class SuspendMessage(_OperatorAgreementMessage):
    PRIMARY_TYPE = "Suspend"


@dataclass(frozen=True)
class ReinstateMessage(_OperatorAgreementMessage):
    PRIMARY_TYPE = "Reinstate"


@dataclass(frozen=True)
class TerminateMessage(TypedMessage):
    PRIMARY_TYPE = "Terminate"
    EIP712_TYPES = ("uint256", "address", "uint256", "uint256")

    agreement_id: int
    signer: str  # an operator, or the institution that proposed the agreement
    nonce: int
    deadline: int


MESSAGES: tuple[type[TypedMessage], ...] = (
    CommitMessage,
    MarkBreachedMessage,
    ProposeAgreementMessage,
    CountersignMessage,
    SuspendMessage,
    ReinstateMessage,
    TerminateMessage,
)


# -- values -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AgreementTerms:
    """What an institution proposes; immutable once proposed."""

    categories: int  # bit mask of catalogue categories
    purposes: int  # bit mask of catalogue purposes
    max_level: int  # 1..5
    valid_from: int  # first second of validity (block timestamp)
    valid_until: int  # last second of validity
    document_hash: bytes  # hash of the agreement document
    commitment_id: int  # the institution's own InstitutionUsage commitment


@dataclass(frozen=True)
class Commitment:
    id: int
    member: str
    kind: CommitmentKind
    breached: bool
    document_hash: bytes
    breach_evidence_hash: bytes  # zero until breached


@dataclass(frozen=True)
class Agreement:
    id: int
    institution: str
    state: AgreementStatus  # as stored: never EXPIRED, see `status_at`
    terms: AgreementTerms

    def status_at(self, timestamp: int) -> AgreementStatus:
        """The status the contract reports at block timestamp `timestamp`."""
        if self.state is not AgreementStatus.TERMINATED and self.terms.valid_until < timestamp:
            return AgreementStatus.EXPIRED
        return self.state


# -- the contract -----------------------------------------------------------------------


class AgreementsContract(SignedActsContract):
    """The deployed `Agreements` contract at `address`, driven through `client`."""

    CONTRACT_NAME = CONTRACT_NAME

    @classmethod
    def deploy(cls, client: ChainClient, membership: str) -> AgreementsContract:
        """Deploy a new `Agreements` consulting the membership contract at `membership`."""
        return cls(client, client.deploy(CONTRACT_NAME, membership))

    # -- signing ------------------------------------------------------------------------

    def sign_commit(
        self,
        member: LocalAccount,
        kind: CommitmentKind,
        document_hash: bytes,
        *,
        nonce: int | None = None,
        deadline: int | None = None,
    ) -> Signed[CommitMessage]:
        """`member`'s signed commitment of `kind` to the letter hashing to `document_hash`."""
        return self._sign(
            member, lambda n, d: CommitMessage(kind, document_hash, member.address, n, d), nonce, deadline
        )

    def sign_mark_breached(
        self,
        operator: LocalAccount,
        commitment_id: int,
        evidence_hash: bytes,
        *,
        nonce: int | None = None,
        deadline: int | None = None,
    ) -> Signed[MarkBreachedMessage]:
        """Operator `operator`'s signed finding that commitment `commitment_id` was breached."""
        return self._sign(
            operator,
            lambda n, d: MarkBreachedMessage(commitment_id, evidence_hash, operator.address, n, d),
            nonce,
            deadline,
        )

    def sign_propose(
        self,
        institution: LocalAccount,
        terms: AgreementTerms,
        *,
        nonce: int | None = None,
        deadline: int | None = None,
    ) -> Signed[ProposeAgreementMessage]:
        """`institution`'s signed proposal of an agreement with `terms`."""
        t = terms
        return self._sign(
            institution,
            lambda n, d: ProposeAgreementMessage(
                t.categories,
                t.purposes,
                t.max_level,
                t.valid_from,
                t.valid_until,
                t.document_hash,
                t.commitment_id,
                institution.address,
                n,
                d,
            ),
            nonce,
            deadline,
        )

    def sign_countersign(
        self,
        operator: LocalAccount,
        agreement_id: int,
        *,
        nonce: int | None = None,
        deadline: int | None = None,
    ) -> Signed[CountersignMessage]:
        """Operator `operator`'s signed countersignature of agreement `agreement_id`."""
        return self._sign(
            operator, lambda n, d: CountersignMessage(agreement_id, operator.address, n, d), nonce, deadline
        )

    def sign_suspend(
        self,
        operator: LocalAccount,
        agreement_id: int,
        *,
        nonce: int | None = None,
        deadline: int | None = None,
    ) -> Signed[SuspendMessage]:
        """Operator `operator`'s signed suspension of agreement `agreement_id`."""
        return self._sign(
            operator, lambda n, d: SuspendMessage(agreement_id, operator.address, n, d), nonce, deadline
        )

    def sign_reinstate(
        self,
        operator: LocalAccount,
        agreement_id: int,
        *,
        nonce: int | None = None,
        deadline: int | None = None,
    ) -> Signed[ReinstateMessage]:
        """Operator `operator`'s signed reinstatement of agreement `agreement_id`."""
        return self._sign(
            operator, lambda n, d: ReinstateMessage(agreement_id, operator.address, n, d), nonce, deadline
        )

    def sign_terminate(
        self,
        signer: LocalAccount,
        agreement_id: int,
        *,
        nonce: int | None = None,
        deadline: int | None = None,
    ) -> Signed[TerminateMessage]:
        """The signed termination of agreement `agreement_id` by an operator or its institution."""
        return self._sign(
            signer, lambda n, d: TerminateMessage(agreement_id, signer.address, n, d), nonce, deadline
        )

    # -- acts ---------------------------------------------------------------------------

    def commit(self, signed: Signed[CommitMessage]) -> int:
        """Relay a commitment; returns its id."""
        return int(self.events("CommitmentMade", self.relay("commit", signed))[0]["id"])

    def mark_breached(self, signed: Signed[MarkBreachedMessage]) -> TxReceipt:
        return self.relay("markBreached", signed)

    def propose(self, signed: Signed[ProposeAgreementMessage]) -> int:
        """Relay a proposal; returns the new agreement's id."""
        return int(self.events("AgreementProposed", self.relay("propose", signed))[0]["id"])

    def countersign(self, signed: Signed[CountersignMessage]) -> TxReceipt:
        return self.relay("countersign", signed)

    def suspend(self, signed: Signed[SuspendMessage]) -> TxReceipt:
        return self.relay("suspend", signed)

    def reinstate(self, signed: Signed[ReinstateMessage]) -> TxReceipt:
        return self.relay("reinstate", signed)

    def terminate(self, signed: Signed[TerminateMessage]) -> TxReceipt:
        return self.relay("terminate", signed)

    # -- reads --------------------------------------------------------------------------

    def commitment(self, commitment_id: int, block_identifier: int | str = "latest") -> Commitment | None:
        """Commitment `commitment_id`, or None when there is none."""
        fn = self.contract.functions.commitment(commitment_id)
        raw = self.client.call(fn, block_identifier=block_identifier)
        return _commitment(commitment_id, raw)

    def commitments(
        self, commitment_ids: Sequence[int], block_identifier: int | str = "latest"
    ) -> list[Commitment | None]:
        """Commitments `commitment_ids` at one block, in one batch of calls (None: no such one)."""
        fns = [self.contract.functions.commitment(i) for i in commitment_ids]
        raws = self.client.call_many(fns, block_identifier)
        return [_commitment(i, raw) for i, raw in zip(commitment_ids, raws, strict=True)]

    def commitment_count(self, block_identifier: int | str = "latest") -> int:
        fn = self.contract.functions.commitmentCount()
        return int(self.client.call(fn, block_identifier=block_identifier))

    def agreement(self, agreement_id: int, block_identifier: int | str = "latest") -> Agreement | None:
        """Agreement `agreement_id` with its stored state, or None when there is none."""
        raw: Any = self.client.call(
            self.contract.functions.agreement(agreement_id), block_identifier=block_identifier
        )
        return _agreement(agreement_id, raw)

    def agreements(
        self, agreement_ids: Sequence[int], block_identifier: int | str = "latest"
    ) -> list[Agreement | None]:
        """Agreements `agreement_ids` at one block, in one batch of calls (None: no such one)."""
        fns = [self.contract.functions.agreement(i) for i in agreement_ids]
        raws = self.client.call_many(fns, block_identifier)
        return [_agreement(i, raw) for i, raw in zip(agreement_ids, raws, strict=True)]

    def status(self, agreement_id: int, block_identifier: int | str = "latest") -> AgreementStatus:
        """The status now, `EXPIRED` derived; `ContractRevert("NonexistentAgreement")` when unknown."""
        fn = self.contract.functions.status(agreement_id)
        return AgreementStatus(self.client.call(fn, block_identifier=block_identifier))

    def agreement_count(self, block_identifier: int | str = "latest") -> int:
        fn = self.contract.functions.agreementCount()
        return int(self.client.call(fn, block_identifier=block_identifier))


def _commitment(commitment_id: int, raw: Any) -> Commitment | None:
    """`commitment(id)`'s answer, or None when there is no such commitment."""
    member, kind, breached, document, evidence = raw
    if int(member, 16) == 0:
        return None
    return Commitment(
        commitment_id, str(member), CommitmentKind(kind), bool(breached), bytes(document), bytes(evidence)
    )


def _agreement(agreement_id: int, raw: Any) -> Agreement | None:
    """`agreement(id)`'s answer, or None when there is no such agreement."""
    institution, state, max_level, valid_from, valid_until, commitment_id, categories, purposes, doc = raw
    if int(institution, 16) == 0:
        return None
    terms = AgreementTerms(
        int(categories), int(purposes), int(max_level), int(valid_from), int(valid_until), bytes(doc),
        int(commitment_id),
    )  # fmt: skip
    return Agreement(agreement_id, str(institution), AgreementStatus(state), terms)
