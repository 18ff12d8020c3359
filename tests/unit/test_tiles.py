"""Tiles (C2SP tlog-tiles) against the reference: the in-memory tree and the RFC 9162 vectors.

What an append derives from the frontier alone must be exactly the tiles of the tree,
however the leaves were batched; every root and proof read from those tiles must equal
`ledger.merkle.rfc9162`'s, for random sizes, indices and batchings (Hypothesis).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.logs.tiles import (
    TILE_WIDTH,
    FrontierError,
    TileKey,
    TileMissing,
    TileView,
    decode_index,
    encode_index,
    extend,
    frontier_heights,
    tile_path,
)
from ledger.merkle import rfc9162 as m
from ledger.merkle.rfc9162 import MerkleTree, verify_consistency, verify_inclusion

VECTORS = json.loads((Path(__file__).parent / "vectors" / "rfc9162.json").read_text())
CT_LEAVES = [m.hash_leaf(bytes.fromhex(x)) for x in VECTORS["leaves"]]


def leaves(n: int, salt: int = 0) -> list[bytes]:
    return [hashlib.sha256(f"{salt}:{i}".encode()).digest() for i in range(n)]


def tiles_of(hashes: Sequence[bytes], batches: Iterable[int]) -> tuple[dict[TileKey, bytes], bytes]:
    """Append `hashes` in batches of the given sizes (the rest in one), as the store would."""
    tiles: dict[TileKey, bytes] = {}
    size, frontier = 0, b""
    cuts = [*batches, len(hashes)]
    for cut in cuts:
        stop = min(len(hashes), size + cut) if cut != cuts[-1] else len(hashes)
        frontier, appends = extend(size, frontier, hashes[size:stop])
        for a in appends:
            stored = tiles.get((a.level, a.index), b"")
            assert len(stored) == a.offset * 32  # each append lands exactly at the tile's end
            tiles[(a.level, a.index)] = stored + a.hashes
        size = stop
    return tiles, frontier


def view(tiles: Mapping[TileKey, bytes], size: int, reads: list[set[TileKey]] | None = None) -> TileView:
    def fetch(keys: Iterable[TileKey]) -> dict[TileKey, bytes]:
        wanted = set(keys)
        if reads is not None:
            reads.append(wanted)
        return {k: tiles[k] for k in wanted if k in tiles}

    return TileView(fetch, size)


# --------------------------------------------------------------------------- RFC 9162 vectors


@pytest.mark.parametrize("case", VECTORS["roots"], ids=lambda c: f"size-{c['size']}")
def test_vector_roots_from_tiles(case: dict[str, Any]) -> None:
    tiles, _ = tiles_of(CT_LEAVES, [1, 2, 1])
    assert view(tiles, 8).root(case["size"]).hex() == case["root"]


@pytest.mark.parametrize(
    "case", [c for c in VECTORS["inclusion"] if c["want_err"] is None], ids=lambda c: c["desc"]
)
def test_vector_inclusion_from_tiles(case: dict[str, Any]) -> None:
    tiles, _ = tiles_of(CT_LEAVES, [3])
    proof = view(tiles, 8).inclusion_proof(case["index"], case["size"])
    assert proof == [bytes.fromhex(h) for h in case["proof"]]


@pytest.mark.parametrize(
    "case", [c for c in VECTORS["consistency"] if c["want_err"] is None], ids=lambda c: c["desc"]
)
def test_vector_consistency_from_tiles(case: dict[str, Any]) -> None:
    tiles, _ = tiles_of(CT_LEAVES, [5])
    proof = view(tiles, 8).consistency_proof(case["size1"], case["size2"])
    assert proof == [bytes.fromhex(h) for h in case["proof"]]


# --------------------------------------------------------------------------- properties

POOL = leaves(70_000)
REFERENCE = MerkleTree(POOL)


@st.composite
def log_and_batches(draw: st.DrawFn) -> tuple[int, list[int]]:
    size = draw(st.one_of(st.integers(1, 600), st.integers(1, len(POOL))))
    batches = draw(st.lists(st.integers(1, 3_000), max_size=6))
    return size, batches


@settings(max_examples=60, deadline=None)
@given(log_and_batches(), st.data())
def test_tiles_give_the_reference_tree_for_any_batching(
    shape: tuple[int, list[int]], data: st.DataObject
) -> None:
    size, batches = shape
    tiles, frontier = tiles_of(POOL[:size], batches)
    whole, whole_frontier = tiles_of(POOL[:size], [])
    assert (tiles, frontier) == (whole, whole_frontier)  # batching changes nothing
    assert len(frontier) == 32 * bin(size).count("1")
    for (level, index), stored in tiles.items():  # every stored hash is the tree's node there
        width = len(stored) // 32
        assert 1 <= width <= TILE_WIDTH and len(stored) % 32 == 0
        first = (index * TILE_WIDTH) << (8 * level)
        span = 1 << (8 * level)
        for offset in (0, width - 1):
            lo = first + offset * span
            assert stored[offset * 32 : offset * 32 + 32] == m.root(POOL[lo : lo + span])
    tree = view(tiles, size)
    for _ in range(3):
        n = data.draw(st.integers(1, size), label="n")
        index = data.draw(st.integers(0, n - 1), label="index")
        first = data.draw(st.integers(0, n), label="first")
        assert tree.root(n) == REFERENCE.root(n)
        assert tree.leaf_hash(index) == POOL[index]
        assert tree.inclusion_proof(index, n) == REFERENCE.inclusion_proof(index, n)
        assert tree.consistency_proof(first, n) == REFERENCE.consistency_proof(first, n)
        verify_inclusion(POOL[index], index, n, tree.inclusion_proof(index, n), REFERENCE.root(n))
        verify_consistency(
            first, n, REFERENCE.root(first), REFERENCE.root(n), tree.consistency_proof(first, n)
        )


def test_a_proof_reads_few_tiles_in_one_fetch() -> None:
    tiles, _ = tiles_of(POOL, [])
    reads: list[set[TileKey]] = []
    tree = view(tiles, len(POOL), reads)
    tree.inclusion_proof(12_345, len(POOL))
    tree.consistency_proof(40_000, len(POOL))
    assert len(reads) == 2  # one fetch per proof
    assert all(len(r) <= 2 * 3 for r in reads)  # at most two tiles a level, three levels here


def test_the_frontier_is_the_right_edge() -> None:
    assert frontier_heights(0) == []
    assert frontier_heights(13) == [3, 2, 0]
    _, frontier = tiles_of(POOL[:13], [])
    assert frontier == m.root(POOL[:8]) + m.root(POOL[8:12]) + POOL[12]


def test_a_damaged_frontier_or_store_is_refused() -> None:
    with pytest.raises(FrontierError, match="frontier of 2 hashes, got 32 bytes"):
        extend(3, b"x" * 32, POOL[:1])
    with pytest.raises(ValueError, match="leaf hash must be 32 bytes"):
        extend(0, b"", [b"short"])
    tiles, _ = tiles_of(POOL[:300], [])
    tiles[(0, 1)] = tiles[(0, 1)][:32]  # a partial tile cut short
    with pytest.raises(TileMissing, match="tile 0/1 holds 1 hashes"):
        view(tiles, 300).root(300)
    with pytest.raises(ValueError, match=r"outside 0\.\.300"):
        view(tiles, 300).root(301)


def test_tile_paths_are_the_tlog_tiles_spelling() -> None:
    assert encode_index(0) == "000"
    assert encode_index(1_234_067) == "x001/x234/067"
    assert tile_path(1, 1_234_067) == "tile/1/x001/x234/067"
    assert tile_path(0, 5, 7) == "tile/0/005.p/7"
    assert tile_path(0, 5, 256) == "tile/0/005"
    for n in (0, 7, 999, 1000, 123_456_789):
        assert decode_index(encode_index(n)) == n
    for bad in ("1", "0001", "x1/000", "001/002", "x001/", "abc"):
        with pytest.raises(ValueError):
            decode_index(bad)
