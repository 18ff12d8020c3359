"""RFC 9162 Merkle tree: CT vectors, a naive reference implementation, and properties.

The reference implementation below is the RFC's recursive definitions transcribed
literally (slow but obviously right); the module must agree with it everywhere, and
every tampered proof must be rejected with a typed error.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.merkle import rfc9162 as m
from ledger.merkle.rfc9162 import (
    EMPTY_ROOT,
    InvalidHashError,
    InvalidSizeError,
    MerkleError,
    MerkleTree,
    ProofLengthError,
    RootMismatchError,
)

VECTORS = json.loads((Path(__file__).parent / "vectors" / "rfc9162.json").read_text())

# --------------------------------------------------------------------------- reference


def ref_leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def ref_node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def ref_k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes, RFC 9162 §2.1.1."""
    if len(d) == 0:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return d[0]
    k = ref_k(len(d))
    return ref_node(ref_mth(d[:k]), ref_mth(d[k:]))


def ref_path(idx: int, d: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]), RFC 9162 §2.1.3.1."""
    if len(d) == 1:
        return []
    k = ref_k(len(d))
    if idx < k:
        return [*ref_path(idx, d[:k]), ref_mth(d[k:])]
    return [*ref_path(idx - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(mm: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b), RFC 9162 §2.1.4.1."""
    n = len(d)
    if mm == n:
        return [] if b else [ref_mth(d)]
    k = ref_k(n)
    if mm <= k:
        return [*ref_subproof(mm, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(mm - k, d[k:], False), ref_mth(d[:k])]


def ref_proof(size1: int, d: Sequence[bytes]) -> list[bytes]:
    if size1 == 0 or size1 == len(d):
        return []
    return ref_subproof(size1, d, True)


def leaves(n: int, salt: int = 0) -> list[bytes]:
    return [ref_leaf(f"{salt}:{i}".encode()) for i in range(n)]


# --------------------------------------------------------------------------- tampering


def tampered(proof: list[bytes], rng: random.Random) -> list[tuple[str, list[bytes]]]:
    """Every way an attacker might bend a valid proof: each must be rejected."""
    out: list[tuple[str, list[bytes]]] = []
    for i, h in enumerate(proof):
        bit = rng.randrange(256)
        flipped = bytearray(h)
        flipped[bit // 8] ^= 1 << (bit % 8)
        out.append((f"flip proof[{i}] bit {bit}", [*proof[:i], bytes(flipped), *proof[i + 1 :]]))
    if proof:
        out.append(("truncated", proof[:-1]))
        out.append(("first dropped", proof[1:]))
    out.append(("extended", [*proof, ref_leaf(b"extra")]))
    out.append(("prepended", [ref_leaf(b"extra"), *proof]))
    for i in range(len(proof) - 1):
        if proof[i] != proof[i + 1]:
            swapped = list(proof)
            swapped[i], swapped[i + 1] = swapped[i + 1], swapped[i]
            out.append((f"swap {i},{i + 1}", swapped))
    return out


def check_inclusion(d: list[bytes], tree: MerkleTree, index: int, size: int) -> None:
    want = ref_path(index, d[:size])
    assert m.inclusion_proof(d, index, size) == want
    assert tree.inclusion_proof(index, size) == want
    assert len(want) == m.inclusion_proof_length(index, size)
    r = ref_mth(d[:size])
    m.verify_inclusion(d[index], index, size, want, r)
    rng = random.Random(index * 7919 + size)
    for desc, bad in tampered(want, rng):
        with pytest.raises(MerkleError):
            m.verify_inclusion(d[index], index, size, bad, r)
            pytest.fail(desc)
    with pytest.raises(MerkleError):
        m.verify_inclusion(ref_leaf(b"other"), index, size, want, r)
    if size > 1:
        other = (index + 1) % size
        with pytest.raises(MerkleError):
            m.verify_inclusion(d[index], other, size, want, r)


def check_consistency(d: list[bytes], tree: MerkleTree, size1: int, size2: int) -> None:
    want = ref_proof(size1, d[:size2])
    assert m.consistency_proof(d, size1, size2) == want
    assert tree.consistency_proof(size1, size2) == want
    assert len(want) == m.consistency_proof_length(size1, size2)
    r1, r2 = ref_mth(d[:size1]), ref_mth(d[:size2])
    m.verify_consistency(size1, size2, r1, r2, want)
    rng = random.Random(size1 * 7919 + size2)
    for desc, bad in tampered(want, rng):
        if size1 == 0 and not bad:
            continue
        with pytest.raises(MerkleError):
            m.verify_consistency(size1, size2, r1, r2, bad)
            pytest.fail(desc)
    if size1 > 0:
        with pytest.raises(MerkleError):
            m.verify_consistency(size1, size2, ref_leaf(b"x"), r2, want)
        with pytest.raises(MerkleError):
            m.verify_consistency(size1, size2, r1, ref_leaf(b"x"), want)


# --------------------------------------------------------------------------- vectors

CT_LEAVES = [m.hash_leaf(bytes.fromhex(x)) for x in VECTORS["leaves"]]
ROOTS = {v["size"]: bytes.fromhex(v["root"]) for v in VECTORS["roots"]}


def _hexes(xs: list[str]) -> list[bytes]:
    return [bytes.fromhex(x) for x in xs]


@pytest.mark.parametrize("case", VECTORS["roots"], ids=lambda c: f"size-{c['size']}")
def test_vector_roots(case: dict[str, Any]) -> None:
    size = case["size"]
    assert m.root(CT_LEAVES[:size]).hex() == case["root"]
    assert MerkleTree(CT_LEAVES).root(size).hex() == case["root"]


def _raises(want_err: str | None) -> Callable[[Callable[[], None]], None]:
    def run(call: Callable[[], None]) -> None:
        if want_err is None:
            call()
        else:
            with pytest.raises(getattr(m, want_err)):
                call()

    return run


@pytest.mark.parametrize("case", VECTORS["inclusion"], ids=lambda c: c["desc"])
def test_vector_inclusion(case: dict[str, Any]) -> None:
    proof = _hexes(case["proof"])
    index, size = case["index"], case["size"]
    if case["want_err"] is None:
        assert m.inclusion_proof(CT_LEAVES, index, size) == proof
        assert MerkleTree(CT_LEAVES).inclusion_proof(index, size) == proof
    leaf = CT_LEAVES[index] if index < len(CT_LEAVES) else CT_LEAVES[0]
    _raises(case["want_err"])(lambda: m.verify_inclusion(leaf, index, size, proof, ROOTS.get(size, ROOTS[8])))


@pytest.mark.parametrize("case", VECTORS["consistency"], ids=lambda c: c["desc"])
def test_vector_consistency(case: dict[str, Any]) -> None:
    proof = _hexes(case["proof"])
    s1, s2 = case["size1"], case["size2"]
    if case["want_err"] is None:
        assert m.consistency_proof(CT_LEAVES, s1, s2) == proof
        assert MerkleTree(CT_LEAVES).consistency_proof(s1, s2) == proof
    _raises(case["want_err"])(lambda: m.verify_consistency(s1, s2, ROOTS[s1], ROOTS[s2], proof))


# --------------------------------------------------------------------------- against reference

SMALL = list(range(65))
_rng = random.Random(20250101)
LARGE = [*sorted(_rng.sample(range(65, 1101), 6)), 1024, 1025, 1100]


@pytest.mark.parametrize("size", SMALL + LARGE)
def test_root_matches_reference(size: int) -> None:
    d = leaves(size)
    want = ref_mth(d)
    assert m.root(d) == want
    assert MerkleTree(d).root() == want


@pytest.mark.parametrize("size", range(1, 65))
def test_all_inclusion_proofs_small(size: int) -> None:
    d = leaves(80)  # the tree is larger than `size`: proofs must ignore the extra leaves
    tree = MerkleTree(d)
    for index in range(size):
        check_inclusion(d, tree, index, size)


@pytest.mark.parametrize("size", LARGE)
def test_sampled_inclusion_proofs_large(size: int) -> None:
    d = leaves(size + 37, salt=size)
    tree = MerkleTree(d)
    rng = random.Random(size)
    for index in {0, size - 1, size // 2, *rng.sample(range(size), 12)}:
        check_inclusion(d, tree, index, size)


def test_all_consistency_proofs_small() -> None:
    d = leaves(70)
    tree = MerkleTree(d)
    for size2 in range(65):
        for size1 in range(size2 + 1):
            check_consistency(d, tree, size1, size2)


@pytest.mark.parametrize("size2", LARGE)
def test_sampled_consistency_proofs_large(size2: int) -> None:
    d = leaves(size2 + 5, salt=size2)
    tree = MerkleTree(d)
    rng = random.Random(size2)
    firsts = {0, 1, 2, 512, size2 - 1, size2, *rng.sample(range(1, size2), 10)}
    for size1 in sorted(s for s in firsts if s <= size2):
        check_consistency(d, tree, size1, size2)


# --------------------------------------------------------------------------- edge cases


def test_empty_tree_root() -> None:
    assert m.root([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()
    assert MerkleTree().root() == EMPTY_ROOT


def test_root_mismatch_carries_expected_and_computed() -> None:
    d = leaves(5)
    proof = m.inclusion_proof(d, 2, 5)
    wrong = ref_leaf(b"not the root")
    with pytest.raises(RootMismatchError) as err:
        m.verify_inclusion(d[2], 2, 5, proof, wrong)
    assert err.value.expected == wrong
    assert err.value.computed == ref_mth(d)


def test_proof_length_error_names_lengths() -> None:
    d = leaves(8)
    with pytest.raises(ProofLengthError) as err:
        m.verify_inclusion(d[0], 0, 8, m.inclusion_proof(d, 0, 8)[:1], ref_mth(d))
    assert (err.value.expected, err.value.got) == (3, 1)


def test_consistency_equal_sizes_different_roots() -> None:
    with pytest.raises(RootMismatchError):
        m.verify_consistency(3, 3, ref_mth(leaves(3)), ref_mth(leaves(3, salt=1)), [])


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: m.inclusion_proof(leaves(4), 4, 4), InvalidSizeError),
        (lambda: m.inclusion_proof(leaves(4), -1, 4), InvalidSizeError),
        (lambda: m.inclusion_proof(leaves(4), 0, 5), InvalidSizeError),
        (lambda: m.consistency_proof(leaves(4), 3, 2), InvalidSizeError),
        (lambda: m.consistency_proof(leaves(4), 2, 5), InvalidSizeError),
        (lambda: m.consistency_proof(leaves(4), -1, 2), InvalidSizeError),
        (lambda: MerkleTree(leaves(4)).root(5), InvalidSizeError),
        (lambda: MerkleTree(leaves(4)).root(-1), InvalidSizeError),
        (lambda: MerkleTree(leaves(4)).inclusion_proof(0, 5), InvalidSizeError),
        (lambda: MerkleTree(leaves(4)).consistency_proof(1, 5), InvalidSizeError),
        (lambda: MerkleTree(leaves(4)).leaf_hash(4), InvalidSizeError),
        (lambda: MerkleTree().append(b"short"), InvalidHashError),
        (lambda: MerkleTree([b"x" * 33]), InvalidHashError),
        (lambda: m.verify_inclusion(b"x", 0, 1, [], b"y" * 32), InvalidHashError),
        (lambda: m.verify_inclusion(b"y" * 32, 0, 2, [b"z"], b"y" * 32), InvalidHashError),
        (lambda: m.verify_consistency(1, 2, b"x" * 32, b"y", [b"z" * 32]), InvalidHashError),
        (lambda: m.verify_consistency(2, 1, b"x" * 32, b"y" * 32, []), InvalidSizeError),
    ],
)
def test_invalid_requests_raise_typed_errors(call: Callable[[], object], error: type) -> None:
    with pytest.raises(error):
        call()


def test_errors_are_value_errors() -> None:
    for cls in (InvalidSizeError, InvalidHashError, ProofLengthError, RootMismatchError):
        assert issubclass(cls, MerkleError)
    assert issubclass(MerkleError, ValueError)


def test_tree_append_extend_and_history() -> None:
    d = leaves(300)
    one_by_one = MerkleTree()
    mixed = MerkleTree()
    for i, h in enumerate(d):
        assert one_by_one.append(h) == i
    mixed.extend(d[:7])
    mixed.extend([])
    mixed.append(d[7])
    mixed.extend(d[8:129])
    mixed.extend(d[129:])
    for size in range(len(d) + 1):
        want = ref_mth(d[:size])
        assert one_by_one.root(size) == want
        assert mixed.root(size) == want
    assert len(mixed) == mixed.size == 300
    assert mixed.leaf_hash(17) == d[17]


# --------------------------------------------------------------------------- properties

leaf_data = st.lists(st.binary(max_size=16), min_size=1, max_size=200)


@settings(max_examples=150, deadline=None)
@given(data=leaf_data, pick=st.data())
def test_property_inclusion_round_trip(data: list[bytes], pick: st.DataObject) -> None:
    d = [m.hash_leaf(x) for x in data]
    size = pick.draw(st.integers(1, len(d)))
    index = pick.draw(st.integers(0, size - 1))
    proof = MerkleTree(d).inclusion_proof(index, size)
    assert proof == m.inclusion_proof(d, index, size)
    m.verify_inclusion(d[index], index, size, proof, m.root(d[:size]))


@settings(max_examples=150, deadline=None)
@given(data=leaf_data, pick=st.data())
def test_property_consistency_round_trip(data: list[bytes], pick: st.DataObject) -> None:
    d = [m.hash_leaf(x) for x in data]
    size2 = pick.draw(st.integers(0, len(d)))
    size1 = pick.draw(st.integers(0, size2))
    proof = MerkleTree(d).consistency_proof(size1, size2)
    assert proof == m.consistency_proof(d, size1, size2) == ref_proof(size1, d[:size2])
    m.verify_consistency(size1, size2, m.root(d[:size1]), m.root(d[:size2]), proof)


@settings(max_examples=100, deadline=None)
@given(data=leaf_data, chunks=st.lists(st.integers(0, 40), max_size=10))
def test_property_tree_matches_root_however_built(data: list[bytes], chunks: list[int]) -> None:
    d = [m.hash_leaf(x) for x in data]
    tree = MerkleTree()
    pos = 0
    for n in chunks:
        tree.extend(d[pos : pos + n])
        pos = min(pos + n, len(d))
        if pos < len(d):
            tree.append(d[pos])
            pos += 1
    tree.extend(d[pos:])
    assert tree.root() == m.root(d) == ref_mth(d)


@settings(max_examples=100, deadline=None)
@given(data=leaf_data, pick=st.data())
def test_property_appending_never_changes_old_roots(data: list[bytes], pick: st.DataObject) -> None:
    d = [m.hash_leaf(x) for x in data]
    cut = pick.draw(st.integers(0, len(d)))
    tree = MerkleTree(d[:cut])
    before = tree.root()
    tree.extend(d[cut:])
    assert tree.root(cut) == before


# --------------------------------------------------------------------------- what each refusal says

H = b"\x11" * 32


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: m.verify_inclusion(b"x", 0, 1, [], H),
            InvalidHashError,
            "leaf hash must be 32 bytes, got 1",
        ),
        (lambda: m.verify_inclusion(H, 0, 1, [], H[:31]), InvalidHashError, "root must be 32 bytes, got 31"),
        (
            lambda: m.verify_inclusion(H, 0, 2, [H * 2], H),
            InvalidHashError,
            "proof hash must be 32 bytes, got 64",
        ),
        (lambda: m.verify_consistency(1, 2, b"", H, [H]), InvalidHashError, "root1 must be 32 bytes, got 0"),
        (
            lambda: m.verify_consistency(1, 2, H, b"yy", [H]),
            InvalidHashError,
            "root2 must be 32 bytes, got 2",
        ),
        (
            lambda: m.verify_consistency(3, 4, H, H, [H, b"z", H]),
            InvalidHashError,
            "proof hash must be 32 bytes, got 1",
        ),
        (lambda: MerkleTree().append(b"short"), InvalidHashError, "leaf hash must be 32 bytes, got 5"),
        (lambda: MerkleTree([H, H + b"!"]), InvalidHashError, "leaf hash must be 32 bytes, got 33"),
        (lambda: m.inclusion_proof_length(0, -1), InvalidSizeError, "tree size must be non-negative, got -1"),
        (
            lambda: m.inclusion_proof_length(3, 3),
            InvalidSizeError,
            "leaf index 3 is outside a tree of size 3",
        ),
        (
            lambda: m.inclusion_proof_length(0, 0),
            InvalidSizeError,
            "leaf index 0 is outside a tree of size 0",
        ),
        (
            lambda: m.inclusion_proof_length(-1, 3),
            InvalidSizeError,
            "leaf index -1 is outside a tree of size 3",
        ),
        (
            lambda: m.consistency_proof_length(-1, 3),
            InvalidSizeError,
            "tree sizes must be non-negative, got -1, 3",
        ),
        (
            lambda: m.consistency_proof_length(2, -4),
            InvalidSizeError,
            "tree sizes must be non-negative, got 2, -4",
        ),
        (lambda: m.consistency_proof_length(5, 4), InvalidSizeError, "size1 5 is larger than size2 4"),
        (
            lambda: m.inclusion_proof([H] * 3, 0, 4),
            InvalidSizeError,
            "tree size 4 exceeds the 3 leaves available",
        ),
        (
            lambda: m.consistency_proof([H] * 3, 1, 5),
            InvalidSizeError,
            "tree size 5 exceeds the 3 leaves available",
        ),
        (lambda: MerkleTree([H] * 2).root(-2), InvalidSizeError, "tree size must be non-negative, got -2"),
        (lambda: MerkleTree([H] * 2).root(3), InvalidSizeError, "tree size 3 exceeds the 2 leaves available"),
        (
            lambda: MerkleTree([H] * 2).consistency_proof(1, 4),
            InvalidSizeError,
            "tree size 4 exceeds the 2 leaves available",
        ),
        (
            lambda: MerkleTree([H] * 2).inclusion_proof(2),
            InvalidSizeError,
            "leaf index 2 is outside a tree of size 2",
        ),
        (lambda: m.verify_inclusion(H, 0, 4, [H], H), ProofLengthError, "proof has 1 hashes, expected 2"),
        (lambda: m.verify_consistency(3, 4, H, H, []), ProofLengthError, "proof has 0 hashes, expected 3"),
    ],
)
def test_each_refusal_names_what_is_wrong(call: Callable[[], object], error: type, message: str) -> None:
    with pytest.raises(error) as raised:
        call()
    assert str(raised.value) == message


def test_a_root_mismatch_names_which_root_and_both_values() -> None:
    d = leaves(4)
    other = ref_leaf(b"other")
    with pytest.raises(RootMismatchError) as raised:
        m.verify_inclusion(d[0], 0, 4, m.inclusion_proof(d, 0, 4), other)
    assert str(raised.value) == f"root mismatch: expected {other.hex()}, computed {ref_mth(d).hex()}"
    assert raised.value.what == "root"
    proof = m.consistency_proof(d, 3, 4)
    with pytest.raises(RootMismatchError) as raised:
        m.verify_consistency(3, 4, other, ref_mth(d), proof)
    assert (raised.value.what, raised.value.expected, raised.value.computed) == (
        "root1",
        other,
        ref_mth(d[:3]),
    )
    assert str(raised.value).startswith(f"root1 mismatch: expected {other.hex()}, computed ")
    with pytest.raises(RootMismatchError) as raised:
        m.verify_consistency(3, 4, ref_mth(d[:3]), other, proof)
    assert (raised.value.what, raised.value.expected, raised.value.computed) == ("root2", other, ref_mth(d))
    with pytest.raises(RootMismatchError) as raised:
        m.verify_consistency(4, 4, other, ref_mth(d), [])
    assert (raised.value.what, raised.value.expected, raised.value.computed) == ("root2", ref_mth(d), other)


def test_a_tree_answers_for_its_live_size_by_default() -> None:
    d = leaves(13)
    tree = MerkleTree(d[:5])
    for h in d[5:]:
        tree.append(h)
    assert tree.root() == ref_mth(d)
    for index in range(13):
        assert tree.inclusion_proof(index) == ref_path(index, d)
    for size1 in range(14):
        assert tree.consistency_proof(size1) == ref_proof(size1, d)
