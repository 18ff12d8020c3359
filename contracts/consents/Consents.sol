// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {SignedActions} from "../common/SignedActions.sol";
import {IMembership} from "../membership/IMembership.sol";
import {IAgreements} from "../agreements/Agreements.sol";
import {ICatalogueRegistry} from "../catalogue/CatalogueRegistry.sol";

/**
 * @title IConsents
 * @notice Enterprises' explicit consent grants to institutions, and the one check that
 * decides whether an institution may receive an enterprise's data.
 */
interface IConsents {
    /**
     * @notice Why {authorize} allowed or refused a request. The checks run in the order
     * of this list and the first that fails is the reason; see {authorize}.
     */
    enum Reason {
        Allowed,
        RequesterNotActiveInstitution,
        SubjectUnknown,
        AgreementUnknown,
        AgreementNotOwned,
        AgreementNotActive,
        AgreementNotYetValid,
        AgreementExpired,
        CommitmentBreached,
        CategoryOutOfScope,
        PurposeNotAllowed,
        LevelAboveMaximum,
        NoCoveringGrant
    }

    /// @notice The answer of {authorize}, with the block it holds at.
    struct Decision {
        bool allowed;
        Reason reason;
        uint256 grantId; // the covering grant; 0 when refused or when every category is public
        uint256 rawCategories; // requested categories the grant releases unmasked
        uint256 blockNumber; // the block the decision was evaluated at
        uint256 blockTimestamp; // that block's timestamp, so the caller can bound its age
    }

    /// @notice A consent grant, as {grant} reports it.
    struct Grant {
        bytes32 usccHash; // the enterprise, by the hash of its USCC; zero for an unknown grant
        address institution;
        uint256 agreementId; // 0: any active agreement of the institution
        uint256 categories;
        uint256 purposes;
        uint256 rawCategories; // subset of `categories` released unmasked
        uint48 expiresAt; // last second at which the grant covers requests
        bool revoked;
    }

    /// @dev `enterprise`, the account of `usccHash`, granted consent `grantId` to `institution`.
    event ConsentGranted(
        uint256 indexed grantId,
        bytes32 indexed usccHash,
        address indexed institution,
        uint256 agreementId,
        uint256 categories,
        uint256 purposes,
        uint256 rawCategories,
        uint48 expiresAt,
        address enterprise
    );
    /// @dev `enterprise`, the account of `usccHash`, revoked consent `grantId`.
    event ConsentRevoked(uint256 indexed grantId, bytes32 indexed usccHash, address indexed enterprise);

    /// @dev `account` is not an active member holding `role`.
    error NotActiveMember(address account, IMembership.Role role);
    /// @dev `account` is not the current account (`current`) of the enterprise with `usccHash`.
    error NotEnterpriseAccount(bytes32 usccHash, address account, address current);
    /// @dev A grant must name at least one category and one purpose.
    error EmptyGrant(uint256 categories, uint256 purposes);
    /// @dev Categories released unmasked must be among the categories granted.
    error RawCategoriesOutsideGrant(uint256 rawCategories, uint256 categories);
    /// @dev A grant must not be expired (`expiresAt` < `timestamp`) when it is given.
    error GrantExpiryInPast(uint48 expiresAt, uint256 timestamp);
    /// @dev No grant has id `id`.
    error NonexistentGrant(uint256 id);
    /// @dev Grant `id` was already revoked.
    error GrantAlreadyRevoked(uint256 id);

    /**
     * @notice Records the consent of the enterprise with `usccHash` that `institution`
     * receive `categories` for `purposes` under agreement `agreementId` (0: any of its
     * agreements), with `rawCategories` unmasked, until `expiresAt`. The grant belongs to
     * the enterprise, not to its key: it survives a key rotation. `agreementId` is not
     * checked here (the agreement may not even be proposed yet); {authorize} only accepts
     * an agreement of the requesting institution, so a grant naming another
     * institution's agreement never covers anything.
     *
     * Requirements:
     *
     * - `enterprise` signed `Grant(usccHash, institution, agreementId, categories, purposes,
     *   rawCategories, expiresAt, enterprise, nonce, deadline)` before `deadline`;
     * - `enterprise` is the current account of `usccHash` and an active enterprise;
     * - `institution` is an active institution;
     * - `categories` and `purposes` are not empty, `rawCategories` is a subset of
     *   `categories`, and `expiresAt` is not in the past;
     * - category bits are below 96 and purpose bits below 64 (the storage widths).
     *
     * Emits a {ConsentGranted} event.
     */
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
    ) external returns (uint256 grantId);

    /**
     * @notice Revokes grant `grantId`, from the block of this transaction on.
     *
     * Requirements:
     *
     * - `enterprise` signed `Revoke(grantId, enterprise, nonce, deadline)` before `deadline`;
     * - `enterprise` is the current account of the grant's enterprise; a suspended enterprise
     *   may still revoke, since withdrawing consent only narrows access (a subject's right);
     * - the grant exists and is not revoked yet.
     *
     * Emits a {ConsentRevoked} event.
     */
    function revoke(
        uint256 grantId,
        address enterprise,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /**
     * @notice Whether `requester` may receive the data `categories` of the enterprise
     * with `usccHash` for `purpose` (exactly one purpose bit) under agreement
     * `agreementId`, at sensitivity `level`, in the current block, for a release at
     * time `at` (unix seconds; 0 for the block's own time).
     *
     * Why `at`: a permissioned chain may be idle, and a block's timestamp is only the
     * time it was sealed. An expiry (of a grant or an agreement) is judged at
     * `max(at, block.timestamp)` and a start of validity at `block.timestamp`: of the
     * two clocks, the one that refuses wins. A caller can therefore only narrow what
     * is allowed, never widen it; the release path passes its
     * own time and bounds the block's age against it (`blockTimestamp`), and the auditor
     * replays with the time the access trail records.
     *
     * The checks, in order (the first failing one is the reason):
     *
     * 1. `requester` is an active institution;
     * 2. an enterprise is registered under `usccHash`;
     * 3. agreement `agreementId` exists, 4. was proposed by `requester`, 5. is `Active`,
     *    6. is valid already (`validFrom` <= block time) and 7. still (expiry time <=
     *    `validUntil`, where the expiry time is `max(at, block.timestamp)`);
     * 8. the agreement's commitment is not breached;
     * 9. `categories` is not empty and within the agreement's categories;
     * 10. `purpose` is a single bit within the agreement's purposes;
     * 11. `level` <= the agreement's `maxLevel`;
     * 12. unless every requested category is public in the current catalogue, one grant
     *     of the enterprise to `requester` covers all requested non-public categories and
     *     `purpose`: not revoked, expiry time <= `expiresAt`, its agreement `agreementId` or 0.
     *     Grants are tried newest first.
     *
     * The result depends on chain state, the block's number and timestamp, and `at`
     * only, so a call at a past block with the same `at` returns the decision as it was.
     */
    function authorize(
        address requester,
        bytes32 usccHash,
        uint256 categories,
        uint256 purpose,
        uint256 agreementId,
        uint8 level,
        uint256 at
    ) external view returns (Decision memory);

    /// @notice Grant `id`; all zero when unknown.
    function grant(uint256 id) external view returns (Grant memory);

    /// @notice The number of grants ever given; ids run from 1 to this number.
    function grantCount() external view returns (uint256);

    /// @notice Ids of every grant of the enterprise with `usccHash`, grouped by institution, newest first.
    function grantsOf(bytes32 usccHash) external view returns (uint256[] memory);

    /// @notice Ids of the grants of the enterprise with `usccHash` to `institution`, newest first.
    function grantIdsFor(bytes32 usccHash, address institution) external view returns (uint256[] memory);

    /// @notice The membership contract consulted for every act and every authorization.
    function membership() external view returns (IMembership);

    /// @notice The agreements contract consulted by {authorize}.
    function agreements() external view returns (IAgreements);

    /// @notice The catalogue registry whose public categories need no grant.
    function catalogue() external view returns (ICatalogueRegistry);
}

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
contract Consents is IConsents, SignedActions {
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

    IMembership private immutable _membership;
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
    ) SignedActions("credit-ledger Consents", "1") {
        _membership = membership_;
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
        _requireActive(enterprise, IMembership.Role.Enterprise);
        _requireActive(institution, IMembership.Role.Institution);
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
        uint256 at
    ) external view returns (Decision memory) {
        uint256 expiryTime = at > block.timestamp ? at : block.timestamp;
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
        return _membership;
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
        if (!_membership.isActive(requester, IMembership.Role.Institution)) {
            return (Reason.RequesterNotActiveInstitution, 0);
        }
        // 2. the subject
        if (_membership.enterpriseByUscc(usccHash) == address(0)) return (Reason.SubjectUnknown, 0);
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
        address current = _membership.enterpriseByUscc(usccHash);
        if (current != account) revert NotEnterpriseAccount(usccHash, account, current);
    }

    function _requireActive(address account, IMembership.Role role) private view {
        if (!_membership.isActive(account, role)) revert NotActiveMember(account, role);
    }
}
