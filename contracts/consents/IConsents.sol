// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IMembership} from "../membership/IMembership.sol";
import {IAgreements} from "../agreements/IAgreements.sol";
import {ICatalogueRegistry} from "../catalogue/ICatalogueRegistry.sol";

/**
 * @title IConsents
 * @notice Enterprises' explicit consent grants to institutions, and the one check that
 * decides whether an institution may receive an enterprise's data.
 *
 * An act by an account that is not an active member holding the role the act needs
 * reverts with `NotActiveMember(account, role)`, the error every membership-gated
 * contract shares, declared by `MembershipGated` (contracts/common/MembershipGated.sol).
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
     * time `releaseTime` (unix seconds; 0 for the block's own time).
     *
     * Why `releaseTime`: a permissioned chain may be idle, and a block's timestamp is only the
     * time it was sealed. An expiry (of a grant or an agreement) is judged at
     * `max(releaseTime, block.timestamp)` and a start of validity at `block.timestamp`: of the
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
     *    `validUntil`, where the expiry time is `max(releaseTime, block.timestamp)`);
     * 8. the agreement's commitment is not breached;
     * 9. `categories` is not empty and within the agreement's categories;
     * 10. `purpose` is a single bit within the agreement's purposes;
     * 11. `level` <= the agreement's `maxLevel`;
     * 12. unless every requested category is public in the current catalogue, one grant
     *     of the enterprise to `requester` covers all requested non-public categories and
     *     `purpose`: not revoked, expiry time <= `expiresAt`, its agreement `agreementId` or 0.
     *     Grants are tried newest first.
     *
     * The result depends on chain state, the block's number and timestamp, and `releaseTime`
     * only, so a call at a past block with the same `releaseTime` returns the decision as it was.
     */
    function authorize(
        address requester,
        bytes32 usccHash,
        uint256 categories,
        uint256 purpose,
        uint256 agreementId,
        uint8 level,
        uint256 releaseTime
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
