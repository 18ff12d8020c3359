// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IMembership} from "../membership/IMembership.sol";
import {RFC9162} from "./RFC9162.sol";

/**
 * @title ICheckpoints
 * @notice On-chain checkpoints of the ledger's append-only Merkle logs (the credit-record
 * log, the access trail): per log, the latest (tree size, RFC 9162 root), moved forward
 * only with a consistency proof from the stored one.
 */
interface ICheckpoints {
    /// @dev `account` is not an active member with role Platform or Provider.
    error CheckpointsUnauthorizedSubmitter(address account);

    /// @dev A second, different root for a size already anchored: evidence of a forked
    /// log (two views of the same history), never accepted.
    error CheckpointsConflictingRoot(bytes32 logId, uint64 size, bytes32 anchoredRoot, bytes32 submittedRoot);

    /// @dev The membership contract address given to the constructor is zero.
    error CheckpointsInvalidMembership(address membership);

    /**
     * @notice Log `logId` grew from `previousSize` to `size` leaves with tree root `root`,
     * proven consistent with the previous checkpoint; submitted by `submitter`.
     * @dev The sequence of these events for one `logId` is the checkpoint history.
     */
    event CheckpointAnchored(bytes32 indexed logId, uint64 previousSize, uint64 size, bytes32 root, address submitter);

    /**
     * @notice Anchors `newRoot` as the root of log `logId` at `newSize` leaves.
     *
     * The platform's logs are stored under `logId` itself, shared by every Platform
     * key; a provider's logs under {providerLogId}(provider, `logId`), so a provider can
     * neither jam nor extend a platform log (nor another provider's) with a forged
     * extension.
     *
     * Requirements:
     * - the caller is an active member with role Platform or Provider
     *   ({CheckpointsUnauthorizedSubmitter});
     * - `newSize` is not below the anchored size (`RFC9162.ConsistencySizeDecrease`);
     * - `proof` is the RFC 9162 consistency proof from the anchored (size, root) to
     *   (`newSize`, `newRoot`): exactly the expected number of nodes
     *   (`RFC9162.ConsistencyProofLength`) rebuilding both roots
     *   (`RFC9162.ConsistencyRootMismatch`). From an empty log the proof is empty.
     * - re-anchoring the anchored size is an idempotent no-op: it succeeds, changes
     *   nothing and emits nothing, provided the root is the anchored one
     *   ({CheckpointsConflictingRoot}) and the proof is empty.
     *
     * Emits a {CheckpointAnchored} event when the log grew.
     */
    function submit(bytes32 logId, uint64 newSize, bytes32 newRoot, bytes32[] calldata proof) external;

    /**
     * @notice The latest checkpoint of log `logId`: its size and root. A log never
     * anchored is empty: size 0 and the empty-tree root SHA-256("").
     */
    function latest(bytes32 logId) external view returns (uint64 size, bytes32 root);

    /// @notice The id under which provider `provider`'s own log `logId` is kept.
    function providerLogId(address provider, bytes32 logId) external pure returns (bytes32);

    /// @notice The membership contract consulted for the submitter's role.
    function membership() external view returns (IMembership);
}

/**
 * @title Checkpoints
 * @notice Keeps, per named log, the latest (size, root) and accepts a newer one only
 * with an RFC 9162 consistency proof verified on chain (SHA-256 precompile). The chain
 * then refuses any rewritten or truncated history of an anchored log.
 *
 * @dev Members anchor with their own transaction (no EIP-712 signature and no relayer
 * nonce): `msg.sender` is the submitter. Measured on anvil (Cancun, bench/
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
