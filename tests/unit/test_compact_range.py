"""`StreamedTree` against the reference: the RFC 9162 vectors and `MerkleTree` for random sizes.

The auditor checks anchored roots and consistency proofs with `StreamedTree` instead of
a whole tree, so each must be exactly the reference's, and what was not named up front
must be refused, never answered wrongly.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.merkle.compact_range import StreamedTree
from ledger.merkle.rfc9162 import EMPTY_ROOT, InvalidSizeError, MerkleTree, hash_leaf

VECTORS = json.loads((Path(__file__).parent / "vectors" / "rfc9162.json").read_text())
CT_LEAVES = [hash_leaf(bytes.fromhex(x)) for x in VECTORS["leaves"]]


def streamed(hashes: list[bytes], sizes: list[int], pairs: list[tuple[int, int]]) -> StreamedTree:
    tree = StreamedTree(roots_at=sizes, proofs_between=pairs)
    for h in hashes:
        tree.append(h)
    return tree


@pytest.mark.parametrize("case", VECTORS["roots"], ids=lambda c: f"size-{c['size']}")
def test_vector_roots(case: dict[str, Any]) -> None:
    assert streamed(CT_LEAVES, [case["size"]], []).root(case["size"]).hex() == case["root"]


@pytest.mark.parametrize(
    "case", [c for c in VECTORS["consistency"] if c["want_err"] is None], ids=lambda c: c["desc"]
)
def test_vector_consistency(case: dict[str, Any]) -> None:
    pair = (case["size1"], case["size2"])
    proof = streamed(CT_LEAVES, [], [pair]).consistency_proof(*pair)
    assert proof == [bytes.fromhex(h) for h in case["proof"]]


POOL = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(3_000)]
REFERENCE = MerkleTree(POOL)


@settings(max_examples=80, deadline=None)
@given(st.integers(0, len(POOL)), st.lists(st.integers(0, len(POOL)), max_size=8))
def test_roots_and_proofs_are_the_reference_trees(size: int, cuts: list[int]) -> None:
    sizes = sorted({c for c in cuts if c <= size})
    pairs = list(zip([0, *sizes], sizes, strict=False))
    tree = streamed(POOL[:size], sizes, pairs)
    assert tree.size == size
    assert tree.root() == (REFERENCE.root(size) if size else EMPTY_ROOT)
    for s in sizes:
        assert tree.root(s) == REFERENCE.root(s)
    for size1, size2 in pairs:
        assert tree.consistency_proof(size1, size2) == REFERENCE.consistency_proof(size1, size2)


def test_what_was_not_named_is_refused_as_the_reference_refuses() -> None:
    tree = streamed(POOL[:100], [40], [(40, 100)])
    with pytest.raises(InvalidSizeError, match="not named up front"):
        tree.root(41)
    for bad in [(50, 40), (40, 101)]:
        with pytest.raises(InvalidSizeError) as ours:
            tree.consistency_proof(*bad)
        with pytest.raises(InvalidSizeError) as theirs:
            MerkleTree(POOL[:100]).consistency_proof(*bad)
        assert str(ours.value) == str(theirs.value)
    with pytest.raises(InvalidSizeError):
        tree.root(101)
