"""Offline verification of a credit-record proof: the log part, then the record part.

On top of `ledger.logs.verify` it checks that the leaf is a credit-record leaf of the
named record version, and, when the bundle carries the record's opening (salt and
canonical record, which only the provider or the subject may hold), that
SHA-256(salt ‖ canonical record) is the commitment in the leaf.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from ledger.chain.checkpoints import CheckpointsContract
from ledger.domain.log_names import CREDIT_RECORDS_LOG, RECORD_LEAF_TYPE
from ledger.logs.verify import ProofVerificationError, VerifiedInclusion, parse_hex, verify_inclusion_bundle

__all__ = ["opening", "verify_record_bundle"]


def opening(salt: bytes, canonical_record: bytes) -> dict[str, str]:
    """The part of a bundle that reveals the record: keep it as private as the record."""
    return {"salt": base64.b64encode(salt).decode(), "canonical_record": canonical_record.decode("utf-8")}


def verify_record_bundle(bundle: Mapping[str, Any], *, checkpoints: CheckpointsContract) -> VerifiedInclusion:
    """Verify a record proof bundle (see `verify_inclusion_bundle` for steps 1-6), then:

    7. the leaf is a credit-record leaf of the log of credit records;
    8. it names the record id and version the bundle is about;
    9. with an opening: the commitment recomputes, and the canonical record names the
       same record id and version.
    """
    verified = verify_inclusion_bundle(bundle, checkpoints=checkpoints)
    leaf = verified.leaf
    # 7. kind of leaf
    if verified.log != CREDIT_RECORDS_LOG or leaf.type != RECORD_LEAF_TYPE:
        raise ProofVerificationError(
            f"leaf kind: expected {RECORD_LEAF_TYPE} in {CREDIT_RECORDS_LOG}, "
            f"got {leaf.type} in {verified.log}"
        )
    # 8. the record named
    record = bundle.get("record") or {}
    for key in ("record_id", "version"):
        if record.get(key) != leaf.payload.get(key):
            raise ProofVerificationError(
                f"record {key}: expected {record.get(key)!r}, leaf has {leaf.payload.get(key)!r}"
            )
    # 9. the opening
    opened = bundle.get("opening")
    if opened is not None:
        try:
            salt = base64.b64decode(str(opened.get("salt")), validate=True)
        except (binascii.Error, ValueError):
            raise ProofVerificationError("opening.salt: not base64") from None
        canonical = str(opened.get("canonical_record")).encode("utf-8")
        computed = hashlib.sha256(salt + canonical).digest()
        stated = parse_hex(leaf.payload.get("commitment"), "leaf commitment")
        if computed != stated:
            raise ProofVerificationError(
                f"commitment: leaf has {stated.hex()}, the opening gives {computed.hex()}"
            )
        document = json.loads(canonical)
        for key in ("record_id", "version"):
            if document.get(key) != leaf.payload.get(key):
                raise ProofVerificationError(f"opened record {key}: {document.get(key)!r} is not the leaf's")
    return verified
