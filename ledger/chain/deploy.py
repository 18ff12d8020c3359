"""Deployment of the ledger's contracts and the manifest that pins them.

The manifest records chain id, addresses, deployment block and the hash of each
contract's creation bytecode. Deploying again is a no-op when manifest, compiled code
and chain agree, and a clear error when they do not: silently deploying a second set
of contracts would split the ledger's history in two.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ledger.chain.client import ChainClient
from ledger.errors import LedgerError

#: deployment order; each entry's constructor arguments are built in `deploy_all`
CONTRACTS = (
    "Membership", "Agreements", "CatalogueRegistry", "Consents", "Checkpoints", "ModelRegistry",
    "Publications",
)  # fmt: skip


class ManifestMismatch(LedgerError):
    """The deployment manifest does not describe the chain or the compiled contracts."""

    code = "manifest_mismatch"


class IncompleteManifest(ManifestMismatch):
    """The manifest names no address for some of the contracts."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__(f"manifest has no address for {', '.join(missing)}")
        self.missing = missing


@dataclass(frozen=True)
class ContractAddresses:
    """Where each of the ledger's contracts is deployed: one field per contract.

    The manifest keeps them by contract name (`by_name`); code reads them by field, so a
    contract's name is spelled in one place (`CONTRACTS`).
    """

    membership: str
    agreements: str
    catalogue_registry: str
    consents: str
    checkpoints: str
    model_registry: str
    publications: str

    @classmethod
    def from_names(cls, by_name: Mapping[str, str]) -> ContractAddresses:
        """From contract name -> address; `IncompleteManifest` if a contract is missing."""
        missing = [name for name in CONTRACTS if name not in by_name]
        if missing:
            raise IncompleteManifest(missing)
        return cls(**{field: by_name[name] for name, field in _FIELDS.items()})

    def by_name(self) -> dict[str, str]:
        """Contract name -> address, in name order (the manifest's form)."""
        return {name: getattr(self, _FIELDS[name]) for name in sorted(CONTRACTS)}


#: contract name -> field of `ContractAddresses` (`CatalogueRegistry` -> `catalogue_registry`)
_FIELDS = {name: re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower() for name in CONTRACTS}


@dataclass(frozen=True)
class Governance:
    """Who governs a fresh deployment."""

    operators: list[str]
    quorum: int
    proposal_lifetime_seconds: int
    platform: str


@dataclass(frozen=True)
class Deployment:
    chain_id: int
    block: int
    addresses: ContractAddresses
    code_hashes: dict[str, str]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        manifest = {
            "chain_id": self.chain_id,
            "block": self.block,
            "addresses": self.addresses.by_name(),
            "code_hashes": self.code_hashes,
        }
        tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True))
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> Deployment:
        data = json.loads(path.read_text())
        return cls(
            chain_id=int(data["chain_id"]),
            block=int(data["block"]),
            addresses=ContractAddresses.from_names(dict(data["addresses"])),
            code_hashes=dict(data["code_hashes"]),
        )


def deploy_all(client: ChainClient, governance: Governance) -> Deployment:
    """Deploy a fresh set of contracts wired to one another."""
    first_block = client.block_number() + 1
    addr: dict[str, str] = {}
    addr["Membership"] = client.deploy(
        "Membership",
        governance.operators,
        governance.quorum,
        governance.proposal_lifetime_seconds,
        governance.platform,
    )
    addr["Agreements"] = client.deploy("Agreements", addr["Membership"])
    addr["CatalogueRegistry"] = client.deploy("CatalogueRegistry", addr["Membership"])
    addr["Consents"] = client.deploy(
        "Consents", addr["Membership"], addr["Agreements"], addr["CatalogueRegistry"]
    )
    addr["Checkpoints"] = client.deploy("Checkpoints", addr["Membership"])
    addr["ModelRegistry"] = client.deploy("ModelRegistry", addr["Membership"])
    addr["Publications"] = client.deploy("Publications", addr["Membership"])
    return Deployment(
        chain_id=client.chain_id(),
        block=first_block,
        addresses=ContractAddresses.from_names(addr),
        code_hashes={name: client.artifacts[name].code_hash for name in CONTRACTS},
    )


def verify_deployment(client: ChainClient, deployment: Deployment) -> None:
    """Raise `ManifestMismatch` unless the manifest matches both the chain and the compiled code."""
    chain_id = client.chain_id()
    if chain_id != deployment.chain_id:
        raise ManifestMismatch(
            f"manifest is for chain id {deployment.chain_id}, the endpoint is chain id {chain_id}"
        )
    addresses = deployment.addresses.by_name()
    for name in CONTRACTS:
        address = addresses[name]
        code = client.guard(lambda a=address: client.w3.eth.get_code(a))  # type: ignore[misc]
        if len(code) == 0:
            raise ManifestMismatch(
                f"{name}: no code at {address} on chain {chain_id}; the chain was reset "
                "or the manifest belongs to another chain"
            )
        compiled = client.artifacts[name].code_hash
        if deployment.code_hashes.get(name) != compiled:
            raise ManifestMismatch(
                f"{name}: deployed bytecode hash {deployment.code_hashes.get(name)} differs from the "
                f"compiled one {compiled}; the contracts changed since deployment"
            )


def ensure_deployed(
    client: ChainClient, manifest_path: Path, governance: Governance
) -> tuple[Deployment, bool]:
    """The deployment named by the manifest, deploying first if there is none.

    Returns the deployment and whether it was deployed now.
    """
    if manifest_path.exists():
        deployment = Deployment.load(manifest_path)
        verify_deployment(client, deployment)
        return deployment, False
    deployment = deploy_all(client, governance)
    # The manifest is the platform's acknowledgement of the deployment: written only once
    # the chain will not lose it (its last block durable, hence every one before).
    latest = client.block_at("latest")
    if latest is not None:
        client.finality.wait_durable(latest[0], latest[1], client.durable_timeout)
    deployment.save(manifest_path)
    return deployment, True
