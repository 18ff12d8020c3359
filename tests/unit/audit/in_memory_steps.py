"""The verifier's steps 3 and 5 as they were before they streamed: every entry in memory.

A test oracle only (`test_streamed_equals_in_memory`): the streamed steps must find exactly
what these find on any export. Kept verbatim from the in-memory verifier, so that a
difference is the streamed code's.
"""

# ruff: noqa
# mypy: ignore-errors
from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Mapping, Sequence

import rfc8785

from ledger.audit.chain import ChainSnapshot
from ledger.audit.export import ExportedEntry, StoredVersion
from ledger.audit.findings import Finding, Step
from ledger.audit.leaves import (
    LEAF_TYPES,
    OTHER_LEAF_TYPES,
    DecodedLeaf,
    LeafProblem,
    PayloadProblem,
    RecordLeaf,
    decode_leaf,
    parse_record_leaf,
)
from ledger.audit.verify_logs import LogResult, _history, _roots
from ledger.audit.verify_records import RecordsResult, _hex, _opening
from ledger.merkle.rfc9162 import hash_leaf

LOG = "credit-records"


def _ordered(name: str, entries: Sequence[ExportedEntry], findings: list[Finding]) -> dict[int, bytes]:
    """Step 3.1: the served entries by sequence number, each served once."""
    by_seq: dict[int, bytes] = {}
    for e in entries:
        first = by_seq.get(e.seq)
        if first is None:
            by_seq[e.seq] = e.leaf
            continue
        findings.append(
            Finding(
                Step.SEQUENCE,
                name,
                e.seq,
                "sequence number served twice" + ("" if first == e.leaf else ", with different leaves"),
                "each sequence number once",
                "a second entry",
            )
        )
    return by_seq


def _gaps(name: str, by_seq: dict[int, bytes], findings: list[Finding]) -> int:
    """Step 3.1: report every gap; returns the length of the contiguous prefix."""
    if not by_seq:
        return 0
    top = max(by_seq)
    contiguous = None
    seq = 0
    while seq <= top:
        if seq in by_seq:
            seq += 1
            continue
        end = seq
        while end + 1 <= top and end + 1 not in by_seq:
            end += 1
        if contiguous is None:
            contiguous = seq
        findings.append(
            Finding(
                Step.SEQUENCE,
                name,
                seq,
                f"entries {seq}..{end} are missing" if end > seq else f"entry {seq} is missing",
                f"entry {seq} after entry {seq - 1}" if seq else "entry 0 first",
                f"next served entry {end + 1}",
            )
        )
        seq = end + 1
    return top + 1 if contiguous is None else contiguous


def served(entries: Sequence[ExportedEntry]) -> dict[int, bytes]:
    """The leaf served at each sequence number (the first, when one is served twice)."""
    by_seq: dict[int, bytes] = {}
    for e in entries:
        by_seq.setdefault(e.seq, e.leaf)
    return by_seq


class DecodedLeaves(Mapping[int, DecodedLeaf]):
    """The leaves of the log's own type, by index, decoded again when asked for.

    Holding every decoded leaf (a payload dict each, ~750 bytes an entry of the record
    log) would cost more than the leaf bytes themselves, which the export holds anyway;
    so only the indices are kept, and a leaf is decoded from its bytes (or taken from
    `predecoded`) on access: the same `DecodedLeaf` the check saw.
    """

    def __init__(
        self, by_seq: Mapping[int, bytes], predecoded: Mapping[int, DecodedLeaf | str] | None
    ) -> None:
        self._by_seq = by_seq
        self._predecoded = predecoded
        self._indices: dict[int, None] = {}  # ordered like the dict it replaces

    def add(self, seq: int) -> None:
        self._indices[seq] = None

    def __getitem__(self, seq: int) -> DecodedLeaf:
        if seq not in self._indices:
            raise KeyError(seq)
        known = None if self._predecoded is None else self._predecoded.get(seq)
        return known if isinstance(known, DecodedLeaf) else decode_leaf(self._by_seq[seq])

    def __iter__(self) -> Iterator[int]:
        return iter(self._indices)

    def __len__(self) -> int:
        return len(self._indices)


def _leaves(
    name: str,
    by_seq: dict[int, bytes],
    findings: list[Finding],
    predecoded: Mapping[int, DecodedLeaf | str] | None,
) -> DecodedLeaves:
    """Step 3.2: canonical leaves carrying the log's type tag and their own index.

    `predecoded` holds leaves decoded elsewhere (`ledger.audit.examine`): a decoded leaf,
    or why it does not decode.
    """
    expected_type = LEAF_TYPES.get(name)
    decoded = DecodedLeaves(by_seq, predecoded)
    for seq in sorted(by_seq):
        known = None if predecoded is None else predecoded.get(seq)
        if isinstance(known, str):
            findings.append(Finding(Step.LEAF, name, seq, known))
            continue
        try:
            leaf = known if known is not None else decode_leaf(by_seq[seq])
        except LeafProblem as exc:
            findings.append(Finding(Step.LEAF, name, seq, str(exc)))
            continue
        if leaf.seq != seq:
            findings.append(
                Finding(Step.LEAF, name, seq, "leaf carries another sequence number", str(seq), str(leaf.seq))
            )
        if leaf.type in OTHER_LEAF_TYPES.get(name, ()):
            continue  # a documented leaf of another kind: in the roots, not a record
        if expected_type is not None and leaf.type != expected_type:
            findings.append(Finding(Step.LEAF, name, seq, "leaf of another type", expected_type, leaf.type))
            continue
        decoded.add(seq)
    return decoded


def check_log(
    name: str,
    entries: Sequence[ExportedEntry],
    snapshot: ChainSnapshot,
    findings: list[Finding],
    *,
    declared_size: int | None = None,
    predecoded: Mapping[int, DecodedLeaf | str] | None = None,
) -> LogResult:
    """Steps 2.1-3.5 for log `name`; appends findings, returns what later steps need.

    `predecoded`: leaves already decoded (see `_leaves`), so they are not decoded twice.
    """
    statuses = _history(name, snapshot, findings)
    anchored = statuses[-1].size if statuses else 0
    by_seq = _ordered(name, entries, findings)
    contiguous = _gaps(name, by_seq, findings)
    started = time.perf_counter()
    decoded = _leaves(name, by_seq, findings, predecoded)
    leaf_seconds = time.perf_counter() - started
    leaves = [by_seq[i] for i in range(contiguous)]
    started = time.perf_counter()
    _roots(name, [hash_leaf(leaf) for leaf in leaves], statuses, findings)
    merkle_seconds = time.perf_counter() - started
    # 3.5 every anchored entry served (and every entry the export says it holds)
    served_end = max(by_seq) + 1 if by_seq else 0
    if served_end < anchored:
        findings.append(
            Finding(
                Step.COMPLETENESS,
                name,
                served_end,
                f"the chain anchors {anchored} entries but only {served_end} are served",
                str(anchored),
                str(served_end),
            )
        )
    if declared_size is not None and len(by_seq) != declared_size:
        findings.append(
            Finding(
                Step.COMPLETENESS,
                name,
                None,
                "the export does not hold the number of entries its header declares",
                str(declared_size),
                str(len(by_seq)),
            )
        )
    return (
        decoded,
        leaves,
        LogResult(
            name=name,
            served=len(by_seq),
            contiguous=contiguous,
            anchored_size=anchored,
            unanchored=sum(1 for seq in by_seq if seq >= anchored),
            checkpoints=statuses,
            merkle_seconds=merkle_seconds,
            leaf_seconds=leaf_seconds,
        ),
    )


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
