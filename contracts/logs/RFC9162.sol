// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/**
 * @title RFC9162
 * @notice Verification of Certificate-Transparency-style Merkle tree proofs (RFC 9162
 * §2.1, SHA-256): consistency proofs between two sizes of one append-only log (§2.1.4)
 * and inclusion proofs of one leaf (§2.1.3).
 *
 * @dev Hashing (§2.1.1): a leaf is SHA-256(0x00 ‖ leaf), an interior node is
 * SHA-256(0x01 ‖ left ‖ right), the empty tree is SHA-256(""). SHA-256 runs in the
 * precompile at address 0x02, which is what Solidity's `sha256` calls. The verifiers
 * hash through one 65-byte buffer per call instead of a fresh `abi.encodePacked` per
 * node: memory then stays constant whatever the proof length (about 2.5k gas saved on
 * a 15-node proof).
 *
 * The verifiers do not follow the RFC's step-by-step loops literally but their
 * equivalent, length-exact form (as in transparency-dev/merkle): the expected number of
 * proof nodes is computed from the sizes with a few bit operations first, so a proof of
 * the wrong length is refused before any hashing, and each node is then consumed once.
 * For an index `i` in a tree of size `n`, the path splits into
 *  - `inner` = bitLength(i ^ (n - 1)) nodes, where the path to leaf `i` and the path to
 *    the last leaf `n - 1` still diverge; node `j` is a left sibling iff bit `j` of `i`
 *    is set;
 *  - `border` = popCount(i >> inner) nodes above that, on the right border of the tree,
 *    all of them left siblings.
 * A consistency proof from `size1` to `size2` is the inclusion path of leaf
 * `size1 - 1` in the tree of `size2`, minus the `shift` = trailingZeros(size1) lowest
 * levels (the complete subtree of 2^shift leaves ending at `size1 - 1` is one node),
 * preceded by that subtree's hash unless it is the whole old tree (`size1` a power of
 * two, in which case the node is `root1` itself and the RFC omits it).
 */
library RFC9162 {
    /// @notice Root of the empty tree: SHA-256 of the empty string (RFC 9162 §2.1.1).
    bytes32 internal constant EMPTY_ROOT = 0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855;

    /// @dev The new size `size2` is smaller than the old size `size1`: a log never shrinks.
    error ConsistencySizeDecrease(uint256 size1, uint256 size2);

    /// @dev The consistency proof has `actual` nodes where sizes imply exactly `expected`.
    error ConsistencyProofLength(uint256 expected, uint256 actual);

    /// @dev The root of the tree of `size` recomputed from the proof (`computed`) is not
    /// the `expected` one.
    error ConsistencyRootMismatch(uint256 size, bytes32 expected, bytes32 computed);

    /// @dev Leaf `index` does not exist in a tree of `size` leaves.
    error InclusionIndexOutOfRange(uint256 index, uint256 size);

    /// @dev The inclusion proof has `actual` nodes where index and size imply `expected`.
    error InclusionProofLength(uint256 expected, uint256 actual);

    /// @dev The root recomputed from the inclusion proof (`computed`) is not `expected`.
    error InclusionRootMismatch(uint256 size, bytes32 expected, bytes32 computed);

    /// @notice RFC 9162 leaf hash: SHA-256(0x00 ‖ leaf).
    function hashLeaf(bytes memory leaf) internal pure returns (bytes32) {
        return sha256(abi.encodePacked(bytes1(0x00), leaf));
    }

    /// @notice RFC 9162 interior node hash: SHA-256(0x01 ‖ left ‖ right).
    function hashChildren(bytes32 left, bytes32 right) internal pure returns (bytes32) {
        return sha256(abi.encodePacked(bytes1(0x01), left, right));
    }

    /**
     * @notice Checks that the tree of `size2` leaves with root `root2` extends the tree of
     * `size1` leaves with root `root1` (RFC 9162 §2.1.4.2), and reverts otherwise.
     *
     * Requirements:
     * - `size1 <= size2` ({ConsistencySizeDecrease});
     * - `size1 == 0`: `root1` is {EMPTY_ROOT} and `proof` is empty — every tree extends
     *   the empty one, there is nothing to prove;
     * - `size1 == size2`: `proof` is empty and `root1 == root2`;
     * - otherwise `proof` has exactly the RFC's number of nodes ({ConsistencyProofLength})
     *   and rebuilds both `root1` and `root2` ({ConsistencyRootMismatch}). When `size1`
     *   is a power of two the proof does not repeat `root1`.
     */
    function verifyConsistency(
        uint256 size1,
        uint256 size2,
        bytes32 root1,
        bytes32 root2,
        bytes32[] calldata proof
    ) internal pure {
        if (size2 < size1) revert ConsistencySizeDecrease(size1, size2);
        if (size1 == 0 && root1 != EMPTY_ROOT) revert ConsistencyRootMismatch(0, EMPTY_ROOT, root1);
        if (size1 == size2 || size1 == 0) {
            if (proof.length != 0) revert ConsistencyProofLength(0, proof.length);
            if (size1 == size2 && root1 != root2) revert ConsistencyRootMismatch(size2, root2, root1);
            return;
        }
        // Here 0 < size1 < size2.
        bytes32 hash1;
        bytes32 hash2;
        {
            (uint256 start, uint256 inner, uint256 border, uint256 mask) = _consistencyShape(size1, size2);
            uint256 expected;
            unchecked {
                expected = start + inner + border;
            }
            if (proof.length != expected) revert ConsistencyProofLength(expected, proof.length);
            // Seed: the complete subtree of 2^shift leaves ending at leaf size1-1.
            bytes32 seed = start == 0 ? root1 : proof[0];
            (hash1, hash2) = _chainConsistency(seed, proof[start:], inner, mask);
        }
        if (hash1 != root1) revert ConsistencyRootMismatch(size1, root1, hash1);
        if (hash2 != root2) revert ConsistencyRootMismatch(size2, root2, hash2);
    }

    /**
     * @notice Checks that `leafHash` is leaf `index` of the tree of `size` leaves with
     * root `root` (RFC 9162 §2.1.3.2), and reverts otherwise.
     *
     * Requirements:
     * - `index < size` ({InclusionIndexOutOfRange});
     * - `proof` has exactly the RFC's number of nodes ({InclusionProofLength});
     * - the proof rebuilds `root` ({InclusionRootMismatch}).
     */
    function verifyInclusion(
        uint256 index,
        uint256 size,
        bytes32 leafHash,
        bytes32 root,
        bytes32[] calldata proof
    ) internal pure {
        bytes32 computed = rootFromInclusionProof(index, size, leafHash, proof);
        if (computed != root) revert InclusionRootMismatch(size, root, computed);
    }

    /**
     * @notice The root of the tree of `size` leaves implied by `leafHash` at `index` and
     * its audit path `proof`.
     *
     * Requirements: `index < size` and `proof` of exactly the RFC's length.
     */
    function rootFromInclusionProof(
        uint256 index,
        uint256 size,
        bytes32 leafHash,
        bytes32[] calldata proof
    ) internal pure returns (bytes32 hash) {
        if (index >= size) revert InclusionIndexOutOfRange(index, size);
        unchecked {
            uint256 inner = _bitLength(index ^ (size - 1));
            uint256 expected = inner + _popCount(index >> inner);
            if (proof.length != expected) revert InclusionProofLength(expected, proof.length);
            bytes memory buffer = _nodeBuffer();
            hash = leafHash;
            uint256 mask = index;
            for (uint256 i; i < inner; ++i) {
                hash = mask & 1 == 1
                    ? _hashChildren(buffer, proof[i], hash)
                    : _hashChildren(buffer, hash, proof[i]);
                mask >>= 1;
            }
            for (uint256 i = inner; i < expected; ++i) {
                hash = _hashChildren(buffer, proof[i], hash);
            }
        }
    }

    /**
     * @dev Layout of the consistency proof from `size1` to `size2` (0 < size1 < size2):
     * `start` is 1 when the proof opens with the seed subtree hash, 0 when `size1` is a
     * power of two (the seed is `root1`); then come `inner` nodes whose sides are the bits
     * of `mask` (1 = left sibling) and `border` left siblings.
     */
    function _consistencyShape(
        uint256 size1,
        uint256 size2
    ) private pure returns (uint256 start, uint256 inner, uint256 border, uint256 mask) {
        unchecked {
            uint256 index = size1 - 1;
            // inner > shift: leaf size2-1 lies beyond the complete subtree ending at index.
            uint256 fullInner = _bitLength(index ^ (size2 - 1));
            border = _popCount(index >> fullInner);
            uint256 shift = _trailingZeros(size1);
            start = size1 == (1 << shift) ? 0 : 1;
            inner = fullInner - shift;
            mask = index >> shift;
        }
    }

    /**
     * @dev Hashes `seed` up through `proof` (`inner` nodes then border nodes) and returns
     * the old root `hash1` and the new root `hash2`. Right siblings (bit of `mask` clear)
     * lie beyond the old tree and only enter `hash2`.
     */
    function _chainConsistency(
        bytes32 seed,
        bytes32[] calldata proof,
        uint256 inner,
        uint256 mask
    ) private pure returns (bytes32 hash1, bytes32 hash2) {
        bytes memory buffer = _nodeBuffer();
        hash1 = seed;
        hash2 = seed;
        unchecked {
            for (uint256 i; i < inner; ++i) {
                bytes32 node = proof[i];
                if (mask & 1 == 1) {
                    hash1 = _hashChildren(buffer, node, hash1);
                    hash2 = _hashChildren(buffer, node, hash2);
                } else {
                    hash2 = _hashChildren(buffer, hash2, node);
                }
                mask >>= 1;
            }
            for (uint256 i = inner; i < proof.length; ++i) {
                bytes32 node = proof[i];
                hash1 = _hashChildren(buffer, node, hash1);
                hash2 = _hashChildren(buffer, node, hash2);
            }
        }
    }

    /// @dev A 65-byte buffer starting with the interior-node prefix 0x01, reused by every
    /// {_hashChildren} of one verification so that memory does not grow with the proof.
    function _nodeBuffer() private pure returns (bytes memory buffer) {
        buffer = new bytes(65);
        buffer[0] = 0x01;
    }

    /// @dev {hashChildren} through `buffer` (from {_nodeBuffer}): the same SHA-256 call,
    /// without allocating a fresh encoding per node.
    function _hashChildren(bytes memory buffer, bytes32 left, bytes32 right) private pure returns (bytes32) {
        assembly ("memory-safe") {
            mstore(add(buffer, 33), left) // bytes 1..32 of the buffer's content
            mstore(add(buffer, 65), right) // bytes 33..64
        }
        return sha256(buffer);
    }

    /// @dev Number of significant bits of `x` (0 for 0).
    function _bitLength(uint256 x) private pure returns (uint256) {
        unchecked {
            return x == 0 ? 0 : Math.log2(x) + 1;
        }
    }

    /// @dev Number of trailing zero bits of a non-zero `x`.
    function _trailingZeros(uint256 x) private pure returns (uint256) {
        unchecked {
            return Math.log2(x & (0 - x)); // isolate the lowest set bit
        }
    }

    /// @dev Number of set bits of `x`; one iteration per set bit.
    function _popCount(uint256 x) private pure returns (uint256 count) {
        unchecked {
            while (x != 0) {
                x &= x - 1;
                ++count;
            }
        }
    }
}
