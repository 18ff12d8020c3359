// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IMembership} from "../membership/IMembership.sol";

/**
 * @title IAgreements
 * @notice Credit commitments (信用承诺) and data-sharing agreements (数据共享协议): what
 * an institution may ask for, for which purposes, up to which sensitivity level, and
 * during which period, backed by its signed commitment to use the data lawfully.
 *
 * An act by an account that is not an active member holding the role the act needs
 * reverts with `NotActiveMember(account, role)`, the error every membership-gated
 * contract shares, declared by `MembershipGated` (contracts/common/MembershipGated.sol).
 */
interface IAgreements {
    /// @notice What a credit commitment promises, and so which role signs it.
    enum CommitmentKind {
        InstitutionUsage, // an institution: lawful use within agreed scope and purpose
        EnterpriseTruthfulness, // an enterprise: its self-declared data is true and complete
        RepairApplicant // an enterprise applying for credit repair (信用修复)
    }

    /**
     * @notice Life cycle of an agreement. `Expired` is never stored: {status} derives it
     * from time for any agreement not terminated whose `validUntil` has passed.
     */
    enum AgreementStatus {
        Proposed,
        Active,
        Suspended,
        Terminated,
        Expired
    }

    struct Commitment {
        address member; // the signer; zero for an unknown commitment
        CommitmentKind kind;
        bool breached;
        bytes32 documentHash; // hash of the signed commitment letter
        bytes32 breachEvidenceHash; // set when an operator marks the commitment breached
    }

    struct Agreement {
        address institution; // the proposer; zero for an unknown agreement
        AgreementStatus state; // stored state: never `Expired`, see {status}
        uint8 maxLevel; // highest sensitivity level (1..5) that may be released
        uint48 validFrom; // first second of validity
        uint48 validUntil; // last second of validity
        uint48 commitmentId; // the institution's `InstitutionUsage` commitment
        uint256 categories; // bit mask of data categories in scope
        uint256 purposes; // bit mask of allowed purposes
        bytes32 documentHash; // hash of the agreement document
    }

    /// @dev `member` made commitment `id` of `kind` over the letter hashing to `documentHash`.
    event CommitmentMade(uint256 indexed id, address indexed member, CommitmentKind kind, bytes32 documentHash);
    /// @dev Operator `operator` marked commitment `id` breached, with evidence hashing to `evidenceHash`.
    event CommitmentBreached(uint256 indexed id, address indexed operator, bytes32 evidenceHash);
    /// @dev `institution` proposed agreement `id` with these immutable terms.
    event AgreementProposed(
        uint256 indexed id,
        address indexed institution,
        uint256 indexed commitmentId,
        uint256 categories,
        uint256 purposes,
        uint8 maxLevel,
        uint48 validFrom,
        uint48 validUntil,
        bytes32 documentHash
    );
    /// @dev Operator `operator` countersigned agreement `id`, which became active.
    event AgreementCountersigned(uint256 indexed id, address indexed operator);
    /// @dev Operator `operator` suspended agreement `id`.
    event AgreementSuspended(uint256 indexed id, address indexed operator);
    /// @dev Operator `operator` reinstated the suspended agreement `id`.
    event AgreementReinstated(uint256 indexed id, address indexed operator);
    /// @dev Agreement `id` was terminated for good by `signer` (an operator or its institution).
    event AgreementTerminated(uint256 indexed id, address indexed signer);

    /// @dev No commitment has id `id`.
    error NonexistentCommitment(uint256 id);
    /// @dev Commitment `id` was marked breached.
    error CommitmentAlreadyBreached(uint256 id);
    /// @dev Commitment `id` was made by `member`, not by `institution`.
    error CommitmentNotOwned(uint256 id, address member, address institution);
    /// @dev An agreement must name at least one category and one purpose.
    error EmptyAgreementScope(uint256 categories, uint256 purposes);
    /// @dev Sensitivity levels run from 1 to 5.
    error InvalidMaxLevel(uint8 maxLevel);
    /// @dev The validity period must be non-empty (`validFrom` <= `validUntil`) and not over at `timestamp`.
    error InvalidValidity(uint48 validFrom, uint48 validUntil, uint256 timestamp);
    /// @dev No agreement has id `id`.
    error NonexistentAgreement(uint256 id);
    /// @dev Agreement `id` is in status `current`; the act needs one of `expectedStatuses`
    /// (a bit map with bit `uint8(status)` set for each status accepted).
    error UnexpectedAgreementStatus(uint256 id, AgreementStatus current, bytes32 expectedStatuses);
    /// @dev `signer` is neither an active operator nor the active institution owning agreement `id`.
    error UnauthorizedTerminator(uint256 id, address signer);

    /**
     * @notice Records a credit commitment of `kind` signed by `member`.
     *
     * Requirements:
     *
     * - `member` signed `Commit(kind, documentHash, member, nonce, deadline)` before `deadline`;
     * - `member` is an active institution for `InstitutionUsage`, an active enterprise otherwise.
     *
     * Emits a {CommitmentMade} event.
     */
    function commit(
        CommitmentKind kind,
        bytes32 documentHash,
        address member,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint256 id);

    /**
     * @notice Marks commitment `id` breached. An `InstitutionUsage` commitment breached
     * makes every agreement relying on it refuse authorization from this block on.
     *
     * Requirements:
     *
     * - `operator` signed `MarkBreached(commitmentId, evidenceHash, operator, nonce, deadline)`;
     * - `operator` is an active operator;
     * - commitment `id` exists and is not breached yet.
     *
     * Emits a {CommitmentBreached} event.
     */
    function markBreached(
        uint256 id,
        bytes32 evidenceHash,
        address operator,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /**
     * @notice Proposes a data-sharing agreement on behalf of `institution`. Its terms
     * never change; a change of scope or purpose is a new agreement.
     *
     * Requirements:
     *
     * - `institution` signed `ProposeAgreement(categories, purposes, maxLevel, validFrom,
     *   validUntil, documentHash, commitmentId, institution, nonce, deadline)`;
     * - `institution` is an active institution;
     * - `categories` and `purposes` are not empty, `maxLevel` is 1..5,
     *   `validFrom` <= `validUntil` and `validUntil` is not in the past;
     * - commitment `commitmentId` is `institution`'s own, of kind `InstitutionUsage`, not breached.
     *
     * Emits an {AgreementProposed} event.
     */
    function propose(
        uint256 categories,
        uint256 purposes,
        uint8 maxLevel,
        uint48 validFrom,
        uint48 validUntil,
        bytes32 documentHash,
        uint256 commitmentId,
        address institution,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint256 id);

    /**
     * @notice Countersigns the proposed agreement `id`, which becomes `Active`.
     *
     * Requirements:
     *
     * - `operator` signed `Countersign(agreementId, operator, nonce, deadline)` and is an active operator;
     * - agreement `id` is `Proposed` (not expired) and its commitment is not breached.
     *
     * Emits an {AgreementCountersigned} event.
     */
    function countersign(
        uint256 id,
        address operator,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /**
     * @notice Suspends the active agreement `id`.
     *
     * Requirements:
     *
     * - `operator` signed `Suspend(agreementId, operator, nonce, deadline)` and is an active operator;
     * - agreement `id` is `Active` (not expired).
     *
     * Emits an {AgreementSuspended} event.
     */
    function suspend(uint256 id, address operator, uint256 nonce, uint256 deadline, bytes calldata signature) external;

    /**
     * @notice Reinstates the suspended agreement `id`. An agreement whose commitment is
     * breached stays refused by authorization even when reinstated.
     *
     * Requirements:
     *
     * - `operator` signed `Reinstate(agreementId, operator, nonce, deadline)` and is an active operator;
     * - agreement `id` is `Suspended` (not expired).
     *
     * Emits an {AgreementReinstated} event.
     */
    function reinstate(
        uint256 id,
        address operator,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /**
     * @notice Terminates agreement `id` for good.
     *
     * Requirements:
     *
     * - `signer` signed `Terminate(agreementId, signer, nonce, deadline)`;
     * - `signer` is an active operator, or the active institution that proposed the agreement;
     * - agreement `id` is not terminated already (it may be proposed, active, suspended or expired).
     *
     * Emits an {AgreementTerminated} event.
     */
    function terminate(uint256 id, address signer, uint256 nonce, uint256 deadline, bytes calldata signature) external;

    /// @notice The membership contract consulted for every act.
    function membership() external view returns (IMembership);

    /// @notice Commitment `id`; all zero when unknown.
    function commitment(uint256 id) external view returns (Commitment memory);

    /// @notice The number of commitments ever made; ids run from 1 to this number.
    function commitmentCount() external view returns (uint256);

    /// @notice Agreement `id` with its stored state; all zero when unknown.
    function agreement(uint256 id) external view returns (Agreement memory);

    /**
     * @notice The status of agreement `id` now: its stored state, or `Expired` when it
     * is not terminated and `validUntil` < `block.timestamp`.
     *
     * Requirements:
     *
     * - agreement `id` exists.
     */
    function status(uint256 id) external view returns (AgreementStatus);

    /// @notice The number of agreements ever proposed; ids run from 1 to this number.
    function agreementCount() external view returns (uint256);
}
