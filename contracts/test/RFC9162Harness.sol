// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {RFC9162} from "../logs/RFC9162.sol";

/**
 * @title RFC9162Harness
 * @notice TEST ONLY: exposes the {RFC9162} library as external functions, so that tests
 * can check many proofs with cheap `eth_call`s and measure their gas.
 */
contract RFC9162Harness {
    /// @notice {RFC9162.verifyConsistency}; returns true or reverts with the library's error.
    function verifyConsistency(
        uint256 size1,
        uint256 size2,
        bytes32 root1,
        bytes32 root2,
        bytes32[] calldata proof
    ) external pure returns (bool) {
        RFC9162.verifyConsistency(size1, size2, root1, root2, proof);
        return true;
    }

    /// @notice {RFC9162.verifyInclusion}; returns true or reverts with the library's error.
    function verifyInclusion(
        uint256 index,
        uint256 size,
        bytes32 leafHash,
        bytes32 root,
        bytes32[] calldata proof
    ) external pure returns (bool) {
        RFC9162.verifyInclusion(index, size, leafHash, root, proof);
        return true;
    }

    /// @notice {RFC9162.rootFromInclusionProof}.
    function rootFromInclusionProof(
        uint256 index,
        uint256 size,
        bytes32 leafHash,
        bytes32[] calldata proof
    ) external pure returns (bytes32) {
        return RFC9162.rootFromInclusionProof(index, size, leafHash, proof);
    }

    /// @notice {RFC9162.hashLeaf}.
    function hashLeaf(bytes calldata leaf) external pure returns (bytes32) {
        return RFC9162.hashLeaf(leaf);
    }

    /// @notice {RFC9162.hashChildren}.
    function hashChildren(bytes32 left, bytes32 right) external pure returns (bytes32) {
        return RFC9162.hashChildren(left, right);
    }
}

/**
 * @title NaiveEntryLog
 * @notice BENCHMARK ONLY: the baseline that anchors every entry hash in its own
 * transaction, either stored in a fresh slot or only emitted as an event.
 */
contract NaiveEntryLog {
    /// @notice An entry hash was anchored at position `index`.
    event EntryAnchored(uint256 indexed index, bytes32 entryHash);

    /// @notice Number of entries anchored.
    uint256 public count;

    /// @notice Entry hashes by position (the stored variant).
    mapping(uint256 index => bytes32) public entries;

    /// @notice Stores `entryHash` at the next position and emits {EntryAnchored}.
    function store(bytes32 entryHash) external {
        uint256 index = count++;
        entries[index] = entryHash;
        emit EntryAnchored(index, entryHash);
    }

    /// @notice Only emits {EntryAnchored} for `entryHash` (the event-only variant).
    function emitOnly(bytes32 entryHash) external {
        emit EntryAnchored(count++, entryHash);
    }
}
