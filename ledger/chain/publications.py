"""Typed binding of the `Publications` contract: the chain anchor of the financing documents.

White lists (published by operators), loan products (by the institution that offers
them) and KPI snapshots (by operators) are public documents with numbered versions;
each version's SHA-256 content hash, publisher and validity are anchored by the
publisher's signed `Publish` act. A removal from a white list or the withdrawal of a
product is a new version: nothing published is ever rewritten.

A document's id on chain is `document_id(kind, key)`, the keccak256 of its textual key
within its kind, so a reader holding the document can find its anchor.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3.types import TxReceipt

from ledger.chain.client import ChainClient
from ledger.chain.eip712 import Signed, TypedMessage
from ledger.chain.signed_acts import SignedActsContract

CONTRACT_NAME = "Publications"


class PublicationKind(IntEnum):
    """What a published document is (the contract's `Kind`)."""

    NONE = 0
    WHITE_LIST = 1
    LOAN_PRODUCT = 2
    KPI_SNAPSHOT = 3


def document_id(kind: PublicationKind, key: str) -> bytes:
    """The 32-byte on-chain id of the document of `kind` whose textual key is `key`."""
    return keccak(text=f"{kind.name.lower()}:{key}")


@dataclass(frozen=True)
class Publication:
    """One anchored version of a document."""

    kind: PublicationKind
    document_id: bytes
    version: int
    content_hash: bytes
    publisher: str
    valid_from: int  # unix seconds
    valid_until: int  # unix seconds; 0 = until a later version
    published_at: int  # timestamp of the block of publication
    block_number: int


@dataclass(frozen=True)
class PublishMessage(TypedMessage):
    PRIMARY_TYPE = "Publish"
    EIP712_TYPES = (
        "uint8", "bytes32", "uint256", "bytes32", "uint64", "uint64", "address", "uint256", "uint256",
    )  # fmt: skip

    kind: int
    document_id: bytes
    version: int
    content_hash: bytes
    valid_from: int
    valid_until: int
    publisher: str
    nonce: int
    deadline: int


MESSAGES: tuple[type[TypedMessage], ...] = (PublishMessage,)


class PublicationsContract(SignedActsContract):
    """The deployed `Publications` contract at `address`, driven through `client`."""

    CONTRACT_NAME = CONTRACT_NAME

    @classmethod
    def deploy(cls, client: ChainClient, membership: str) -> PublicationsContract:
        """Deploy a new `Publications` consulting the membership contract at `membership`."""
        return cls(client, client.deploy(CONTRACT_NAME, membership))

    def sign_publish(
        self,
        publisher: LocalAccount,
        kind: PublicationKind,
        doc_id: bytes,
        version: int,
        content_hash: bytes,
        valid_from: int,
        valid_until: int = 0,
        *,
        nonce: int | None = None,
        deadline: int | None = None,
    ) -> Signed[PublishMessage]:
        """`publisher`'s signed publication of `version` of document `doc_id` of `kind`."""
        return self._sign(
            publisher,
            lambda n, d: PublishMessage(
                int(kind), doc_id, version, content_hash, valid_from, valid_until, publisher.address, n, d
            ),
            nonce,
            deadline,
        )

    def publish(self, signed: Signed[PublishMessage]) -> TxReceipt:
        """Relay a signed `Publish`; the contract's refusal as a `ContractRevert`."""
        return self.relay("publish", signed)

    def publication(
        self, kind: PublicationKind, doc_id: bytes, version: int, block_identifier: int | str = "latest"
    ) -> Publication:
        """Version `version` of the document; `ContractRevert("NonexistentPublication")` if none."""
        raw = self.client.call(
            self.contract.functions.publication(int(kind), doc_id, version), block_identifier=block_identifier
        )
        content_hash, publisher, valid_from, valid_until, published_at, block_number = raw
        return Publication(
            kind, doc_id, version, bytes(content_hash), str(publisher), int(valid_from), int(valid_until),
            int(published_at), int(block_number),
        )  # fmt: skip

    def version_count(
        self, kind: PublicationKind, doc_id: bytes, block_identifier: int | str = "latest"
    ) -> int:
        """How many versions of the document are anchored (0: never published)."""
        fn = self.contract.functions.versionCount(int(kind), doc_id)
        return int(self.client.call(fn, block_identifier=block_identifier))

    def latest(
        self, kind: PublicationKind, doc_id: bytes, block_identifier: int | str = "latest"
    ) -> Publication | None:
        """The newest anchored version of the document, or None if it was never published."""
        count = self.version_count(kind, doc_id, block_identifier)
        return self.publication(kind, doc_id, count, block_identifier) if count else None

    def owner_of(self, kind: PublicationKind, doc_id: bytes, block_identifier: int | str = "latest") -> str:
        """The publisher of the document's first version (the zero address if none)."""
        fn = self.contract.functions.ownerOf(int(kind), doc_id)
        return str(self.client.call(fn, block_identifier=block_identifier))
