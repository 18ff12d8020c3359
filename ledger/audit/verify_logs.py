"""Steps 2 and 3: the checkpoint history on chain, and the entries against it.

For each log: the CheckpointAnchored events must chain up (2.1) and end at what
`Checkpoints.latest` holds (2.2); the served entries must be numbered 0..n-1 (3.1),
each leaf canonical with the log's type tag and its own index inside (3.2); the
entries must rebuild the root anchored at every checkpoint (3.3); consecutive
checkpoints must be provably consistent (3.4); and no anchored entry may be missing
(3.5).

Step 3.4 computes each RFC 9162 consistency proof from the served entries and checks it
against the two anchored roots with the RFC's algorithm. Where 3.3 already rebuilt
both roots the proof must verify; it is still checked, because it is the evidence an
outside CT tool would ask for, and it costs O(log n) per checkpoint.

Entries past the latest checkpoint are not anchored yet: they are counted and reported
as such, and only the per-entry steps (4, 5) vouch for them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from ledger.audit.chain import ChainSnapshot
from ledger.audit.export import ExportedEntry
from ledger.audit.findings import Finding, Step
from ledger.audit.leaves import LEAF_TYPES, OTHER_LEAF_TYPES, DecodedLeaf, LeafProblem, decode_leaf
from ledger.merkle.compact_range import StreamedTree
from ledger.merkle.rfc9162 import EMPTY_ROOT, MerkleError, hash_leaf, verify_consistency

__all__ = ["CheckpointStatus", "DecodedLeaves", "LogResult", "check_log", "served"]


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


@dataclass
class CheckpointStatus:
    previous_size: int
    size: int
    root: bytes
    block: int
    transaction_hash: bytes
    rebuilt: bool | None = None  # None: entries missing, cannot be rebuilt
    consistent: bool | None = None  # None: not checkable (a root did not rebuild)


@dataclass
class LogResult:
    name: str
    served: int  # distinct sequence numbers served
    contiguous: int  # entries 0..contiguous-1 are all served
    anchored_size: int
    unanchored: int  # entries served past the latest checkpoint
    checkpoints: list[CheckpointStatus]
    #: decoded leaves whose type tag is the log's, by index
    decoded: Mapping[int, DecodedLeaf] = field(default_factory=dict)
    #: exact leaf bytes of the contiguous prefix, by index
    leaves: list[bytes] = field(default_factory=list)
    merkle_seconds: float = 0.0
    leaf_seconds: float = 0.0


def _history(name: str, snapshot: ChainSnapshot, findings: list[Finding]) -> list[CheckpointStatus]:
    """Step 2: the chain's checkpoints of log `name` chain up and end at `latest`."""
    statuses: list[CheckpointStatus] = []
    size = 0
    for c in snapshot.checkpoints.get(name, ()):
        # 2.1 each event grows the log from the previous one
        if c.previous_size != size or c.size <= c.previous_size:
            findings.append(
                Finding(
                    Step.CHECKPOINT_HISTORY,
                    name,
                    None,
                    f"checkpoint in block {c.block} does not extend the previous one",
                    f"growth from {size}",
                    f"{c.previous_size} -> {c.size}",
                )
            )
        size = c.size
        statuses.append(CheckpointStatus(c.previous_size, c.size, c.root, c.block, c.transaction_hash))
    # 2.2 the contract's latest checkpoint is the last event's
    latest = snapshot.latest.get(name)
    last = (statuses[-1].size, statuses[-1].root) if statuses else (0, EMPTY_ROOT)
    if latest is not None and latest != last:
        findings.append(
            Finding(
                Step.CHECKPOINT_LATEST,
                name,
                None,
                "Checkpoints.latest differs from the last CheckpointAnchored event",
                f"size {last[0]} root {_hex(last[1])}",
                f"size {latest[0]} root {_hex(latest[1])}",
            )
        )
    return statuses


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


def _roots(name: str, leaves: list[bytes], statuses: list[CheckpointStatus], findings: list[Finding]) -> None:
    """Steps 3.3 and 3.4 over the contiguous prefix `leaves`.

    The tree is built leaf by leaf keeping only the subtrees the anchored roots and the
    proofs between consecutive checkpoints are made of (`StreamedTree`), not every node.
    """
    sizes = [s.size for s in statuses]
    tree = StreamedTree(roots_at=sizes, proofs_between=zip([0, *sizes], sizes, strict=False))
    for leaf in leaves:
        tree.append(hash_leaf(leaf))
    first_bad: CheckpointStatus | None = None
    later_bad = 0
    good_before = 0
    for status in statuses:
        if status.size > tree.size:
            continue  # reported by step 3.5 (or 3.1 for a gap)
        status.rebuilt = tree.root(status.size) == status.root
        if status.rebuilt:
            if first_bad is None:
                good_before = status.size
        elif first_bad is None:
            first_bad = status
        else:
            later_bad += 1
    if first_bad is not None:
        more = f"; {later_bad} later checkpoint(s) fail as well" if later_bad else ""
        findings.append(
            Finding(
                Step.ROOT,
                name,
                good_before,
                f"entries {good_before}..{first_bad.size - 1} do not rebuild the root anchored in "
                f"block {first_bad.block} at size {first_bad.size}{more}",
                _hex(first_bad.root),
                _hex(tree.root(first_bad.size)),
            )
        )
    previous: CheckpointStatus | None = None
    for status in statuses:
        prev_ok = previous is None or previous.rebuilt
        if status.rebuilt and prev_ok:
            size1, root1 = (0, EMPTY_ROOT) if previous is None else (previous.size, previous.root)
            try:
                verify_consistency(
                    size1, status.size, root1, status.root, tree.consistency_proof(size1, status.size)
                )
                status.consistent = True
            except MerkleError as exc:
                status.consistent = False
                findings.append(
                    Finding(
                        Step.CONSISTENCY,
                        name,
                        None,
                        f"checkpoints {size1} -> {status.size} (block {status.block}) not consistent: {exc}",
                    )
                )
        previous = status


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
    _roots(name, leaves, statuses, findings)
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
    return LogResult(
        name=name,
        served=len(by_seq),
        contiguous=contiguous,
        anchored_size=anchored,
        unanchored=sum(1 for seq in by_seq if seq >= anchored),
        checkpoints=statuses,
        decoded=decoded,
        leaves=leaves,
        merkle_seconds=merkle_seconds,
        leaf_seconds=leaf_seconds,
    )
