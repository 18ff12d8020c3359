"""Typed binding of the `Consents` contract: consent grants and the authorization check.

An enterprise grants an institution categories of its data for purposes, possibly only
under one agreement, with some categories unmasked, until an expiry; it may revoke the
grant at any time, effective in the block of the revocation. Grants are keyed by the
enterprise's USCC hash, so they survive a rotation of its key. A grant's masks are
stored narrow: category bits 0..95 and purpose bits 0..63 (the contract refuses others
with `SafeCastOverflowedUintDowncast(bits, value)`).

`ConsentsContract.authorize` is the one authorization check (see `Reason` for its
order); `ledger.chain.authorize_call` asks the same question without web3's per-call
overhead for the release path.
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

CONTRACT_NAME = "Consents"


class Reason(IntEnum):
    """Why `authorize` allowed or refused; checked in this order, the first failure wins."""

    ALLOWED = 0
    REQUESTER_NOT_ACTIVE_INSTITUTION = 1
    SUBJECT_UNKNOWN = 2
    AGREEMENT_UNKNOWN = 3
    AGREEMENT_NOT_OWNED = 4
    AGREEMENT_NOT_ACTIVE = 5
    AGREEMENT_NOT_YET_VALID = 6
    AGREEMENT_EXPIRED = 7
    COMMITMENT_BREACHED = 8
    CATEGORY_OUT_OF_SCOPE = 9
    PURPOSE_NOT_ALLOWED = 10
    LEVEL_ABOVE_MAXIMUM = 11
    NO_COVERING_GRANT = 12


@dataclass(frozen=True)
class AuthorizationQuery:
    """May `requester` receive `categories` of enterprise `uscc_hash` for `purpose`?"""

    requester: str
    uscc_hash: bytes
    categories: int  # bit mask of catalogue categories
    purpose: int  # exactly one purpose bit
    agreement_id: int
    level: int  # highest sensitivity level among the fields to release, 1..5
    #: the release's own time (unix seconds): expiries are judged at the later of it and
    #: the block's timestamp; 0 judges them at the block's time alone
    at: int = 0

    def args(self) -> tuple[str, bytes, int, int, int, int, int]:
        """The arguments of `authorize`, in order."""
        q = self
        return (q.requester, q.uscc_hash, q.categories, q.purpose, q.agreement_id, q.level, q.at)


@dataclass(frozen=True)
class Decision:
    """The contract's answer, and the block it holds at."""

    allowed: bool
    reason: Reason
    grant_id: int  # the covering grant; 0 when refused or when every category is public
    raw_categories: int  # requested categories the grant releases unmasked
    block_number: int
    block_timestamp: int  # the timestamp of block `block_number`: how fresh the decision is

    @classmethod
    def from_abi(cls, value: Any) -> Decision:
        """From the ABI-decoded `(bool, uint8, uint256, uint256, uint256, uint256)` tuple."""
        allowed, reason, grant_id, raw, block, timestamp = value
        return cls(bool(allowed), Reason(reason), int(grant_id), int(raw), int(block), int(timestamp))


@dataclass(frozen=True)
class GrantTerms:
    """What an enterprise consents to."""

    uscc_hash: bytes  # the enterprise
    institution: str
    agreement_id: int  # 0: any active agreement of the institution
    categories: int
    purposes: int
    raw_categories: int  # subset of `categories` released unmasked
    expires_at: int  # last second (block timestamp) at which the grant covers requests


@dataclass(frozen=True)
class Grant:
    id: int
    terms: GrantTerms
    revoked: bool

    def live_at(self, timestamp: int) -> bool:
        return not self.revoked and timestamp <= self.terms.expires_at


# -- EIP-712 messages -----------------------------------------------------------------


@dataclass(frozen=True)
class GrantMessage(TypedMessage):
    PRIMARY_TYPE = "Grant"
    EIP712_TYPES = (
        "bytes32",
        "address",
        "uint256",
        "uint256",
        "uint256",
        "uint256",
        "uint48",
        "address",
        "uint256",
        "uint256",
    )

    uscc_hash: bytes
    institution: str
    agreement_id: int
    categories: int
    purposes: int
    raw_categories: int
    expires_at: int
    enterprise: str
    nonce: int
    deadline: int


@dataclass(frozen=True)
class RevokeMessage(TypedMessage):
    PRIMARY_TYPE = "Revoke"
    EIP712_TYPES = ("uint256", "address", "uint256", "uint256")

    grant_id: int
    enterprise: str
    nonce: int
    deadline: int


MESSAGES: tuple[type[TypedMessage], ...] = (GrantMessage, RevokeMessage)


# -- the contract -----------------------------------------------------------------------


class ConsentsContract(SignedActsContract):
    """The deployed `Consents` contract at `address`, driven through `client`."""

    CONTRACT_NAME = CONTRACT_NAME

    @classmethod
    def deploy(
        cls, client: ChainClient, membership: str, agreements: str, catalogue: str
    ) -> ConsentsContract:
        """Deploy a new `Consents` wired to the membership, agreements and catalogue contracts."""
        return cls(client, client.deploy(CONTRACT_NAME, membership, agreements, catalogue))

    # -- signing and acts ---------------------------------------------------------------

    def sign_grant(
        self,
        enterprise: LocalAccount,
        terms: GrantTerms,
        *,
        nonce: int | None = None,
        deadline: int | None = None,
    ) -> Signed[GrantMessage]:
        """The signed grant of `terms` by `enterprise`, the current account of `terms.uscc_hash`."""
        t = terms
        return self._sign(
            enterprise,
            lambda n, d: GrantMessage(
                t.uscc_hash,
                t.institution,
                t.agreement_id,
                t.categories,
                t.purposes,
                t.raw_categories,
                t.expires_at,
                enterprise.address,
                n,
                d,
            ),
            nonce,
            deadline,
        )

    def sign_revoke(
        self,
        enterprise: LocalAccount,
        grant_id: int,
        *,
        nonce: int | None = None,
        deadline: int | None = None,
    ) -> Signed[RevokeMessage]:
        """The signed revocation of grant `grant_id` by the current account of its enterprise."""
        return self._sign(
            enterprise, lambda n, d: RevokeMessage(grant_id, enterprise.address, n, d), nonce, deadline
        )

    def grant(self, signed: Signed[GrantMessage]) -> int:
        """Relay a grant; returns its id."""
        return int(self.events("ConsentGranted", self.relay("grant", signed))[0]["grantId"])

    def revoke(self, signed: Signed[RevokeMessage]) -> TxReceipt:
        return self.relay("revoke", signed)

    # -- reads --------------------------------------------------------------------------

    def authorize(self, query: AuthorizationQuery, block_identifier: int | str = "latest") -> Decision:
        """The authorization decision for `query` at `block_identifier`, through web3."""
        fn = self.contract.functions.authorize(*query.args())
        return Decision.from_abi(self.client.call(fn, block_identifier=block_identifier))

    def get_grant(self, grant_id: int, block_identifier: int | str = "latest") -> Grant | None:
        """Grant `grant_id`, or None when there is none."""
        raw: Any = self.client.call(
            self.contract.functions.grant(grant_id), block_identifier=block_identifier
        )
        return _grant(grant_id, raw)

    def grants(self, grant_ids: Sequence[int], block_identifier: int | str = "latest") -> list[Grant | None]:
        """Grants `grant_ids` at one block, in one batch of calls (None: no such grant)."""
        fns = [self.contract.functions.grant(i) for i in grant_ids]
        raws = self.client.call_many(fns, block_identifier)
        return [_grant(i, raw) for i, raw in zip(grant_ids, raws, strict=True)]

    def grant_count(self, block_identifier: int | str = "latest") -> int:
        return int(self.client.call(self.contract.functions.grantCount(), block_identifier=block_identifier))

    def grants_of(self, uscc_hash: bytes, block_identifier: int | str = "latest") -> list[int]:
        """Ids of every grant of enterprise `uscc_hash`, grouped by institution, newest first."""
        fn = self.contract.functions.grantsOf(uscc_hash)
        return [int(i) for i in self.client.call(fn, block_identifier=block_identifier)]

    def grant_ids_for(
        self, uscc_hash: bytes, institution: str, block_identifier: int | str = "latest"
    ) -> list[int]:
        """Ids of the grants of enterprise `uscc_hash` to `institution`, newest first."""
        fn = self.contract.functions.grantIdsFor(uscc_hash, institution)
        return [int(i) for i in self.client.call(fn, block_identifier=block_identifier)]


def _grant(grant_id: int, raw: Any) -> Grant | None:
    """`grant(id)`'s answer, or None when there is no such grant."""
    uscc, institution, agreement_id, categories, purposes, raw_categories, expires_at, revoked = raw
    if int(institution, 16) == 0:
        return None
    terms = GrantTerms(
        bytes(uscc), str(institution), int(agreement_id), int(categories), int(purposes), int(raw_categories),
        int(expires_at),
    )  # fmt: skip
    return Grant(grant_id, terms, bool(revoked))
