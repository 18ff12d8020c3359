// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IMembership} from "../membership/IMembership.sol";
import {ICheckpoints} from "./ICheckpoints.sol";
import {RFC9162} from "./RFC9162.sol";

/**
 * @title Checkpoints
 * @notice Keeps, per named log, the latest (size, root) and accepts a newer one only
 * with an RFC 9162 consistency proof verified on chain (SHA-256 precompile). The chain
 * then refuses any rewritten or truncated history of an anchored log.
 *
 * @dev Members anchor with their own transaction (no EIP-712 signature and no relayer
 * nonce): `msg.sender` is the submitter. Not a `MembershipGated` contract: a submitter
 * may hold either of two roles, and a refusal is {CheckpointsUnauthorizedSubmitter}. Measured on anvil (Cancun, bench/
 * gas_checkpoints.py): 51k-60k gas per checkpoint whatever the number of entries it
 * covers (the proof grows with log2 of the sizes only); the first checkpoint of a log
 * costs about 76k once, for its two fresh storage slots.
 *
 * Storage is only the latest checkpoint, two slots per log (the 32-byte root fills one;
 * the size sits alone in the second). The history lives in the {CheckpointAnchored}
 * events rather than in a storage array because:
 * - nothing on chain ever needs an old checkpoint: each new one is proven consistent
 *   with the latest, hence by induction with every earlier one;
 * - events are committed in each block's receipts root, so they are as tamper-evident
 *   as storage for anyone holding the chain, and `logId` is an indexed topic for
 *   `eth_getLogs`;
 * - an event costs about 2k gas where appending (size, root) to an array would write
 *   two fresh slots, about 44k gas, per checkpoint, more than doubling its cost.
 */
contract Checkpoints is ICheckpoints {
    /// @dev Latest anchored state of one log. Size 0 stores a zero root and reads as
    /// {RFC9162.EMPTY_ROOT}.
    struct Checkpoint {
        bytes32 root;
        uint64 size;
    }

    /// @inheritdoc ICheckpoints
    IMembership public immutable membership;

    mapping(bytes32 logId => Checkpoint) private _checkpoints;

    /// @param membership_ the membership contract deciding who may anchor.
    constructor(address membership_) {
        if (membership_ == address(0)) revert CheckpointsInvalidMembership(membership_);
        membership = IMembership(membership_);
    }

    /// @inheritdoc ICheckpoints
    function submit(bytes32 logId, uint64 newSize, bytes32 newRoot, bytes32[] calldata proof) external {
        if (
            !membership.isActive(msg.sender, IMembership.Role.Platform) &&
            !membership.isActive(msg.sender, IMembership.Role.Provider)
        ) revert CheckpointsUnauthorizedSubmitter(msg.sender);
        if (!membership.isActive(msg.sender, IMembership.Role.Platform)) logId = _providerLogId(msg.sender, logId);

        Checkpoint storage checkpoint = _checkpoints[logId];
        uint64 size = checkpoint.size;
        bytes32 root = size == 0 ? RFC9162.EMPTY_ROOT : checkpoint.root;
        if (newSize == size && newRoot != root) revert CheckpointsConflictingRoot(logId, size, root, newRoot);
        // Also refuses a shrinking log and a non-empty proof for an unchanged size.
        RFC9162.verifyConsistency(size, newSize, root, newRoot, proof);
        if (newSize == size) return; // idempotent re-anchoring: nothing to store or emit
        _anchor(checkpoint, logId, size, newSize, newRoot);
    }

    /// @inheritdoc ICheckpoints
    function latest(bytes32 logId) external view returns (uint64 size, bytes32 root) {
        Checkpoint storage checkpoint = _checkpoints[logId];
        size = checkpoint.size;
        root = size == 0 ? RFC9162.EMPTY_ROOT : checkpoint.root;
    }

    /// @inheritdoc ICheckpoints
    function providerLogId(address provider, bytes32 logId) external pure returns (bytes32) {
        return _providerLogId(provider, logId);
    }

    function _providerLogId(address provider, bytes32 logId) private pure returns (bytes32) {
        return keccak256(abi.encode(provider, logId));
    }

    /// @dev Stores the proven checkpoint and emits {CheckpointAnchored}.
    function _anchor(
        Checkpoint storage checkpoint,
        bytes32 logId,
        uint64 previousSize,
        uint64 newSize,
        bytes32 newRoot
    ) private {
        checkpoint.root = newRoot;
        checkpoint.size = newSize;
        emit CheckpointAnchored(logId, previousSize, newSize, newRoot, msg.sender);
    }
}
