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

The entries stream by (`LogScan`, fed in the export's order) and are not kept: per
sequence number the scan holds one byte (served or not) and the leaf's 32-byte hash, from
which the roots and proofs are rebuilt once the log is read, so a log of n entries costs
33 bytes an entry whatever its leaves weigh. A sequence number far past every other
(more than a million past twice the dense range) is kept in a dictionary instead.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from ledger.audit.chain import ChainSnapshot
from ledger.audit.export import Export, ExportedEntry
from ledger.audit.findings import Finding, Step
from ledger.audit.leaves import LEAF_TYPES, OTHER_LEAF_TYPES, DecodedLeaf, LeafProblem, decode_leaf
from ledger.merkle.compact_range import StreamedTree
from ledger.merkle.rfc9162 import EMPTY_ROOT, MerkleError, hash_leaf, verify_consistency

__all__ = ["CheckpointStatus", "LogResult", "LogScan", "ServedLeaves", "check_log"]


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


#: how far past the dense range a sequence number may be and still grow it (bytes per entry: 33)
_GROW_SLACK = 1 << 20


class LogScan:
    """One log's entries as they stream by: steps 3.1 (duplicates) and 3.2, then `finish`.

    `add` takes each entry in the export's order and says whether its sequence number is
    served for the first time (later entries at a number are reported, never used);
    `leaf` checks a first-served leaf (3.2) and returns it when it is of the log's own
    type; `finish` reports the gaps (3.1) and runs steps 3.3-3.5 from the kept hashes.
    """

    def __init__(self, name: str, *, expected: int = 0) -> None:
        self.name = name
        self._seen = bytearray(expected)  # 1 where a sequence number is served
        self._hashes = bytearray(32 * expected)  # the leaf hash of each first-served one
        self._far: dict[int, bytes] = {}  # sequence numbers far past the dense range
        self.served = 0
        self.top = -1
        self._duplicates: list[Finding] = []
        self._leaf_findings: list[tuple[int, Finding]] = []
        self.leaf_seconds = 0.0

    def _grow(self, seq: int) -> bool:
        """Make the dense range hold `seq` if it is not far past it; False when it is."""
        size = len(self._seen)
        if seq >= 2 * size + _GROW_SLACK:
            return False
        new = max(seq + 1, 2 * size)
        self._seen.extend(bytes(new - size))
        self._hashes.extend(bytes(32 * (new - size)))
        for far in sorted(k for k in self._far if k < new):
            self._seen[far] = 1
            self._hashes[32 * far : 32 * far + 32] = self._far.pop(far)
        return True

    def add(self, entry: ExportedEntry) -> bool:
        """Take one entry; True when its sequence number is served here for the first time."""
        seq, leaf_hash = entry.seq, hash_leaf(entry.leaf)
        if seq < len(self._seen) or (seq not in self._far and self._grow(seq)):
            if self._seen[seq]:
                return self._duplicate(entry, bytes(self._hashes[32 * seq : 32 * seq + 32]), leaf_hash)
            self._seen[seq] = 1
            self._hashes[32 * seq : 32 * seq + 32] = leaf_hash
        else:
            first = self._far.get(seq)
            if first is not None:
                return self._duplicate(entry, first, leaf_hash)
            self._far[seq] = leaf_hash
        self.served += 1
        self.top = max(self.top, seq)
        return True

    def _duplicate(self, entry: ExportedEntry, first: bytes, leaf_hash: bytes) -> bool:
        self._duplicates.append(
            Finding(
                Step.SEQUENCE,
                self.name,
                entry.seq,
                "sequence number served twice" + ("" if first == leaf_hash else ", with different leaves"),
                "each sequence number once",
                "a second entry",
            )
        )
        return False

    def leaf(
        self, seq: int, data: bytes | None, known: DecodedLeaf | str | None = None
    ) -> DecodedLeaf | None:
        """Step 3.2 for the leaf first served at `seq`: canonical, its own index, the log's type.

        `known` is the leaf decoded elsewhere (`ledger.audit.examine`), or why it does not
        decode; otherwise `data` is decoded. Returns the leaf when it is of the log's type.
        """
        name = self.name
        if isinstance(known, str):
            self._leaf_findings.append((seq, Finding(Step.LEAF, name, seq, known)))
            return None
        started = time.perf_counter()
        try:
            leaf = known if known is not None else decode_leaf(data or b"")
        except LeafProblem as exc:
            self._leaf_findings.append((seq, Finding(Step.LEAF, name, seq, str(exc))))
            return None
        finally:
            self.leaf_seconds += time.perf_counter() - started
        if leaf.seq != seq:
            self._leaf_findings.append(
                (
                    seq,
                    Finding(
                        Step.LEAF, name, seq, "leaf carries another sequence number", str(seq), str(leaf.seq)
                    ),
                )
            )
        if leaf.type in OTHER_LEAF_TYPES.get(name, ()):
            return None  # a documented leaf of another kind: in the roots, not a record
        expected_type = LEAF_TYPES.get(name)
        if expected_type is not None and leaf.type != expected_type:
            self._leaf_findings.append(
                (seq, Finding(Step.LEAF, name, seq, "leaf of another type", expected_type, leaf.type))
            )
            return None
        return leaf

    def runs(self) -> Iterator[tuple[int, int]]:
        """The served sequence numbers as runs [start, end), in order."""
        seen, dense = self._seen, len(self._seen)
        pending: tuple[int, int] | None = None
        start = seen.find(1)
        while start != -1:
            end = seen.find(0, start)
            end = dense if end == -1 else end
            if pending is not None:
                yield pending
            pending = (start, end)
            start = seen.find(1, end)
        for seq in sorted(self._far):
            if pending is not None and pending[1] == seq:
                pending = (pending[0], seq + 1)
                continue
            if pending is not None:
                yield pending
            pending = (seq, seq + 1)
        if pending is not None:
            yield pending

    def hash_at(self, seq: int) -> bytes | None:
        """The leaf hash first served at `seq`, None when none is."""
        if seq < len(self._seen):
            return bytes(self._hashes[32 * seq : 32 * seq + 32]) if self._seen[seq] else None
        return self._far.get(seq)

    def _prefix_hashes(self, size: int) -> Iterator[bytes]:
        view = memoryview(self._hashes)
        dense = min(size, len(self._seen))
        for i in range(dense):
            yield bytes(view[32 * i : 32 * i + 32])
        for seq in range(dense, size):
            yield self._far[seq]

    def finish(
        self, snapshot: ChainSnapshot, findings: list[Finding], *, declared_size: int | None = None
    ) -> LogResult:
        """Steps 2.1-3.5 once every entry has been added; appends findings, returns the counts."""
        name = self.name
        statuses = _history(name, snapshot, findings)
        anchored = statuses[-1].size if statuses else 0
        findings.extend(self._duplicates)
        contiguous: int | None = None
        expected = 0
        unanchored = 0
        for start, end in self.runs():
            if start > expected:
                if contiguous is None:
                    contiguous = expected
                last = start - 1
                findings.append(
                    Finding(
                        Step.SEQUENCE,
                        name,
                        expected,
                        f"entries {expected}..{last} are missing"
                        if last > expected
                        else f"entry {expected} is missing",
                        f"entry {expected} after entry {expected - 1}" if expected else "entry 0 first",
                        f"next served entry {start}",
                    )
                )
            unanchored += max(0, end - max(start, anchored))
            expected = end
        size = (self.top + 1 if contiguous is None else contiguous) if self.served else 0
        findings.extend(f for _, f in sorted(self._leaf_findings, key=lambda pair: pair[0]))
        started = time.perf_counter()
        _roots(name, self._prefix_hashes(size), statuses, findings)
        merkle_seconds = time.perf_counter() - started
        # 3.5 every anchored entry served (and every entry the export says it holds)
        served_end = self.top + 1
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
        if declared_size is not None and self.served != declared_size:
            findings.append(
                Finding(
                    Step.COMPLETENESS,
                    name,
                    None,
                    "the export does not hold the number of entries its header declares",
                    str(declared_size),
                    str(self.served),
                )
            )
        return LogResult(
            name=name,
            served=self.served,
            contiguous=size,
            anchored_size=anchored,
            unanchored=unanchored,
            checkpoints=statuses,
            merkle_seconds=merkle_seconds,
            leaf_seconds=self.leaf_seconds,
        )


def _roots(
    name: str, leaf_hashes: Iterable[bytes], statuses: list[CheckpointStatus], findings: list[Finding]
) -> None:
    """Steps 3.3 and 3.4 over the leaf hashes of the contiguous prefix.

    The tree is built leaf by leaf keeping only the subtrees the anchored roots and the
    proofs between consecutive checkpoints are made of (`StreamedTree`), not every node.
    """
    sizes = [s.size for s in statuses]
    tree = StreamedTree(roots_at=sizes, proofs_between=zip([0, *sizes], sizes, strict=False))
    for leaf_hash in leaf_hashes:
        tree.append(leaf_hash)
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
    entries: Iterable[ExportedEntry],
    snapshot: ChainSnapshot,
    findings: list[Finding],
    *,
    declared_size: int | None = None,
    predecoded: Mapping[int, DecodedLeaf | str] | None = None,
) -> LogResult:
    """Steps 2.1-3.5 for log `name` over `entries` in the order served.

    `predecoded`: leaves already decoded (see `LogScan.leaf`), so they are not decoded twice.
    """
    scan = LogScan(name)
    for entry in entries:
        if scan.add(entry):
            scan.leaf(entry.seq, entry.leaf, None if predecoded is None else predecoded.get(entry.seq))
    return scan.finish(snapshot, findings, declared_size=declared_size)


class ServedLeaves(Sequence[bytes]):
    """The leaf bytes first served at 0..size-1 of one log, read from the export when asked.

    For a caller walking the log in order (step 6's sweep): the export is read forward
    and leaves served ahead of the one asked are held until asked, so an export written
    in order costs one leaf of memory; asking for an earlier index reads it again.
    """

    def __init__(self, export: Export, log: str, size: int) -> None:
        self._export, self._log, self._size = export, log, size
        self._restart()

    def _restart(self) -> None:
        self._entries = self._export.iter_entries([self._log])
        self._seen = bytearray()
        self._ahead: dict[int, bytes] = {}
        self._last = -1

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, index: int) -> bytes:  # type: ignore[override]  # no slices
        if not 0 <= index < self._size:
            raise IndexError(index)
        if index <= self._last:
            self._restart()
        self._last = index
        found = self._ahead.pop(index, None)
        if found is not None:
            return found
        for entry in self._entries:
            seq = entry.seq
            if seq >= self._size or (seq < len(self._seen) and self._seen[seq]):
                continue
            if seq >= len(self._seen):
                self._seen.extend(bytes(seq + 1 - len(self._seen)))
            self._seen[seq] = 1
            if seq == index:
                return entry.leaf
            if index < seq < self._size:
                self._ahead[seq] = entry.leaf
        raise IndexError(index)
