"""RFC 9162 (Certificate Transparency v2) Merkle trees over SHA-256.

The credit-record log and the access trail must be checkable by an outside auditor
with off-the-shelf CT tooling, so every rule here is the RFC's, not ours:

* leaves and interior nodes are domain-separated (0x00 / 0x01 prefixes), so an interior
  node can never be passed off as a leaf;
* a tree of n > 1 leaves splits at the largest power of two smaller than n, and an odd
  last node is promoted, never duplicated (the CVE-2012-2459 mistake);
* proofs are always computed against the tree *of the requested size*: a checkpoint
  anchored on chain names a size, and a proof built from the live tree would not
  verify against it;
* verification follows RFC 9162 §2.1.3.2 and §2.1.4.2 step by step and reports every
  failure as a typed `MerkleError`, so a caller cannot forget to test a boolean.

Proof builders take leaf *hashes* (not leaf data) so a store can hand over a slice of
what it already persisted. `MerkleTree` adds a cache of complete subtrees for the
writing side, where proofs must cost O(log n) hashes rather than O(n).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "InvalidHashError",
    "InvalidSizeError",
    "MerkleError",
    "MerkleTree",
    "ProofLengthError",
    "RootMismatchError",
    "consistency_proof",
    "consistency_proof_length",
    "fold_right",
    "hash_children",
    "hash_leaf",
    "inclusion_proof",
    "inclusion_proof_length",
    "perfect_parts",
    "root",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
_sha256 = hashlib.sha256
EMPTY_ROOT = _sha256(b"").digest()
_LEAF = b"\x00"
_NODE = b"\x01"


# --------------------------------------------------------------------------- errors


class MerkleError(ValueError):
    """Base of every proof or tree failure, so callers can fail closed with one clause."""


class InvalidSizeError(MerkleError):
    """A tree size or leaf index is impossible (negative, out of range, size1 > size2).

    Raised before any hashing: such a request has no meaningful proof, and answering it
    with a best-effort result would hide a caller bug.
    """


class InvalidHashError(MerkleError):
    """A hash is not 32 bytes; rejected up front so the error names the real cause."""


class ProofLengthError(MerkleError):
    """The proof has the wrong number of hashes for the sizes claimed.

    The RFC fixes the exact length from (index, size) or (size1, size2); a padded or
    truncated proof is rejected before any hashing instead of surfacing later as an
    unhelpful root mismatch.
    """

    def __init__(self, expected: int, got: int) -> None:
        super().__init__(f"proof has {got} hashes, expected {expected}")
        self.expected = expected
        self.got = got


class RootMismatchError(MerkleError):
    """The root recomputed from the proof differs from the root the caller trusts.

    Carries both values so an auditor's report can show exactly what disagreed.
    """

    def __init__(self, expected: bytes, computed: bytes, what: str = "root") -> None:
        super().__init__(f"{what} mismatch: expected {expected.hex()}, computed {computed.hex()}")
        self.expected = expected
        self.computed = computed
        self.what = what


# --------------------------------------------------------------------------- hashing


def hash_leaf(data: bytes) -> bytes:
    """Hash leaf *data*; the 0x00 prefix keeps leaves apart from interior nodes."""
    return _sha256(_LEAF + data).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """Hash two child nodes; the 0x01 prefix keeps interior nodes apart from leaves."""
    return _sha256(_NODE + left + right).digest()


def _largest_power_of_two_below(n: int) -> int:
    """The RFC split point k for n > 1: the largest power of two strictly below n."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_hash(value: bytes, what: str) -> None:
    if len(value) != HASH_SIZE:
        raise InvalidHashError(f"{what} must be {HASH_SIZE} bytes, got {len(value)}")


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """The root of the tree whose leaves have these hashes (RFC 9162 §2.1.1 MTH).

    Computed level by level with the odd last node promoted, which yields exactly the
    RFC's split-at-largest-power-of-two tree while letting CPython hash a whole level in
    one comprehension (about 0.5 s for 10^6 leaves).
    """
    if not leaf_hashes:
        return EMPTY_ROOT
    level = list(leaf_hashes)
    sha = _sha256
    node = _NODE
    while len(level) > 1:
        odd = level[-1] if len(level) & 1 else None
        nxt = [sha(node + a + b).digest() for a, b in zip(level[0::2], level[1::2], strict=False)]
        if odd is not None:
            nxt.append(odd)
        level = nxt
    return level[0]


# --------------------------------------------------------------------------- proof shape


def _check_index(index: int, size: int) -> None:
    if size < 0:
        raise InvalidSizeError(f"tree size must be non-negative, got {size}")
    if not 0 <= index < size:
        raise InvalidSizeError(f"leaf index {index} is outside a tree of size {size}")


def _check_sizes(size1: int, size2: int) -> None:
    if size1 < 0 or size2 < 0:
        raise InvalidSizeError(f"tree sizes must be non-negative, got {size1}, {size2}")
    if size1 > size2:
        raise InvalidSizeError(f"size1 {size1} is larger than size2 {size2}")


def inclusion_proof_length(index: int, size: int) -> int:
    """The exact number of hashes in the audit path of *index* in a tree of *size*.

    Inner: the levels below the node where the leaf's path leaves the last leaf's path
    (siblings there are complete subtrees); border: the set bits of index above that
    level (left siblings met while walking up the tree's right edge).
    """
    _check_index(index, size)
    inner = (index ^ (size - 1)).bit_length()
    return inner + bin(index >> inner).count("1")


def consistency_proof_length(size1: int, size2: int) -> int:
    """The exact number of hashes in the RFC 9162 consistency proof from size1 to size2."""
    _check_sizes(size1, size2)
    if size1 == 0 or size1 == size2:
        return 0
    shift = (size1 & -size1).bit_length() - 1  # trailing zeros of size1
    inner = ((size1 - 1) ^ (size2 - 1)).bit_length() - shift
    border = bin((size1 - 1) >> (inner + shift)).count("1")
    seed = 0 if size1 == 1 << shift else 1  # size1 a power of two: root1 is the seed
    return seed + inner + border


# --------------------------------------------------------------------------- proof building

_SubtreeHash = Callable[[int, int], bytes]


def _path(index: int, lo: int, hi: int, subtree: _SubtreeHash) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(m, D[lo:hi]), written as a loop from the root down.

    The RFC lists the leaf's sibling first, so the siblings collected top-down are
    reversed at the end.
    """
    out: list[bytes] = []
    while hi - lo > 1:
        k = _largest_power_of_two_below(hi - lo)
        if index - lo < k:
            out.append(subtree(lo + k, hi))
            hi = lo + k
        else:
            out.append(subtree(lo, lo + k))
            lo += k
    out.reverse()
    return out


def _subproof(m: int, lo: int, hi: int, subtree: _SubtreeHash) -> list[bytes]:
    """RFC 9162 §2.1.4.1 SUBPROOF(m, D[lo:hi], true), as a loop from the root down.

    *complete* tracks the RFC's boolean b: once we descend to the right, the old tree's
    subtree is no longer a complete prefix and its hash must be emitted.
    """
    out: list[bytes] = []
    complete = True
    while True:
        n = hi - lo
        if m == n:
            if not complete:
                out.append(subtree(lo, hi))
            break
        k = _largest_power_of_two_below(n)
        if m <= k:
            out.append(subtree(lo + k, hi))
            hi = lo + k
        else:
            out.append(subtree(lo, lo + k))
            lo += k
            m -= k
            complete = False
    out.reverse()
    return out


def _check_available(size: int, available: int) -> None:
    if size > available:
        raise InvalidSizeError(f"tree size {size} exceeds the {available} leaves available")


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int, size: int) -> list[bytes]:
    """The audit path of leaf *index* in the tree formed by the first *size* leaves.

    Costs O(size) hashes; use `MerkleTree` when many proofs are needed.
    """
    _check_index(index, size)
    _check_available(size, len(leaf_hashes))
    return _path(index, 0, size, lambda a, b: root(leaf_hashes[a:b]))


def consistency_proof(leaf_hashes: Sequence[bytes], size1: int, size2: int) -> list[bytes]:
    """The RFC 9162 consistency proof between the trees of size1 and size2.

    Empty when size1 is 0 (every tree extends the empty one) or size1 == size2.
    """
    _check_sizes(size1, size2)
    _check_available(size2, len(leaf_hashes))
    if size1 == 0 or size1 == size2:
        return []
    return _subproof(size1, 0, size2, lambda a, b: root(leaf_hashes[a:b]))


# --------------------------------------------------------------------------- verification


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Prove that *leaf_hash* sits at *index* in the tree of *size* with this *root*.

    Returns None on success and raises a `MerkleError` otherwise, so success cannot be
    mistaken for a falsy result. Preconditions (checked first): 0 <= index < size; all
    hashes 32 bytes; the proof has exactly `inclusion_proof_length(index, size)` hashes.
    """
    _check_hash(leaf_hash, "leaf hash")
    _check_hash(root, "root")
    expected = inclusion_proof_length(index, size)  # also step 1: index < size
    if len(proof) != expected:
        raise ProofLengthError(expected, len(proof))
    for p in proof:
        _check_hash(p, "proof hash")

    # RFC 9162 §2.1.3.2, steps 2-5.
    fn, sn = index, size - 1  # step 2
    r = leaf_hash  # step 3
    for p in proof:  # step 4
        if sn == 0:
            raise ProofLengthError(expected, len(proof))  # unreachable after the length check
        if fn & 1 or fn == sn:
            r = hash_children(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = hash_children(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:  # step 5
        raise ProofLengthError(expected, len(proof))  # unreachable after the length check
    if r != root:
        raise RootMismatchError(root, r)


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]) -> None:
    """Prove that the tree (size2, root2) is an append-only extension of (size1, root1).

    Raises a `MerkleError` on any failure. Edge cases, decided before the RFC algorithm
    (which assumes 0 < size1 < size2):

    * size1 == size2: the proof must be empty and the roots equal;
    * size1 == 0: the proof must be empty and nothing else is checked - every tree
      extends the empty tree, and a first checkpoint may carry a placeholder root;
    * otherwise the proof must have exactly `consistency_proof_length(size1, size2)`
      hashes, and a size1 that is a power of two uses root1 as the seed (step 2).
    """
    _check_hash(root1, "root1")
    _check_hash(root2, "root2")
    expected = consistency_proof_length(size1, size2)  # also rejects size1 > size2
    if len(proof) != expected:
        raise ProofLengthError(expected, len(proof))
    if size1 == size2:
        if root1 != root2:
            raise RootMismatchError(root2, root1, "root2")
        return
    if size1 == 0:
        return
    for p in proof:
        _check_hash(p, "proof hash")

    # RFC 9162 §2.1.4.2.
    path = list(proof)
    if not path:  # step 1
        raise ProofLengthError(expected, 0)
    if size1 & (size1 - 1) == 0:  # step 2: first is an exact power of 2
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1  # step 3
    while fn & 1:  # step 4
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:
            raise ProofLengthError(expected, len(proof))  # unreachable after the length check
        if fn & 1 or fn == sn:
            fr = hash_children(c, fr)
            sr = hash_children(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = hash_children(sr, c)
        fn >>= 1
        sn >>= 1
    # step 7
    if sn != 0:
        raise ProofLengthError(expected, len(proof))  # unreachable after the length check
    if fr != root1:
        raise RootMismatchError(root1, fr, "root1")
    if sr != root2:
        raise RootMismatchError(root2, sr, "root2")


# --------------------------------------------------------------------------- subtrees


def perfect_parts(lo: int, hi: int) -> list[tuple[int, int]]:
    """D[lo:hi] as aligned perfect subtrees (level, position), left to right.

    Holds for every node the RFC recursion visits: lo is a multiple of the smallest
    power of two >= hi - lo, so the range splits by the binary digits of its width.
    """
    parts: list[tuple[int, int]] = []
    while lo < hi:
        level = (hi - lo).bit_length() - 1
        parts.append((level, lo >> level))
        lo += 1 << level
    return parts


def fold_right(hashes: Sequence[bytes]) -> bytes:
    """MTH of consecutive perfect subtrees, largest first: their right-to-left fold."""
    acc = hashes[-1]
    for part in reversed(hashes[:-1]):
        acc = hash_children(part, acc)
    return acc


# --------------------------------------------------------------------------- cached tree


class MerkleTree:
    """An append-only tree that caches every complete subtree, for the writing side.

    Level L holds the hashes of the perfect subtrees of 2^L leaves aligned at multiples
    of 2^L, packed into one bytearray per level (about 64 bytes a leaf in all, instead
    of ~150 for lists of bytes objects). Every node of any RFC tree of size <= len(self)
    is either such a cached subtree or a right-edge node made of at most log2(n) of
    them, so roots and proofs at any historical size cost O(log n) hashes.
    """

    __slots__ = ("_levels", "_size")

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[bytearray] = [bytearray()]
        self._size = 0
        self.extend(leaf_hashes)

    def __len__(self) -> int:
        return self._size

    @property
    def size(self) -> int:
        """The number of leaves appended so far (the live tree's size)."""
        return self._size

    def leaf_hash(self, index: int) -> bytes:
        """The stored hash of leaf *index*."""
        _check_index(index, self._size)
        return bytes(self._levels[0][index * HASH_SIZE : (index + 1) * HASH_SIZE])

    def append(self, leaf_hash: bytes) -> int:
        """Append one leaf hash and return its index; amortised one hash per leaf."""
        _check_hash(leaf_hash, "leaf hash")
        index = self._size
        levels = self._levels
        levels[0] += leaf_hash
        self._size += 1
        pos, level = index, 0
        while pos & 1:
            if len(levels) == level + 1:
                levels.append(bytearray())
            row = levels[level]
            levels[level + 1] += hash_children(bytes(row[-64:-32]), bytes(row[-32:]))
            pos >>= 1
            level += 1
        return index

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append many leaf hashes, hashing each new level in one pass (bulk loads)."""
        new = list(leaf_hashes)
        for h in new:
            _check_hash(h, "leaf hash")
        if not new:
            return
        levels = self._levels
        levels[0] += b"".join(new)
        self._size += len(new)
        sha, node, level = _sha256, _NODE, 0
        while len(levels[level]) >= 2 * HASH_SIZE:
            if len(levels) == level + 1:
                levels.append(bytearray())
            done = len(levels[level + 1]) // HASH_SIZE
            pairs = len(levels[level]) // (2 * HASH_SIZE)
            if done == pairs:
                break  # nothing new completed here, so nothing above either
            row = bytes(levels[level][done * 64 : pairs * 64])
            levels[level + 1] += b"".join(
                [sha(node + row[i : i + 64]).digest() for i in range(0, len(row), 64)]
            )
            level += 1

    def _node(self, level: int, pos: int) -> bytes:
        row = self._levels[level]
        return bytes(row[pos * HASH_SIZE : (pos + 1) * HASH_SIZE])

    def _subtree(self, lo: int, hi: int) -> bytes:
        """MTH(D[lo:hi]) from cached perfect subtrees, for a node of some RFC tree.

        Precondition (true of every node the RFC recursion visits): lo is a multiple of
        the smallest power of two >= hi - lo. Such a range splits, by the binary digits
        of its width, into aligned perfect subtrees, and MTH is their right-to-left fold.
        """
        return fold_right([self._node(level, pos) for level, pos in perfect_parts(lo, hi)])

    def _check_size(self, size: int) -> None:
        if size < 0:
            raise InvalidSizeError(f"tree size must be non-negative, got {size}")
        _check_available(size, self._size)

    def root(self, size: int | None = None) -> bytes:
        """The root of the tree of the first *size* leaves (default: the live tree)."""
        size = self._size if size is None else size
        self._check_size(size)
        return EMPTY_ROOT if size == 0 else self._subtree(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The audit path of leaf *index* in the tree of *size* (default: live tree)."""
        size = self._size if size is None else size
        _check_index(index, size)
        self._check_size(size)
        return _path(index, 0, size, self._subtree)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """The consistency proof from size1 to *size2* (default: the live tree)."""
        size2 = self._size if size2 is None else size2
        _check_sizes(size1, size2)
        self._check_size(size2)
        if size1 == 0 or size1 == size2:
            return []
        return _subproof(size1, 0, size2, self._subtree)
