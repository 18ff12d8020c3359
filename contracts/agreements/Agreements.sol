// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {SignedActions} from "../common/SignedActions.sol";
import {IMembership} from "../membership/IMembership.sol";

/**
 * @title IAgreements
 * @notice Credit commitments (信用承诺) and data-sharing agreements (数据共享协议): what
 * an institution may ask for, for which purposes, up to which sensitivity level, and
 * during which period, backed by its signed commitment to use the data lawfully.
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

    /// @dev `account` is not an active member holding `role`.
    error NotActiveMember(address account, IMembership.Role role);
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

/**
 * @title Agreements
 * @notice Credit commitments and data-sharing agreements. Every act is an EIP-712
 * signature by the acting member, relayed by anyone; `msg.sender` is never consulted.
 *
 * A breached `InstitutionUsage` commitment is recorded once, on the commitment; the
 * agreements relying on it are not touched. The authorization check reads the
 * commitment of the agreement it evaluates, so a breach suspends them all at once,
 * whatever their number.
 */
contract Agreements is IAgreements, SignedActions {
    bytes32 private constant COMMIT_TYPEHASH =
        keccak256("Commit(uint8 kind,bytes32 documentHash,address member,uint256 nonce,uint256 deadline)");
    bytes32 private constant MARK_BREACHED_TYPEHASH =
        keccak256(
            "MarkBreached(uint256 commitmentId,bytes32 evidenceHash,address operator,uint256 nonce,uint256 deadline)"
        );
    bytes32 private constant PROPOSE_TYPEHASH =
        keccak256(
            "ProposeAgreement(uint256 categories,uint256 purposes,uint8 maxLevel,uint48 validFrom,uint48 validUntil,bytes32 documentHash,uint256 commitmentId,address institution,uint256 nonce,uint256 deadline)"
        );
    bytes32 private constant COUNTERSIGN_TYPEHASH =
        keccak256("Countersign(uint256 agreementId,address operator,uint256 nonce,uint256 deadline)");
    bytes32 private constant SUSPEND_TYPEHASH =
        keccak256("Suspend(uint256 agreementId,address operator,uint256 nonce,uint256 deadline)");
    bytes32 private constant REINSTATE_TYPEHASH =
        keccak256("Reinstate(uint256 agreementId,address operator,uint256 nonce,uint256 deadline)");
    bytes32 private constant TERMINATE_TYPEHASH =
        keccak256("Terminate(uint256 agreementId,address signer,uint256 nonce,uint256 deadline)");

    uint8 private constant MAX_LEVEL = 5;

    IMembership private immutable _membership;
    uint256 private _commitmentCount;
    uint256 private _agreementCount;
    mapping(uint256 id => Commitment) private _commitments;
    mapping(uint256 id => Agreement) private _agreements;

    /// @param membership_ the membership contract consulted for every act
    constructor(IMembership membership_) SignedActions("credit-ledger Agreements", "1") {
        _membership = membership_;
    }

    // -- commitments ------------------------------------------------------------------

    /// @inheritdoc IAgreements
    function commit(
        CommitmentKind kind,
        bytes32 documentHash,
        address member,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint256 id) {
        _useSignature(
            member,
            keccak256(abi.encode(COMMIT_TYPEHASH, kind, documentHash, member, nonce, deadline)),
            nonce,
            deadline,
            signature
        );
        _requireActive(
            member,
            kind == CommitmentKind.InstitutionUsage ? IMembership.Role.Institution : IMembership.Role.Enterprise
        );
        id = ++_commitmentCount;
        _commitments[id] = Commitment(member, kind, false, documentHash, bytes32(0));
        emit CommitmentMade(id, member, kind, documentHash);
    }

    /// @inheritdoc IAgreements
    function markBreached(
        uint256 id,
        bytes32 evidenceHash,
        address operator,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        _useSignature(
            operator,
            keccak256(abi.encode(MARK_BREACHED_TYPEHASH, id, evidenceHash, operator, nonce, deadline)),
            nonce,
            deadline,
            signature
        );
        _requireActive(operator, IMembership.Role.Operator);
        Commitment storage c = _existingCommitment(id);
        if (c.breached) revert CommitmentAlreadyBreached(id);
        c.breached = true;
        c.breachEvidenceHash = evidenceHash;
        emit CommitmentBreached(id, operator, evidenceHash);
    }

    // -- agreements -------------------------------------------------------------------

    /// @inheritdoc IAgreements
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
    ) external returns (uint256 id) {
        Agreement memory a = Agreement({
            institution: institution,
            state: AgreementStatus.Proposed,
            maxLevel: maxLevel,
            validFrom: validFrom,
            validUntil: validUntil,
            commitmentId: SafeCast.toUint48(commitmentId),
            categories: categories,
            purposes: purposes,
            documentHash: documentHash
        });
        _useSignature(institution, _hashProposal(a, nonce, deadline), nonce, deadline, signature);
        _requireActive(institution, IMembership.Role.Institution);
        _checkTerms(a);
        id = ++_agreementCount;
        _agreements[id] = a;
        emit AgreementProposed(
            id,
            a.institution,
            a.commitmentId,
            a.categories,
            a.purposes,
            a.maxLevel,
            a.validFrom,
            a.validUntil,
            a.documentHash
        );
    }

    /// @inheritdoc IAgreements
    function countersign(
        uint256 id,
        address operator,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        _useOperatorSignature(COUNTERSIGN_TYPEHASH, id, operator, nonce, deadline, signature);
        Agreement storage a = _transition(id, AgreementStatus.Proposed, AgreementStatus.Active);
        if (_commitments[a.commitmentId].breached) revert CommitmentAlreadyBreached(a.commitmentId);
        emit AgreementCountersigned(id, operator);
    }

    /// @inheritdoc IAgreements
    function suspend(uint256 id, address operator, uint256 nonce, uint256 deadline, bytes calldata signature) external {
        _useOperatorSignature(SUSPEND_TYPEHASH, id, operator, nonce, deadline, signature);
        _transition(id, AgreementStatus.Active, AgreementStatus.Suspended);
        emit AgreementSuspended(id, operator);
    }

    /// @inheritdoc IAgreements
    function reinstate(
        uint256 id,
        address operator,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        _useOperatorSignature(REINSTATE_TYPEHASH, id, operator, nonce, deadline, signature);
        _transition(id, AgreementStatus.Suspended, AgreementStatus.Active);
        emit AgreementReinstated(id, operator);
    }

    /// @inheritdoc IAgreements
    function terminate(uint256 id, address signer, uint256 nonce, uint256 deadline, bytes calldata signature) external {
        _useSignature(
            signer,
            keccak256(abi.encode(TERMINATE_TYPEHASH, id, signer, nonce, deadline)),
            nonce,
            deadline,
            signature
        );
        Agreement storage a = _existingAgreement(id);
        bool owner = signer == a.institution && _membership.isActive(signer, IMembership.Role.Institution);
        if (!owner && !_membership.isActive(signer, IMembership.Role.Operator)) {
            revert UnauthorizedTerminator(id, signer);
        }
        AgreementStatus current = _status(a);
        if (current == AgreementStatus.Terminated) {
            revert UnexpectedAgreementStatus(
                id,
                current,
                _statusBit(AgreementStatus.Proposed) |
                    _statusBit(AgreementStatus.Active) |
                    _statusBit(AgreementStatus.Suspended) |
                    _statusBit(AgreementStatus.Expired)
            );
        }
        a.state = AgreementStatus.Terminated;
        emit AgreementTerminated(id, signer);
    }

    // -- views ------------------------------------------------------------------------

    /// @inheritdoc IAgreements
    function membership() external view returns (IMembership) {
        return _membership;
    }

    /// @inheritdoc IAgreements
    function commitment(uint256 id) external view returns (Commitment memory) {
        return _commitments[id];
    }

    /// @inheritdoc IAgreements
    function commitmentCount() external view returns (uint256) {
        return _commitmentCount;
    }

    /// @inheritdoc IAgreements
    function agreement(uint256 id) external view returns (Agreement memory) {
        return _agreements[id];
    }

    /// @inheritdoc IAgreements
    function status(uint256 id) external view returns (AgreementStatus) {
        return _status(_existingAgreement(id));
    }

    /// @inheritdoc IAgreements
    function agreementCount() external view returns (uint256) {
        return _agreementCount;
    }

    // -- internals --------------------------------------------------------------------

    function _hashProposal(Agreement memory a, uint256 nonce, uint256 deadline) private pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    PROPOSE_TYPEHASH,
                    a.categories,
                    a.purposes,
                    a.maxLevel,
                    a.validFrom,
                    a.validUntil,
                    a.documentHash,
                    a.commitmentId,
                    a.institution,
                    nonce,
                    deadline
                )
            );
    }

    /// @dev Refuses terms that could never authorize anything, and a commitment that is
    /// not the institution's own or is breached. An institution's own commitment is of
    /// kind `InstitutionUsage`: {commit} accepts no other kind from an institution, and
    /// an account holds one role for ever.
    function _checkTerms(Agreement memory a) private view {
        if (a.categories == 0 || a.purposes == 0) revert EmptyAgreementScope(a.categories, a.purposes);
        if (a.maxLevel == 0 || a.maxLevel > MAX_LEVEL) revert InvalidMaxLevel(a.maxLevel);
        if (a.validFrom > a.validUntil || a.validUntil < block.timestamp) {
            revert InvalidValidity(a.validFrom, a.validUntil, block.timestamp);
        }
        Commitment storage c = _existingCommitment(a.commitmentId);
        if (c.member != a.institution) revert CommitmentNotOwned(a.commitmentId, c.member, a.institution);
        if (c.breached) revert CommitmentAlreadyBreached(a.commitmentId);
    }

    function _useOperatorSignature(
        bytes32 typehash,
        uint256 id,
        address operator,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) private {
        _useSignature(operator, keccak256(abi.encode(typehash, id, operator, nonce, deadline)), nonce, deadline, signature);
        _requireActive(operator, IMembership.Role.Operator);
    }

    /// @dev Moves agreement `id` from status `from` (as {status} reports it) to `to`.
    function _transition(
        uint256 id,
        AgreementStatus from,
        AgreementStatus to
    ) private returns (Agreement storage a) {
        a = _existingAgreement(id);
        AgreementStatus current = _status(a);
        if (current != from) revert UnexpectedAgreementStatus(id, current, _statusBit(from));
        a.state = to;
    }

    function _status(Agreement storage a) private view returns (AgreementStatus) {
        AgreementStatus state = a.state;
        if (state != AgreementStatus.Terminated && a.validUntil < block.timestamp) return AgreementStatus.Expired;
        return state;
    }

    function _statusBit(AgreementStatus s) private pure returns (bytes32) {
        return bytes32(1 << uint8(s));
    }

    function _existingCommitment(uint256 id) private view returns (Commitment storage c) {
        c = _commitments[id];
        if (c.member == address(0)) revert NonexistentCommitment(id);
    }

    function _existingAgreement(uint256 id) private view returns (Agreement storage a) {
        a = _agreements[id];
        if (a.institution == address(0)) revert NonexistentAgreement(id);
    }

    function _requireActive(address account, IMembership.Role role) private view {
        if (!_membership.isActive(account, role)) revert NotActiveMember(account, role);
    }
}
