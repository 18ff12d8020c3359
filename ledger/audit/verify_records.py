"""Step 5: the records table still matches the credit-record log.

The export carries, for each stored record version, what the records table says about
it (record id, version, log index, commitment, leaf hash) — no field values. Each must
match its leaf (5.1); every record leaf must have exactly one stored version, and no
(record, version) may be logged twice (5.2). With openings (an operator's export with
database access and the record keys) the commitment is recomputed from the salt and
the record document, canonicalised here with RFC 8785 (5.3).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import rfc8785

from ledger.audit.export import StoredVersion
from ledger.audit.findings import Finding, Step
from ledger.audit.leaves import CREDIT_RECORDS_LOG, DecodedLeaf, PayloadProblem, RecordLeaf, parse_record_leaf
from ledger.merkle.rfc9162 import hash_leaf

__all__ = ["RecordsResult", "check_records"]

LOG = CREDIT_RECORDS_LOG


@dataclass
class RecordsResult:
    leaves: int = 0
    versions: int = 0
    openings: int = 0
    checked: bool = False


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


def _record_leaves(decoded: Mapping[int, DecodedLeaf], findings: list[Finding]) -> dict[int, RecordLeaf]:
    out: dict[int, RecordLeaf] = {}
    logged: dict[tuple[str, int], int] = {}
    for index in sorted(decoded):
        try:
            leaf = parse_record_leaf(index, decoded[index].payload)
        except PayloadProblem as exc:
            findings.append(
                Finding(Step.LEAF, LOG, index, f"record leaf field {exc.field}", exc.expected, exc.got)
            )
            continue
        out[index] = leaf
        earlier = logged.setdefault((leaf.record_id, leaf.version), index)
        if earlier != index:
            findings.append(
                Finding(
                    Step.RECORD_COMPLETENESS,
                    LOG,
                    index,
                    f"record {leaf.record_id} version {leaf.version} is logged again (first at {earlier})",
                )
            )
    return out


def _version(
    v: StoredVersion, leaves: Mapping[int, RecordLeaf], leaf_bytes: Sequence[bytes], findings: list[Finding]
) -> RecordLeaf | None:
    """5.1 the stored version against its leaf."""
    leaf = leaves.get(v.log_seq)
    name = f"record {v.record_id} version {v.version}"
    if leaf is None:
        findings.append(
            Finding(
                Step.RECORD_VERSION, LOG, v.log_seq, f"{name} points at a log entry that holds no record leaf"
            )
        )
        return None
    if (leaf.record_id, leaf.version) != (v.record_id, v.version):
        findings.append(
            Finding(
                Step.RECORD_VERSION,
                LOG,
                v.log_seq,
                f"{name}: its log entry is about another record version",
                f"{v.record_id} v{v.version}",
                f"{leaf.record_id} v{leaf.version}",
            )
        )
    if leaf.commitment != v.commitment:
        findings.append(
            Finding(
                Step.RECORD_VERSION,
                LOG,
                v.log_seq,
                f"{name}: stored commitment differs from the logged one",
                _hex(leaf.commitment),
                _hex(v.commitment),
            )
        )
    if v.log_seq < len(leaf_bytes):
        computed = hash_leaf(leaf_bytes[v.log_seq])
        if computed != v.leaf_hash:
            findings.append(
                Finding(
                    Step.RECORD_VERSION,
                    LOG,
                    v.log_seq,
                    f"{name}: stored leaf hash differs from the log entry's",
                    _hex(computed),
                    _hex(v.leaf_hash),
                )
            )
    return leaf


def _opening(v: StoredVersion, leaf: RecordLeaf, findings: list[Finding]) -> None:
    """5.3 SHA-256(salt ‖ RFC 8785 record document) is the logged commitment."""
    assert v.opening is not None
    name = f"record {v.record_id} version {v.version}"
    document = v.opening.document
    if document.get("record_id") != leaf.record_id or document.get("version") != leaf.version:
        findings.append(
            Finding(
                Step.RECORD_OPENING,
                LOG,
                v.log_seq,
                f"{name}: the opened record is another record version",
                f"{leaf.record_id} v{leaf.version}",
                f"{document.get('record_id')} v{document.get('version')}",
            )
        )
        return
    try:
        canonical = rfc8785.dumps(document)
    except Exception as exc:  # values RFC 8785 cannot represent
        findings.append(
            Finding(Step.RECORD_OPENING, LOG, v.log_seq, f"{name}: record not canonicalisable: {exc}")
        )
        return
    computed = hashlib.sha256(v.opening.salt + canonical).digest()
    if computed != leaf.commitment:
        findings.append(
            Finding(
                Step.RECORD_OPENING,
                LOG,
                v.log_seq,
                f"{name}: the stored record no longer matches its commitment",
                _hex(leaf.commitment),
                _hex(computed),
            )
        )


def check_records(
    decoded: Mapping[int, DecodedLeaf],
    leaf_bytes: Sequence[bytes],
    versions: Sequence[StoredVersion],
    findings: list[Finding],
    *,
    included: bool,
) -> RecordsResult:
    """Steps 5.1-5.3; `included` says the export claims to carry every stored version."""
    leaves = _record_leaves(decoded, findings)
    result = RecordsResult(leaves=len(leaves), versions=len(versions), checked=included)
    if not included:
        return result
    stored_at: dict[int, StoredVersion] = {}
    stored_as: dict[tuple[str, int], StoredVersion] = {}
    for v in versions:
        name = f"record {v.record_id} version {v.version}"
        if v.log_seq in stored_at:
            findings.append(
                Finding(
                    Step.RECORD_COMPLETENESS,
                    LOG,
                    v.log_seq,
                    f"{name}: a second stored version for this log entry",
                )
            )
            continue
        if (v.record_id, v.version) in stored_as:
            findings.append(Finding(Step.RECORD_COMPLETENESS, LOG, v.log_seq, f"{name} is stored twice"))
            continue
        stored_at[v.log_seq] = v
        stored_as[(v.record_id, v.version)] = v
        leaf = _version(v, leaves, leaf_bytes, findings)
        if leaf is not None and v.opening is not None:
            result.openings += 1
            _opening(v, leaf, findings)
    # 5.2 every record leaf has its stored version
    for index, leaf in leaves.items():
        if index not in stored_at:
            findings.append(
                Finding(
                    Step.RECORD_COMPLETENESS,
                    LOG,
                    index,
                    f"record {leaf.record_id} version {leaf.version} is logged but not stored",
                    "a stored version",
                    "none",
                )
            )
    return result
