"""Offline verification of an inclusion proof against the chain, for outsiders.

Needs only the proof bundle and read access to an EVM node: no API, no database. The
verifier trusts the Checkpoints address it is given (from its own deployment manifest),
never the one written in the bundle, and shares nothing with the writing side but the
pure RFC 9162 functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address
from web3.exceptions import TransactionNotFound

from ledger.chain.checkpoints import CheckpointsContract, log_id
from ledger.errors import LedgerError
from ledger.logs.leaves import Leaf, LeafError, decode_leaf
from ledger.logs.proofs import InclusionProof
from ledger.merkle.rfc9162 import MerkleError, hash_leaf, verify_inclusion

__all__ = [
    "BUNDLE_FORMAT",
    "ProofVerificationError",
    "VerifiedInclusion",
    "hex0x",
    "inclusion_bundle",
    "parse_hex",
    "verify_inclusion_bundle",
]

BUNDLE_FORMAT = "credit-ledger/inclusion-proof/1"


class ProofVerificationError(LedgerError):
    """The proof does not hold; the message says which step failed, expected vs got."""

    code = "proof_invalid"


@dataclass(frozen=True)
class VerifiedInclusion:
    log: str
    index: int
    tree_size: int
    root: bytes
    transaction_hash: bytes
    block_number: int
    leaf: Leaf


def hex0x(data: bytes) -> str:
    return "0x" + data.hex()


def parse_hex(value: object, what: str, length: int | None = 32) -> bytes:
    if not isinstance(value, str):
        raise ProofVerificationError(f"{what}: expected a hex string, got {type(value).__name__}")
    try:
        raw = bytes.fromhex(value.removeprefix("0x"))
    except ValueError:
        raise ProofVerificationError(f"{what}: not hex") from None
    if length is not None and len(raw) != length:
        raise ProofVerificationError(f"{what}: expected {length} bytes, got {len(raw)}")
    return raw


def _int(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ProofVerificationError(f"{what}: expected a non-negative integer")
    return value


def verify_inclusion_bundle(
    bundle: Mapping[str, Any], *, checkpoints: CheckpointsContract
) -> VerifiedInclusion:
    """Check every claim of an inclusion-proof bundle; raise `ProofVerificationError` if any fails.

    Steps:
    1. the bundle has the expected format, chain and contract;
    2. the leaf bytes hash (RFC 9162, 0x00 prefix) to the stated leaf hash;
    3. the leaf is canonical JSON whose sequence number is the stated index;
    4. the audit path rebuilds the stated root for the stated tree size;
    5. the named transaction emitted CheckpointAnchored(log, size, root) from our contract;
    6. the contract's latest checkpoint of the log is at least that size (every later
       checkpoint was accepted only with a consistency proof from it).
    """
    # 1. format, chain, contract
    if bundle.get("format") != BUNDLE_FORMAT:
        raise ProofVerificationError(f"format: expected {BUNDLE_FORMAT}, got {bundle.get('format')!r}")
    client = checkpoints.client
    chain_id = client.chain_id()
    if bundle.get("chain_id") != chain_id:
        raise ProofVerificationError(f"chain id: expected {chain_id}, got {bundle.get('chain_id')!r}")
    try:
        stated_contract = to_checksum_address(str(bundle.get("checkpoints_contract")))
    except ValueError:
        raise ProofVerificationError("checkpoints_contract: not an address") from None
    if stated_contract != checkpoints.address:
        raise ProofVerificationError(
            f"checkpoints contract: expected {checkpoints.address}, got {stated_contract}"
        )
    name = bundle.get("log")
    if not isinstance(name, str):
        raise ProofVerificationError("log: expected the log's name")
    lid = log_id(name)
    index = _int(bundle.get("index"), "index")
    size = _int(bundle.get("tree_size"), "tree_size")
    root = parse_hex(bundle.get("root"), "root")
    path = [parse_hex(h, f"inclusion_proof[{i}]") for i, h in enumerate(bundle.get("inclusion_proof") or [])]
    leaf_text = bundle.get("leaf")
    if not isinstance(leaf_text, str):
        raise ProofVerificationError("leaf: expected the leaf's canonical JSON text")
    leaf_bytes = leaf_text.encode("utf-8")
    stated_hash = parse_hex(bundle.get("leaf_hash"), "leaf_hash")

    # 2. leaf hash
    computed = hash_leaf(leaf_bytes)
    if computed != stated_hash:
        raise ProofVerificationError(f"leaf hash: expected {stated_hash.hex()}, computed {computed.hex()}")

    # 3. canonical leaf at its index
    try:
        leaf = decode_leaf(leaf_bytes)
    except LeafError as exc:
        raise ProofVerificationError(f"leaf: {exc.message}") from None
    if leaf.seq != index:
        raise ProofVerificationError(f"leaf sequence number: expected {index}, got {leaf.seq}")

    # 4. audit path
    try:
        verify_inclusion(stated_hash, index, size, path, root)
    except MerkleError as exc:
        raise ProofVerificationError(f"inclusion proof: {exc}") from None

    # 5. the anchoring transaction (searched among the contract's events when not named)
    anchor = bundle.get("anchor") or {}
    if anchor.get("transaction") is None:
        matches = [e for e in checkpoints.history(lid) if e.size == size]
        if not matches:
            raise ProofVerificationError(
                f"no CheckpointAnchored event of size {size} for log {name} on chain"
            )
        tx_hash, block = matches[0].transaction_hash, matches[0].block_number
    else:
        tx_hash = parse_hex(anchor.get("transaction"), "anchor.transaction")
        try:
            receipt = client.guard(lambda: client.w3.eth.get_transaction_receipt(hex0x(tx_hash)))  # type: ignore[arg-type]
        except TransactionNotFound:
            raise ProofVerificationError(
                f"anchor transaction {hex0x(tx_hash)} is not on chain (the chain lost it, or it never was)"
            ) from None
        if int(receipt["status"]) != 1:
            raise ProofVerificationError(f"anchor transaction {hex0x(tx_hash)} failed on chain")
        matches = [e for e in checkpoints.events_in(receipt) if e.log_id == lid and e.size == size]
        if not matches:
            raise ProofVerificationError(
                f"anchor transaction {hex0x(tx_hash)} anchored no checkpoint of size {size} for log {name}"
            )
        block = int(receipt["blockNumber"])
    if matches[0].root != root:
        raise ProofVerificationError(
            f"anchored root: expected {root.hex()}, chain has {matches[0].root.hex()}"
        )

    # 6. still the log's history
    latest = checkpoints.latest(lid)
    if latest.size < size:
        raise ProofVerificationError(f"latest checkpoint of {name} on chain is {latest.size}, below {size}")
    return VerifiedInclusion(name, index, size, root, tx_hash, block, leaf)


def inclusion_bundle(proof: InclusionProof, *, chain_id: int, checkpoints_contract: str) -> dict[str, Any]:
    """The JSON bundle `verify_inclusion_bundle` checks: self-contained but for the chain."""
    checkpoint = proof.checkpoint
    tx = checkpoint.transaction_hash
    return {
        "format": BUNDLE_FORMAT,
        "chain_id": chain_id,
        "checkpoints_contract": to_checksum_address(checkpoints_contract),
        "log": proof.log,
        "log_id": hex0x(log_id(proof.log)),
        "index": proof.index,
        "leaf": proof.leaf.decode("utf-8"),
        "leaf_hash": hex0x(proof.leaf_hash),
        "tree_size": checkpoint.size,
        "root": hex0x(checkpoint.root),
        "inclusion_proof": [hex0x(h) for h in proof.path],
        "anchor": {"transaction": None if tx is None else hex0x(tx), "block": checkpoint.block_number},
    }
