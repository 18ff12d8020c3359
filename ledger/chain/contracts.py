"""The deployment's contracts, each bound once to one chain client.

The composition root (`ledger.platform`) binds them from the typed addresses of the
deployment manifest; services receive the bindings they use, never addresses.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.chain.agreements import AgreementsContract
from ledger.chain.catalogue_registry import CatalogueRegistryContract
from ledger.chain.checkpoints import CheckpointsContract
from ledger.chain.client import ChainClient
from ledger.chain.consents import ConsentsContract
from ledger.chain.deploy import ContractAddresses
from ledger.chain.membership import MembershipContract
from ledger.chain.model_registry import ModelRegistryContract
from ledger.chain.publications import PublicationsContract
from ledger.chain.signed_acts import SignedActsContract

__all__ = ["Contracts"]


@dataclass(frozen=True)
class Contracts:
    membership: MembershipContract
    agreements: AgreementsContract
    catalogue_registry: CatalogueRegistryContract
    consents: ConsentsContract
    checkpoints: CheckpointsContract
    model_registry: ModelRegistryContract
    publications: PublicationsContract

    @classmethod
    def bind(cls, client: ChainClient, addresses: ContractAddresses) -> Contracts:
        """Bindings of every contract at `addresses` through `client` (no chain call)."""
        return cls(
            membership=MembershipContract(client, addresses.membership),
            agreements=AgreementsContract(client, addresses.agreements),
            catalogue_registry=CatalogueRegistryContract(client, addresses.catalogue_registry),
            consents=ConsentsContract(client, addresses.consents),
            checkpoints=CheckpointsContract(client, addresses.checkpoints),
            model_registry=ModelRegistryContract(client, addresses.model_registry),
            publications=PublicationsContract(client, addresses.publications),
        )

    def signed_acts(self) -> tuple[SignedActsContract, ...]:
        """The contracts besides Membership that take members' signed acts through
        `SignedActions`, in the order their nonces are listed (Membership's acts and nonces
        have a service of their own, `ledger.services.membership`)."""
        return (
            self.agreements,
            self.consents,
            self.catalogue_registry,
            self.model_registry,
            self.publications,
        )
