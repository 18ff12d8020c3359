"""Typed binding of the `CatalogueRegistry` contract: the on-chain anchor of the catalogue.

An operator publishes each catalogue version with the hash of its content and the mask
of its public categories (released without consent); versions strictly increase. The
authorization check reads the public mask of the version current in its block.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from web3.types import TxReceipt

from ledger.chain.client import ChainClient
from ledger.chain.eip712 import Signed, TypedMessage
from ledger.chain.signed_acts import SignedActsContract

CONTRACT_NAME = "CatalogueRegistry"


@dataclass(frozen=True)
class CatalogueVersion:
    version: int  # 0 before the first publication
    content_hash: bytes
    public_categories: int  # bit mask of categories released without consent


@dataclass(frozen=True)
class PublishCatalogueMessage(TypedMessage):
    PRIMARY_TYPE = "PublishCatalogue"
    EIP712_TYPES = ("uint256", "bytes32", "uint256", "address", "uint256", "uint256")

    version: int
    content_hash: bytes
    public_categories: int
    operator: str
    nonce: int
    deadline: int


MESSAGES: tuple[type[TypedMessage], ...] = (PublishCatalogueMessage,)


class CatalogueRegistryContract(SignedActsContract):
    """The deployed `CatalogueRegistry` contract at `address`, driven through `client`."""

    CONTRACT_NAME = CONTRACT_NAME

    @classmethod
    def deploy(cls, client: ChainClient, membership: str) -> CatalogueRegistryContract:
        """Deploy a new `CatalogueRegistry` consulting the membership contract at `membership`."""
        return cls(client, client.deploy(CONTRACT_NAME, membership))

    def sign_publish(
        self,
        operator: LocalAccount,
        catalogue: CatalogueVersion,
        *,
        nonce: int | None = None,
        deadline: int | None = None,
    ) -> Signed[PublishCatalogueMessage]:
        """Operator `operator`'s signed publication of `catalogue`."""
        c = catalogue
        return self._sign(
            operator,
            lambda n, d: PublishCatalogueMessage(
                c.version, c.content_hash, c.public_categories, operator.address, n, d
            ),
            nonce,
            deadline,
        )

    def publish(self, signed: Signed[PublishCatalogueMessage]) -> TxReceipt:
        return self.relay("publish", signed)

    def current(self, block_identifier: int | str = "latest") -> CatalogueVersion:
        """The catalogue in force at `block_identifier` (version 0 before any publication)."""
        version, content_hash, public = self.client.call(
            self.contract.functions.current(), block_identifier=block_identifier
        )
        return CatalogueVersion(int(version), bytes(content_hash), int(public))

    def version_hash(self, version: int, block_identifier: int | str = "latest") -> bytes:
        """Content hash of `version`; `ContractRevert("NonexistentCatalogueVersion")` if never published."""
        fn = self.contract.functions.versionHash(version)
        return bytes(self.client.call(fn, block_identifier=block_identifier))
