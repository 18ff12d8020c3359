"""Step 5: the records table still matches the credit-record log.

The export carries, for each stored record version, what the records table says about
it (record id, version, log index, commitment, leaf hash) — no field values. Each must
match its leaf (5.1); every record leaf must have exactly one stored version, and no
(record, version) may be logged twice (5.2). With openings (an operator's export with
database access and the record keys) the commitment is recomputed from the salt and
the record document, canonicalised here with RFC 8785 (5.3).

The record log and the stored versions stream by and neither is held: of each record
leaf the step keeps its index and two 8-byte BLAKE2b digests, of (record id, version)
and of (record id, version, commitment), and of each stored version the same three
numbers, 24 bytes an entry in arrays. The join and the duplicate searches are sorts over
those arrays (numpy); only where digests disagree or repeat are the leaves concerned read
again from the export, to name what differs exactly as a side-by-side comparison would.
Two different records would share a digest with odds of 2^-64 per pair.
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import rfc8785

from ledger.audit.export import StoredVersion
from ledger.audit.findings import Finding, Step
from ledger.audit.leaves import CREDIT_RECORDS_LOG, DecodedLeaf, PayloadProblem, RecordLeaf, parse_record_leaf

__all__ = ["RecordLeaves", "RecordsResult", "check_records"]

LOG = CREDIT_RECORDS_LOG


@dataclass
class RecordsResult:
    leaves: int = 0
    versions: int = 0
    openings: int = 0
    checked: bool = False


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


def _digests(record_id: str, version: int, commitment: bytes) -> tuple[int, int]:
    """8-byte digests of (record id, version) and of (record id, version, commitment)."""
    text = record_id.encode("utf-8", "surrogatepass")
    key = hashlib.blake2b(len(text).to_bytes(8, "big") + text + version.to_bytes(16, "big"), digest_size=8)
    full = key.copy()
    full.update(commitment)
    return int.from_bytes(key.digest(), "big"), int.from_bytes(full.digest(), "big")


@dataclass
class RecordLeaves:
    """What step 5 keeps of the record log's leaves as they stream by: 24 bytes a record leaf."""

    seqs: array[int] = field(default_factory=lambda: array("Q"))
    keys: array[int] = field(default_factory=lambda: array("Q"))
    fulls: array[int] = field(default_factory=lambda: array("Q"))
    problems: list[tuple[int, Finding]] = field(default_factory=list)

    def add(self, index: int, decoded: DecodedLeaf) -> None:
        """A first-served leaf of the record log's type, at `index`."""
        try:
            leaf = parse_record_leaf(index, decoded.payload)
        except PayloadProblem as exc:
            self.problems.append(
                (
                    index,
                    Finding(Step.LEAF, LOG, index, f"record leaf field {exc.field}", exc.expected, exc.got),
                )
            )
            return
        key, full = _digests(leaf.record_id, leaf.version, leaf.commitment)
        self.seqs.append(index)
        self.keys.append(key)
        self.fulls.append(full)


#: record leaves of the log read again, by index: for the few the digests cannot settle
Resolve = Callable[[Collection[int]], Mapping[int, RecordLeaf]]
#: the leaf hash first served at an index of the log's contiguous prefix, None past it
LeafHashAt = Callable[[int], bytes | None]

_U64 = npt.NDArray[np.uint64]


def _u64(values: array[int]) -> _U64:
    return np.frombuffer(values, dtype=np.uint64) if len(values) else np.zeros(0, dtype=np.uint64)


def _repeated(values: _U64) -> npt.NDArray[np.bool_]:
    """Where `values` holds a value that occurs more than once."""
    if len(values) < 2:
        return np.zeros(len(values), dtype=np.bool_)
    order = np.argsort(values, kind="stable")
    ranked = values[order]
    same = ranked[1:] == ranked[:-1]
    marked = np.zeros(len(values), dtype=np.bool_)
    marked[order[1:][same]] = True
    marked[order[:-1][same]] = True
    return marked


def _version(v: StoredVersion, leaf: RecordLeaf | None, leaf_hash: bytes | None) -> list[Finding]:
    """5.1 the stored version against its leaf (`leaf_hash`: the entry's, when in the contiguous prefix)."""
    name = f"record {v.record_id} version {v.version}"
    if leaf is None:
        return [
            Finding(
                Step.RECORD_VERSION, LOG, v.log_seq, f"{name} points at a log entry that holds no record leaf"
            )
        ]
    out: list[Finding] = []
    if (leaf.record_id, leaf.version) != (v.record_id, v.version):
        out.append(
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
        out.append(
            Finding(
                Step.RECORD_VERSION,
                LOG,
                v.log_seq,
                f"{name}: stored commitment differs from the logged one",
                _hex(leaf.commitment),
                _hex(v.commitment),
            )
        )
    if leaf_hash is not None and leaf_hash != v.leaf_hash:
        out.append(
            Finding(
                Step.RECORD_VERSION,
                LOG,
                v.log_seq,
                f"{name}: stored leaf hash differs from the log entry's",
                _hex(leaf_hash),
                _hex(v.leaf_hash),
            )
        )
    return out


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


def _logged_again(leaves: RecordLeaves, resolve: Resolve) -> list[tuple[int, Finding]]:
    """5.2 no (record, version) logged twice: each later leaf of one, with the first's index."""
    suspects = sorted(int(s) for s in _u64(leaves.seqs)[_repeated(_u64(leaves.keys))])
    if not suspects:
        return []
    read = resolve(suspects)
    first: dict[tuple[str, int], int] = {}
    out: list[tuple[int, Finding]] = []
    for index in suspects:
        leaf = read[index]
        earlier = first.setdefault((leaf.record_id, leaf.version), index)
        if earlier != index:
            out.append(
                (
                    index,
                    Finding(
                        Step.RECORD_COMPLETENESS,
                        LOG,
                        index,
                        f"record {leaf.record_id} version {leaf.version} is logged again "
                        f"(first at {earlier})",
                    ),
                )
            )
    return out


def check_records(
    leaves: RecordLeaves,
    versions: Callable[[], Iterable[StoredVersion]],
    findings: list[Finding],
    *,
    included: bool,
    leaf_hash_at: LeafHashAt,
    resolve: Resolve,
) -> RecordsResult:
    """Steps 5.1-5.3; `included` says the export claims to carry every stored version.

    `versions` gives the stored versions in the export's order each time it is called
    (once, or twice when some need a closer look); `resolve` reads record leaves again.
    """
    leaf_seqs, leaf_fulls = _u64(leaves.seqs), _u64(leaves.fulls)
    if len(leaf_seqs) > 1 and not bool((leaf_seqs[1:] > leaf_seqs[:-1]).all()):  # served out of order
        order = np.argsort(leaf_seqs, kind="stable")
        leaf_seqs, leaf_fulls = leaf_seqs[order], leaf_fulls[order]
    own = sorted([*leaves.problems, *_logged_again(leaves, resolve)], key=lambda pair: pair[0])
    findings.extend(f for _, f in own)
    result = RecordsResult(leaves=len(leaf_seqs), checked=included)
    if not included:
        result.versions = sum(1 for _ in versions())
        return result
    # first pass: each stored version's index and digests
    v_seqs, v_keys, v_fulls = array("Q"), array("Q"), array("Q")
    hashes_differ: list[int] = []  # positions whose stored leaf hash is not the entry's
    openings = False
    for position, v in enumerate(versions()):
        key, full = _digests(v.record_id, v.version, v.commitment)
        v_seqs.append(v.log_seq)
        v_keys.append(key)
        v_fulls.append(full)
        leaf_hash = leaf_hash_at(v.log_seq)
        if leaf_hash is not None and leaf_hash != v.leaf_hash:
            hashes_differ.append(position)
        openings = openings or v.opening is not None
    result.versions = len(v_seqs)
    seqs = _u64(v_seqs)
    at = np.searchsorted(leaf_seqs, seqs)
    found = at < len(leaf_seqs)
    found[found] = leaf_seqs[at[found]] == seqs[found]
    agrees = found.copy()
    agrees[found] = leaf_fulls[at[found]] == _u64(v_fulls)[found]
    agrees[hashes_differ] = False
    suspect = _repeated(seqs) | _repeated(_u64(v_keys))  # a second version of an entry or of a record
    del v_keys, v_fulls
    second: set[int] = set()
    closer = suspect | ~agrees
    if openings or closer.any():
        second = _second_pass(
            versions, closer, suspect, agrees, found, findings, result, leaf_hash_at, resolve
        )
    kept = found.copy()
    kept[list(second)] = False
    stored = np.zeros(len(leaf_seqs), dtype=np.bool_)
    stored[at[kept]] = True
    # 5.2 every record leaf has its stored version
    missing = [int(s) for s in leaf_seqs[~stored]]
    read = resolve(missing) if missing else {}
    for index in missing:
        leaf = read[index]
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


def _second_pass(
    versions: Callable[[], Iterable[StoredVersion]],
    closer: npt.NDArray[np.bool_],
    suspect: npt.NDArray[np.bool_],
    agrees: npt.NDArray[np.bool_],
    found: npt.NDArray[np.bool_],
    findings: list[Finding],
    result: RecordsResult,
    leaf_hash_at: LeafHashAt,
    resolve: Resolve,
) -> set[int]:
    """The versions the digests do not settle, and the openings, in order; returns the second versions.

    A version repeats no other's entry or record unless it is `suspect`, so the
    first-come rule replayed over the suspects alone finds exactly the second versions.
    """
    stored_at: set[int] = set()
    stored_as: set[tuple[str, int]] = set()
    second: set[int] = set()
    pending: list[tuple[StoredVersion, list[Finding] | None]] = []  # None: compare once its leaf is read
    for position, v in enumerate(versions()):
        if not closer[position] and v.opening is None:
            continue
        name = f"record {v.record_id} version {v.version}"
        if suspect[position]:
            repeated = (
                f"{name}: a second stored version for this log entry"
                if v.log_seq in stored_at
                else f"{name} is stored twice"
                if (v.record_id, v.version) in stored_as
                else None
            )
            if repeated is not None:
                pending.append((v, [Finding(Step.RECORD_COMPLETENESS, LOG, v.log_seq, repeated)]))
                second.add(position)
                continue
            stored_at.add(v.log_seq)
            stored_as.add((v.record_id, v.version))
        if not found[position]:
            pending.append((v, _version(v, None, None)))
        elif not agrees[position]:
            pending.append((v, None))
        elif v.opening is not None:
            result.openings += 1
            out: list[Finding] = []
            _opening(v, RecordLeaf(v.log_seq, v.record_id, v.version, v.commitment), out)
            if out:
                pending.append((v, out))
    unsettled = [v.log_seq for v, out in pending if out is None]
    read = resolve(unsettled) if unsettled else {}
    for v, ready in pending:
        if ready is None:
            leaf = read[v.log_seq]
            ready = _version(v, leaf, leaf_hash_at(v.log_seq))
            if v.opening is not None:
                result.openings += 1
                _opening(v, leaf, ready)
        findings.extend(ready)
    return second
