"""A tree built leaf by leaf in O(log n) memory, for checking anchored roots while streaming.

An auditor reading a log of tens of millions of entries needs its root at each
checkpoint size and the consistency proof between consecutive checkpoints, and nothing
else. `MerkleTree` keeps every complete subtree (about 64 bytes a leaf); `StreamedTree`
keeps only the right edge of the tree built so far (one hash per set bit of its size,
at most 64) and the perfect subtrees that those roots and proofs are made of, which the
caller names up front by their sizes. Roots and proofs come out of the RFC's own
recursion (`_subproof`), fed from the kept subtrees, so they are the ones `MerkleTree`
gives for the same leaves.
"""

from __future__ import annotations

from collections.abc import Iterable

from ledger.merkle.rfc9162 import (
    EMPTY_ROOT,
    InvalidSizeError,
    _check_available,
    _check_hash,
    _check_sizes,
    _subproof,
    fold_right,
    hash_children,
    perfect_parts,
)

__all__ = ["StreamedTree"]

Node = tuple[int, int]  # (level, position) of an aligned perfect subtree


def _proof_nodes(size1: int, size2: int) -> list[Node]:
    """The perfect subtrees the consistency proof size1 -> size2 is folded from."""
    ranges: list[tuple[int, int]] = []

    def record(lo: int, hi: int) -> bytes:
        ranges.append((lo, hi))
        return b""

    _subproof(size1, 0, size2, record)
    return [node for lo, hi in ranges for node in perfect_parts(lo, hi)]


class StreamedTree:
    """Appends leaf hashes; answers roots and consistency proofs at sizes named up front.

    `roots_at`: sizes whose root will be asked for; `proofs_between`: (size1, size2)
    pairs whose consistency proof will be. Holds O(log n) hashes per named size.
    """

    __slots__ = ("_edge", "_kept", "_size", "_wanted")

    def __init__(self, roots_at: Iterable[int] = (), proofs_between: Iterable[tuple[int, int]] = ()) -> None:
        wanted: set[Node] = set()
        for size in roots_at:
            if size > 0:
                wanted.update(perfect_parts(0, size))
        for size1, size2 in proofs_between:
            if 0 < size1 < size2:
                wanted.update(_proof_nodes(size1, size2))
        self._wanted = wanted
        self._kept: dict[Node, bytes] = {}
        self._edge: list[tuple[int, bytes]] = []  # (level, hash) of the right edge, largest first
        self._size = 0

    @property
    def size(self) -> int:
        """The number of leaves appended so far."""
        return self._size

    def append(self, leaf_hash: bytes) -> None:
        """Append one leaf hash: about one hash per leaf, plus a set lookup per completed subtree."""
        _check_hash(leaf_hash, "leaf hash")
        index, edge, wanted = self._size, self._edge, self._wanted
        node, level = leaf_hash, 0
        while True:
            if wanted and (level, index >> level) in wanted:
                self._kept[(level, index >> level)] = node
            if not edge or edge[-1][0] != level:
                break
            node = hash_children(edge.pop()[1], node)
            level += 1
        edge.append((level, node))
        self._size = index + 1

    def _subtree(self, lo: int, hi: int) -> bytes:
        try:
            return fold_right([self._kept[node] for node in perfect_parts(lo, hi)])
        except KeyError:
            raise InvalidSizeError(f"the subtree of leaves {lo}..{hi - 1} was not named up front") from None

    def root(self, size: int | None = None) -> bytes:
        """The root at `size` (default: of the leaves so far); `size` must have been named."""
        if size is None or size == self._size:
            return fold_right([h for _, h in self._edge]) if self._edge else EMPTY_ROOT
        if size < 0:
            raise InvalidSizeError(f"tree size must be non-negative, got {size}")
        _check_available(size, self._size)
        return EMPTY_ROOT if size == 0 else self._subtree(0, size)

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        """The RFC 9162 consistency proof size1 -> size2, as `MerkleTree.consistency_proof` gives it."""
        _check_sizes(size1, size2)
        _check_available(size2, self._size)
        if size1 == 0 or size1 == size2:
            return []
        return _subproof(size1, 0, size2, self._subtree)
