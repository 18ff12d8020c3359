"""Inclusion proofs as the self-contained bundles the platform serves.

A bundle (`ledger.logs.verify.inclusion_bundle`) names the chain and the Checkpoints
contract that anchor its proof; those are the deployment's, so they are given once here
rather than looked up by every service that serves a proof.
"""

from __future__ import annotations

from typing import Any

from ledger.logs.proofs import InclusionProof, LogProofs, NotYetAnchored
from ledger.logs.verify import inclusion_bundle

__all__ = ["ProofBundles"]


class ProofBundles:
    """Bundles of inclusion proofs read through `proofs`, anchored by `checkpoints_contract`."""

    def __init__(self, proofs: LogProofs, *, chain_id: int, checkpoints_contract: str) -> None:
        self.proofs = proofs
        self.chain_id = chain_id
        self.checkpoints_contract = checkpoints_contract

    def bundle(self, proof: InclusionProof) -> dict[str, Any]:
        return inclusion_bundle(proof, chain_id=self.chain_id, checkpoints_contract=self.checkpoints_contract)

    def inclusion(self, log: str, index: int) -> dict[str, Any]:
        """The bundle of entry `index` of `log`; `NotYetAnchored` (409) until a checkpoint covers it."""
        return self.bundle(self.proofs.inclusion(log, index))

    def anchored(self, log: str, index: int) -> dict[str, Any] | None:
        """The bundle of entry `index` of `log`, or None until a checkpoint covers it."""
        try:
            return self.inclusion(log, index)
        except NotYetAnchored:
            return None
