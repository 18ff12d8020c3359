"""A log's Merkle tree as C2SP tlog-tiles: what an append writes, and proofs from tiles.

Why: a process that keeps each log's whole tree in memory needs about 64 bytes a leaf
and must read every leaf hash on a cold start. Tiles persist the tree itself, so a
root, an inclusion proof or a consistency proof at any size reads O(log n) tiles and
nothing is held or read in proportion to the log's size.

The layout is C2SP tlog-tiles (https://c2sp.org/tlog-tiles): a tile at level L holds up
to 256 consecutive hashes of the tree's nodes at height 8·L (level 0: leaf hashes;
level 1: roots of the 256-leaf subtrees; ...); tile N of level L holds the hashes at
positions 256·N .. 256·N+255. A *partial* tile (fewer than 256) exists only at the
right edge, and each partial tile is a prefix of the full tile it grows into, so one
stored row per (level, N) serves every width up to what it holds. Hashes at heights
between multiples of 8 are recomputed from the (at most 128) tile hashes below them.

An append needs only the log's *frontier*: the roots of the perfect subtrees along
the right edge (one per set bit of the size, largest first, at most 64 hashes), kept
on the log's head row. From it and the new leaf hashes it derives every new node and
so the bytes to add at the end of each touched tile: no tile is read to write one.

The algorithms of RFC 9162 stay in `ledger.merkle.rfc9162` (the reference, which the
property tests compare this module with); here only the node ranges they visit are
computed, so that the tiles those nodes live in are fetched in one read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from ledger.merkle.rfc9162 import EMPTY_ROOT, HASH_SIZE, fold_right, hash_children, perfect_parts

__all__ = [
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "FrontierError",
    "TileAppend",
    "TileKey",
    "TileMissing",
    "TileView",
    "consistency_ranges",
    "decode_index",
    "encode_index",
    "extend",
    "frontier_heights",
    "inclusion_ranges",
    "perfect_subtrees",
    "tile_path",
]

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT  # 256 hashes a tile
_FULL_BYTES = TILE_WIDTH * HASH_SIZE

TileKey = tuple[int, int]  # (level, index)


class FrontierError(ValueError):
    """A frontier that does not fit its size: the log's head row is damaged."""


class TileMissing(LookupError):
    """A tile lacks hashes the tree of the requested size must have: the store is damaged."""


@dataclass(frozen=True)
class TileAppend:
    """Hashes to add at the end of tile (level, index), which held `offset` hashes before."""

    level: int
    index: int
    offset: int
    hashes: bytes


# --------------------------------------------------------------------------- writing


def frontier_heights(size: int) -> list[int]:
    """Heights of the perfect subtrees along the right edge of a tree of `size` leaves, largest first."""
    if size < 0:
        raise FrontierError(f"tree size must be non-negative, got {size}")
    return [h for h in range(size.bit_length() - 1, -1, -1) if size >> h & 1]


def extend(size: int, frontier: bytes, leaf_hashes: Sequence[bytes]) -> tuple[bytes, list[TileAppend]]:
    """Append `leaf_hashes` to a tree of `size` leaves whose right edge is `frontier`.

    Returns the new frontier and, per touched tile, the hashes to add at its end (in
    level, then index order). Costs about two hashes a leaf, whatever `size` is.
    """
    heights = frontier_heights(size)
    if len(frontier) != HASH_SIZE * len(heights):
        raise FrontierError(
            f"a tree of {size} leaves has a frontier of {len(heights)} hashes, got {len(frontier)} bytes"
        )
    stack = [(h, frontier[i * HASH_SIZE : (i + 1) * HASH_SIZE]) for i, h in enumerate(heights)]
    levels: dict[int, list[bytes]] = {0: []}
    level0 = levels[0]
    for leaf in leaf_hashes:
        if len(leaf) != HASH_SIZE:
            raise ValueError(f"leaf hash must be {HASH_SIZE} bytes, got {len(leaf)}")
        level0.append(leaf)
        node, height = leaf, 0
        while stack and stack[-1][0] == height:
            node = hash_children(stack.pop()[1], node)
            height += 1
            if height % TILE_HEIGHT == 0:
                levels.setdefault(height // TILE_HEIGHT, []).append(node)
        stack.append((height, node))
    appends: list[TileAppend] = []
    for level in sorted(levels):
        new = levels[level]
        position = size >> (TILE_HEIGHT * level)  # the level's first new hash
        done = 0
        while done < len(new):
            index, offset = divmod(position + done, TILE_WIDTH)
            take = min(TILE_WIDTH - offset, len(new) - done)
            appends.append(TileAppend(level, index, offset, b"".join(new[done : done + take])))
            done += take
    return b"".join(h for _, h in stack), appends


# --------------------------------------------------------------------------- node ranges


def _split(n: int) -> int:
    """RFC 9162's split point for n > 1: the largest power of two smaller than n."""
    return 1 << ((n - 1).bit_length() - 1)


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges [lo, hi) whose hashes form the audit path of `index` (RFC 9162 §2.1.3.1 order)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    out: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index - lo < k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo += k
    out.reverse()
    return out


def consistency_ranges(size1: int, size2: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes form the consistency proof size1 -> size2 (RFC 9162 §2.1.4.1)."""
    if not 0 <= size1 <= size2:
        raise ValueError(f"sizes must satisfy 0 <= size1 <= size2, got {size1}, {size2}")
    if size1 == 0 or size1 == size2:
        return []
    out: list[tuple[int, int]] = []
    m, lo, hi, complete = size1, 0, size2, True
    while True:
        n = hi - lo
        if m == n:
            if not complete:
                out.append((lo, hi))
            break
        k = _split(n)
        if m <= k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo += k
            m -= k
            complete = False
    out.reverse()
    return out


#: [lo, hi) as aligned perfect subtrees (height, position), left to right (the RFC module's)
perfect_subtrees = perfect_parts


def _tile_of(height: int, position: int) -> tuple[TileKey, int, int]:
    """The tile holding what node (height, position) is computed from, its first hash there, and how many."""
    level, rest = divmod(height, TILE_HEIGHT)
    first = position << rest
    index, offset = divmod(first, TILE_WIDTH)
    return (level, index), offset, 1 << rest


def tile_path(level: int, index: int, width: int | None = None) -> str:
    """The tlog-tiles path of a tile: `tile/<L>/<N>[.p/<W>]`, N in groups of three digits."""
    return f"tile/{level}/{encode_index(index)}" + (
        "" if width is None or width == TILE_WIDTH else f".p/{width}"
    )


def encode_index(index: int) -> str:
    """N as tlog-tiles writes it: zero-padded groups of three digits, all but the last prefixed with x."""
    groups = []
    while True:
        index, rest = divmod(index, 1000)
        groups.append(f"{rest:03d}")
        if index == 0:
            break
    groups.reverse()
    return "/".join([f"x{g}" for g in groups[:-1]] + [groups[-1]])


def decode_index(text: str) -> int:
    """The inverse of `encode_index`; ValueError on any other spelling."""
    parts = text.split("/")
    if not parts or any(len(p) != 4 or p[0] != "x" or not p[1:].isdigit() for p in parts[:-1]):
        raise ValueError(f"not a tile index: {text!r}")
    last = parts[-1]
    if len(last) != 3 or not last.isdigit():
        raise ValueError(f"not a tile index: {text!r}")
    value = 0
    for p in parts[:-1]:
        value = value * 1000 + int(p[1:])
    return value * 1000 + int(last)


# --------------------------------------------------------------------------- reading

TileFetch = Callable[[Iterable[TileKey]], Mapping[TileKey, bytes]]


class TileView:
    """Roots and proofs of the trees of up to `size` leaves, read from tiles through `fetch`.

    `fetch` returns the stored bytes of the tiles asked for (a tile missing from the
    answer is treated as empty). Each call reads the tiles it needs once: O(log n).
    """

    def __init__(self, fetch: TileFetch, size: int) -> None:
        self._fetch = fetch
        self.size = size

    def _check(self, size: int) -> None:
        if not 0 <= size <= self.size:
            raise ValueError(f"tree size {size} is outside 0..{self.size}")

    def _hashes(self, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
        nodes = [perfect_subtrees(lo, hi) for lo, hi in ranges]
        wanted = {_tile_of(h, p)[0] for parts in nodes for h, p in parts}
        tiles = self._fetch(wanted) if wanted else {}
        out = []
        for parts in nodes:
            out.append(fold_right([_node(tiles, h, p) for h, p in parts]))
        return out

    def root(self, size: int) -> bytes:
        self._check(size)
        return EMPTY_ROOT if size == 0 else self._hashes([(0, size)])[0]

    def leaf_hash(self, index: int) -> bytes:
        self._check(index + 1)
        return self._hashes([(index, index + 1)])[0]

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        self._check(size)
        return self._hashes(inclusion_ranges(index, size))

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        self._check(size2)
        return self._hashes(consistency_ranges(size1, size2))

    def inclusion_with_root(self, index: int, size: int) -> tuple[list[bytes], bytes]:
        """The audit path and the root at `size`, from one read of tiles."""
        self._check(size)
        ranges = inclusion_ranges(index, size)
        hashes = self._hashes([*ranges, (0, size)])
        return hashes[:-1], hashes[-1]


def _node(tiles: Mapping[TileKey, bytes], height: int, position: int) -> bytes:
    key, offset, count = _tile_of(height, position)
    data = tiles.get(key, b"")
    start, stop = offset * HASH_SIZE, (offset + count) * HASH_SIZE
    if len(data) < stop:
        raise TileMissing(
            f"tile {key[0]}/{key[1]} holds {len(data) // HASH_SIZE} hashes; "
            f"node at height {height}, position {position} needs {offset + count}"
        )
    row = [data[i : i + HASH_SIZE] for i in range(start, stop, HASH_SIZE)]
    while len(row) > 1:
        row = [hash_children(row[i], row[i + 1]) for i in range(0, len(row), 2)]
    return row[0]


def full_tile_bytes() -> int:
    """Bytes of a full tile (256 hashes)."""
    return _FULL_BYTES
