"""Small hand-made exports and snapshots for the pure steps (no chain, no database)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ledger.audit.chain import ChainSnapshot, CheckpointRecord
from ledger.audit.export import ExportedEntry
from ledger.audit.progress import ProgressTask
from ledger.logs.leaves import encode_leaf
from ledger.merkle.rfc9162 import MerkleTree, hash_leaf

LOG = "test-log"


def leaves(n: int, log: str = LOG, type_tag: str = "entry") -> list[bytes]:
    return [encode_leaf(type_tag, i, {"n": i}) for i in range(n)]


def entries(data: list[bytes], log: str = LOG) -> list[ExportedEntry]:
    return [ExportedEntry(log, i, leaf) for i, leaf in enumerate(data)]


def snapshot(
    data: list[bytes], sizes: list[int], log: str = LOG, *, latest: tuple[int, bytes] | None = None
) -> ChainSnapshot:
    """A chain that anchored `data` at `sizes`."""
    tree = MerkleTree(hash_leaf(leaf) for leaf in data)
    records, previous = [], 0
    for block, size in enumerate(sizes, start=10):
        records.append(
            CheckpointRecord(previous, size, tree.root(size), "0x" + "00" * 20, block, bytes(32), 0)
        )
        previous = size
    last = (
        latest if latest is not None else ((sizes[-1], tree.root(sizes[-1])) if sizes else (0, tree.root(0)))
    )
    return ChainSnapshot(
        chain_id=31337,
        head=100,
        deployment_block=1,
        addresses={},
        missing_code=(),
        checkpoints={log: tuple(records)},
        latest={log: last},
        events=(),
    )


class RecordingProgress:
    """A `Progress` that keeps each task's description and total, and how far each advanced."""

    def __init__(self) -> None:
        self.tasks: list[tuple[str, int | None]] = []
        self.advanced: dict[str, int] = {}

    @contextmanager
    def task(self, description: str, total: int | None) -> Iterator[ProgressTask]:
        self.tasks.append((description, total))
        self.advanced.setdefault(description, 0)
        yield _Task(self, description)


class _Task:
    def __init__(self, progress: RecordingProgress, description: str) -> None:
        self._progress = progress
        self._description = description

    def advance(self, n: int = 1) -> None:
        self._progress.advanced[self._description] += n
