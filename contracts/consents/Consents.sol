// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {MembershipGated} from "../common/MembershipGated.sol";
import {SignedActions} from "../common/SignedActions.sol";
import {IMembership} from "../membership/IMembership.sol";
import {IAgreements} from "../agreements/IAgreements.sol";
import {ICatalogueRegistry} from "../catalogue/ICatalogueRegistry.sol";
import {IConsents} from "./IConsents.sol";

/**
 * @title Consents
 * @notice Consent grants and the authorization check. Every act is an EIP-712 signature
 * by the enterprise, relayed by anyone; `msg.sender` is never consulted.
 *
 * Storage is shaped for the cost of a grant: an (enterprise, institution) pair is
 * stored once, on its first grant, and each grant then takes two fresh slots (its
 * terms, packed, with a link to the pair's previous grant) and an update of the pair's
 * head. The pairs of an enterprise are linked the same way, for {grantsOf}.
 * {authorize} walks one pair's list, newest first.
 */
contract Consents is IConsents, SignedActions, MembershipGated {
    bytes32 private constant GRANT_TYPEHASH =
        keccak256(
            "Grant(bytes32 usccHash,address institution,uint256 agreementId,uint256 categories,uint256 purposes,uint256 rawCategories,uint48 expiresAt,address enterprise,uint256 nonce,uint256 deadline)"
        );
    bytes32 private constant REVOKE_TYPEHASH =
        keccak256("Revoke(uint256 grantId,address enterprise,uint256 nonce,uint256 deadline)");

    /// @dev A grant as stored: two slots.
    struct GrantRecord {
        uint48 pair; // id of its (enterprise, institution) pair; 0 for an unknown grant
        uint48 previous; // the pair's grant given before this one; 0 for the first
        uint48 agreementId;
        uint48 expiresAt;
        bool revoked;
        uint96 categories;
        uint96 rawCategories;
        uint64 purposes;
    }

    /// @dev Where the grants of an (enterprise, institution) pair start: one slot.
    struct PairHead {
        uint48 pair; // 0 until the pair's first grant
        uint48 latestGrant;
    }

    /// @dev An (enterprise, institution) pair that has at least one grant: two slots.
    struct Pair {
        bytes32 usccHash;
        address institution;
        uint48 previous; // the enterprise's pair created before this one; 0 for the first
    }

    IAgreements private immutable _agreements;
    ICatalogueRegistry private immutable _catalogue;

    uint48 private _grantCount;
    uint48 private _pairCount;
    mapping(uint256 id => GrantRecord) private _grants;
    mapping(uint256 id => Pair) private _pairs;
    mapping(bytes32 usccHash => mapping(address institution => PairHead)) private _heads;
    mapping(bytes32 usccHash => uint48 pairId) private _latestPairs;

    /**
     * @param membership_ the membership contract consulted for every act and authorization
     * @param agreements_ the agreements contract consulted by {authorize}
     * @param catalogue_ the catalogue registry whose public categories need no grant
     */
    constructor(
        IMembership membership_,
        IAgreements agreements_,
        ICatalogueRegistry catalogue_
    ) SignedActions("credit-ledger Consents", "1") MembershipGated(membership_) {
        _agreements = agreements_;
        _catalogue = catalogue_;
    }

    // -- acts -------------------------------------------------------------------------

    /// @inheritdoc IConsents
    function grant(
        bytes32 usccHash,
        address institution,
        uint256 agreementId,
        uint256 categories,
        uint256 purposes,
        uint256 rawCategories,
        uint48 expiresAt,
        address enterprise,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint256 grantId) {
        Grant memory g = Grant({
            usccHash: usccHash,
            institution: institution,
            agreementId: agreementId,
            categories: categories,
            purposes: purposes,
            rawCategories: rawCategories,
            expiresAt: expiresAt,
            revoked: false
        });
        _useSignature(enterprise, _hashGrant(g, enterprise, nonce, deadline), nonce, deadline, signature);
        _requireEnterpriseAccount(usccHash, enterprise);
        _requireActiveMember(enterprise, IMembership.Role.Enterprise);
        _requireActiveMember(institution, IMembership.Role.Institution);
        if (categories == 0 || purposes == 0) revert EmptyGrant(categories, purposes);
        if (rawCategories & ~categories != 0) revert RawCategoriesOutsideGrant(rawCategories, categories);
        if (expiresAt < block.timestamp) revert GrantExpiryInPast(expiresAt, block.timestamp);
        grantId = _addGrant(g);
        emit ConsentGranted(
            grantId,
            g.usccHash,
            g.institution,
            g.agreementId,
            g.categories,
            g.purposes,
            g.rawCategories,
            g.expiresAt,
            enterprise
        );
    }

    /// @inheritdoc IConsents
    function revoke(
        uint256 grantId,
        address enterprise,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        _useSignature(
            enterprise,
            keccak256(abi.encode(REVOKE_TYPEHASH, grantId, enterprise, nonce, deadline)),
            nonce,
            deadline,
            signature
        );
        GrantRecord storage g = _grants[grantId];
        if (g.pair == 0) revert NonexistentGrant(grantId);
        bytes32 usccHash = _pairs[g.pair].usccHash;
        _requireEnterpriseAccount(usccHash, enterprise);
        if (g.revoked) revert GrantAlreadyRevoked(grantId);
        g.revoked = true;
        emit ConsentRevoked(grantId, usccHash, enterprise);
    }

    // -- the authorization check ------------------------------------------------------

    /// @inheritdoc IConsents
    function authorize(
        address requester,
        bytes32 usccHash,
        uint256 categories,
        uint256 purpose,
        uint256 agreementId,
        uint8 level,
        uint256 releaseTime
    ) external view returns (Decision memory) {
        uint256 expiryTime = releaseTime > block.timestamp ? releaseTime : block.timestamp;
        (Reason reason, uint256 grantId) = _evaluate(
            requester,
            usccHash,
            categories,
            purpose,
            agreementId,
            level,
            expiryTime
        );
        return
            Decision({
                allowed: reason == Reason.Allowed,
                reason: reason,
                grantId: grantId,
                rawCategories: grantId == 0 ? 0 : uint256(_grants[grantId].rawCategories) & categories,
                blockNumber: block.number,
                blockTimestamp: block.timestamp
            });
    }

    // -- views ------------------------------------------------------------------------

    /// @inheritdoc IConsents
    function grant(uint256 id) external view returns (Grant memory) {
        GrantRecord storage g = _grants[id];
        Pair storage p = _pairs[g.pair];
        return
            Grant({
                usccHash: p.usccHash,
                institution: p.institution,
                agreementId: g.agreementId,
                categories: g.categories,
                purposes: g.purposes,
                rawCategories: g.rawCategories,
                expiresAt: g.expiresAt,
                revoked: g.revoked
            });
    }

    /// @inheritdoc IConsents
    function grantCount() external view returns (uint256) {
        return _grantCount;
    }

    /// @inheritdoc IConsents
    function grantsOf(bytes32 usccHash) external view returns (uint256[] memory ids) {
        uint256 count;
        for (uint256 p = _latestPairs[usccHash]; p != 0; p = _pairs[p].previous) {
            count += _countGrants(_heads[usccHash][_pairs[p].institution].latestGrant);
        }
        ids = new uint256[](count);
        uint256 next;
        for (uint256 p = _latestPairs[usccHash]; p != 0; p = _pairs[p].previous) {
            uint256 latest = _heads[usccHash][_pairs[p].institution].latestGrant;
            for (uint256 id = latest; id != 0; id = _grants[id].previous) {
                ids[next++] = id;
            }
        }
    }

    /// @inheritdoc IConsents
    function grantIdsFor(bytes32 usccHash, address institution) external view returns (uint256[] memory ids) {
        uint256 latest = _heads[usccHash][institution].latestGrant;
        ids = new uint256[](_countGrants(latest));
        uint256 next;
        for (uint256 id = latest; id != 0; id = _grants[id].previous) {
            ids[next++] = id;
        }
    }

    /// @inheritdoc IConsents
    function membership() external view returns (IMembership) {
        return _membership();
    }

    /// @inheritdoc IConsents
    function agreements() external view returns (IAgreements) {
        return _agreements;
    }

    /// @inheritdoc IConsents
    function catalogue() external view returns (ICatalogueRegistry) {
        return _catalogue;
    }

    // -- internals --------------------------------------------------------------------

    function _hashGrant(
        Grant memory g,
        address enterprise,
        uint256 nonce,
        uint256 deadline
    ) private pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    GRANT_TYPEHASH,
                    g.usccHash,
                    g.institution,
                    g.agreementId,
                    g.categories,
                    g.purposes,
                    g.rawCategories,
                    g.expiresAt,
                    enterprise,
                    nonce,
                    deadline
                )
            );
    }

    /// @dev Stores grant `g` at the head of its (enterprise, institution) pair's list,
    /// creating the pair on its first grant.
    function _addGrant(Grant memory g) private returns (uint256) {
        PairHead storage head = _heads[g.usccHash][g.institution];
        uint48 pairId = head.pair;
        if (pairId == 0) {
            pairId = ++_pairCount;
            head.pair = pairId;
            _pairs[pairId] = Pair(g.usccHash, g.institution, _latestPairs[g.usccHash]);
            _latestPairs[g.usccHash] = pairId;
        }
        uint48 grantId = ++_grantCount;
        _grants[grantId] = GrantRecord({
            pair: pairId,
            previous: head.latestGrant,
            agreementId: SafeCast.toUint48(g.agreementId),
            expiresAt: g.expiresAt,
            revoked: false,
            categories: SafeCast.toUint96(g.categories),
            rawCategories: uint96(g.rawCategories), // a subset of `categories`
            purposes: SafeCast.toUint64(g.purposes)
        });
        head.latestGrant = grantId;
        return grantId;
    }

    /// @dev Steps 1-12 of {authorize}: the reason, and the covering grant if one was needed.
    /// Expiries are judged at `expiryTime`.
    function _evaluate(
        address requester,
        bytes32 usccHash,
        uint256 categories,
        uint256 purpose,
        uint256 agreementId,
        uint8 level,
        uint256 expiryTime
    ) private view returns (Reason, uint256 grantId) {
        // 1. the requester
        if (!_membership().isActive(requester, IMembership.Role.Institution)) {
            return (Reason.RequesterNotActiveInstitution, 0);
        }
        // 2. the subject
        if (_membership().enterpriseByUscc(usccHash) == address(0)) return (Reason.SubjectUnknown, 0);
        // 3.-11. the agreement and the request's scope within it
        Reason reason = _checkAgreement(requester, categories, purpose, agreementId, level, expiryTime);
        if (reason != Reason.Allowed) return (reason, 0);
        // 12. the enterprise's consent, for what is not public
        (, , uint256 publicCategories) = _catalogue.current();
        uint256 restricted = categories & ~publicCategories;
        if (restricted == 0) return (Reason.Allowed, 0);
        grantId = _coveringGrant(usccHash, requester, restricted, purpose, agreementId, expiryTime);
        return (grantId == 0 ? Reason.NoCoveringGrant : Reason.Allowed, grantId);
    }

    /// @dev Steps 3-11 of {authorize}.
    function _checkAgreement(
        address requester,
        uint256 categories,
        uint256 purpose,
        uint256 agreementId,
        uint8 level,
        uint256 expiryTime
    ) private view returns (Reason) {
        IAgreements.Agreement memory a = _agreements.agreement(agreementId);
        if (a.institution == address(0)) return Reason.AgreementUnknown;
        if (a.institution != requester) return Reason.AgreementNotOwned;
        if (a.state != IAgreements.AgreementStatus.Active) return Reason.AgreementNotActive;
        if (block.timestamp < a.validFrom) return Reason.AgreementNotYetValid;
        if (a.validUntil < expiryTime) return Reason.AgreementExpired;
        if (_agreements.commitment(a.commitmentId).breached) return Reason.CommitmentBreached;
        if (categories == 0 || categories & ~a.categories != 0) return Reason.CategoryOutOfScope;
        if (purpose == 0 || purpose & (purpose - 1) != 0 || purpose & ~a.purposes != 0) {
            return Reason.PurposeNotAllowed;
        }
        if (level > a.maxLevel) return Reason.LevelAboveMaximum;
        return Reason.Allowed;
    }

    /// @dev The newest live grant of `usccHash` to `institution` covering `categories`,
    /// `purpose` and `agreementId`, unexpired at `expiryTime`; 0 if there is none.
    function _coveringGrant(
        bytes32 usccHash,
        address institution,
        uint256 categories,
        uint256 purpose,
        uint256 agreementId,
        uint256 expiryTime
    ) private view returns (uint256 id) {
        for (id = _heads[usccHash][institution].latestGrant; id != 0; id = _grants[id].previous) {
            GrantRecord storage g = _grants[id];
            if (
                !g.revoked &&
                expiryTime <= g.expiresAt &&
                (g.agreementId == 0 || g.agreementId == agreementId) &&
                categories & ~uint256(g.categories) == 0 &&
                purpose & ~uint256(g.purposes) == 0
            ) return id;
        }
    }

    function _countGrants(uint256 latest) private view returns (uint256 count) {
        for (uint256 id = latest; id != 0; id = _grants[id].previous) ++count;
    }

    function _requireEnterpriseAccount(bytes32 usccHash, address account) private view {
        address current = _membership().enterpriseByUscc(usccHash);
        if (current != account) revert NotEnterpriseAccount(usccHash, account, current);
    }
}
