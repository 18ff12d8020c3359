// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IMembership} from "../membership/IMembership.sol";

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
