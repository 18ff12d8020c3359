"""The deployment manifest: typed addresses in code, the same JSON on disk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.chain.deploy import CONTRACTS, ContractAddresses, Deployment, IncompleteManifest

BY_NAME = {name: "0x" + f"{i + 1:040x}" for i, name in enumerate(CONTRACTS)}


def test_each_contract_has_its_field() -> None:
    addresses = ContractAddresses.from_names(BY_NAME)
    assert addresses.membership == BY_NAME["Membership"]
    assert addresses.agreements == BY_NAME["Agreements"]
    assert addresses.catalogue_registry == BY_NAME["CatalogueRegistry"]
    assert addresses.consents == BY_NAME["Consents"]
    assert addresses.checkpoints == BY_NAME["Checkpoints"]
    assert addresses.model_registry == BY_NAME["ModelRegistry"]
    assert addresses.publications == BY_NAME["Publications"]
    assert addresses.by_name() == BY_NAME
    assert list(addresses.by_name()) == sorted(CONTRACTS)


def test_the_manifest_keeps_its_json_form(tmp_path: Path) -> None:
    path = tmp_path / "deployment.json"
    deployment = Deployment(31337, 7, ContractAddresses.from_names(BY_NAME), {n: "0xab" for n in CONTRACTS})
    deployment.save(path)
    assert json.loads(path.read_text()) == {
        "addresses": BY_NAME,
        "block": 7,
        "chain_id": 31337,
        "code_hashes": {n: "0xab" for n in CONTRACTS},
    }
    assert Deployment.load(path) == deployment


def test_a_manifest_without_a_contract_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "deployment.json"
    partial = {n: a for n, a in BY_NAME.items() if n not in ("Consents", "Checkpoints")}
    path.write_text(json.dumps({"chain_id": 1, "block": 0, "addresses": partial, "code_hashes": {}}))
    with pytest.raises(IncompleteManifest, match="no address for Consents, Checkpoints") as refused:
        Deployment.load(path)
    assert refused.value.missing == ["Consents", "Checkpoints"]
