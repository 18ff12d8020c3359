// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {MembershipGated} from "../common/MembershipGated.sol";
import {SignedActions} from "../common/SignedActions.sol";
import {IMembership} from "../membership/IMembership.sol";
import {IAgreements} from "./IAgreements.sol";

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
contract Agreements is IAgreements, SignedActions, MembershipGated {
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

    uint256 private _commitmentCount;
    uint256 private _agreementCount;
    mapping(uint256 id => Commitment) private _commitments;
    mapping(uint256 id => Agreement) private _agreements;

    /// @param membership_ the membership contract consulted for every act
    constructor(
        IMembership membership_
    ) SignedActions("credit-ledger Agreements", "1") MembershipGated(membership_) {}

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
        _requireActiveMember(
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
        _requireActiveMember(operator, IMembership.Role.Operator);
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
        _requireActiveMember(institution, IMembership.Role.Institution);
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
        bool owner = signer == a.institution && _membership().isActive(signer, IMembership.Role.Institution);
        if (!owner && !_membership().isActive(signer, IMembership.Role.Operator)) {
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
        return _membership();
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
        _requireActiveMember(operator, IMembership.Role.Operator);
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
}
