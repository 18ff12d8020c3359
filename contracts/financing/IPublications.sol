// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IMembership} from "../membership/IMembership.sol";

/**
 * @title IPublications
 * @notice The on-chain anchor of the financing services' public documents: white lists
 * of recommended enterprises, loan products and KPI snapshots. Each document has an id
 * within its kind and numbered versions 1, 2, …; each version names the SHA-256 of the
 * document's RFC 8785 form, its publisher and its validity. A version is published by an
 * EIP-712 signature of its publisher, relayed by anyone; a removal or a withdrawal is a
 * new version, so history is never rewritten.
 *
 * Who may publish: white lists, active district operators (any of them may continue a
 * list); KPI snapshots, active operators; loan products, the active institution that
 * published the product's first version, and only it.
 *
 * An act by an account without the kind's role reverts with
 * `NotActiveMember(account, role)`, declared by `MembershipGated`.
 */
interface IPublications {
    /// @notice What a document is; `None` is never published.
    enum Kind {
        None,
        WhiteList,
        LoanProduct,
        KpiSnapshot
    }

    /// @notice One version of a document.
    struct Publication {
        bytes32 contentHash; // SHA-256 of the version's RFC 8785 form
        address publisher;
        uint64 validFrom; // unix seconds
        uint64 validUntil; // unix seconds; 0 = until a later version
        uint64 publishedAt; // timestamp of the block of publication
        uint64 blockNumber; // block of publication
    }

    /// @dev `publisher` published `version` of document `documentId` of `kind`.
    event Published(
        Kind indexed kind,
        bytes32 indexed documentId,
        uint256 version,
        bytes32 contentHash,
        address indexed publisher,
        uint64 validFrom,
        uint64 validUntil
    );

    /// @dev `kind` is not a publishable kind.
    error InvalidPublicationKind(uint8 kind);
    /// @dev The zero hash is not the hash of any document; the zero id names no document.
    error EmptyPublication();
    /// @dev The version published must be the next one, `expected`.
    error StalePublicationVersion(Kind kind, bytes32 documentId, uint256 version, uint256 expected);
    /// @dev A validity ends after it starts (or is open, `validUntil` 0).
    error InvalidValidity(uint64 validFrom, uint64 validUntil);
    /// @dev Only `owner`, the first version's publisher, publishes later versions of a loan product.
    error NotDocumentOwner(Kind kind, bytes32 documentId, address owner, address publisher);
    /// @dev Document `documentId` of `kind` has no version `version`.
    error NonexistentPublication(Kind kind, bytes32 documentId, uint256 version);

    /**
     * @notice Publishes `version` of document `documentId` of `kind`, signed by
     * `publisher`. Returns nothing; the version is the one signed.
     *
     * Requirements:
     *
     * - `kind` is WhiteList, LoanProduct or KpiSnapshot ({InvalidPublicationKind});
     * - `publisher` is an active district operator (WhiteList), operator (KpiSnapshot) or
     *   institution (LoanProduct) and signed `Publish(kind, documentId, version, contentHash, validFrom,
     *   validUntil, publisher, nonce, deadline)` before `deadline`;
     * - neither `documentId` nor `contentHash` is zero ({EmptyPublication});
     * - `version` is the document's current version count plus one ({StalePublicationVersion});
     * - `validUntil` is 0 or after `validFrom` ({InvalidValidity});
     * - for a loan product's later version, `publisher` published its first ({NotDocumentOwner}).
     *
     * Emits {Published}.
     */
    function publish(
        uint8 kind,
        bytes32 documentId,
        uint256 version,
        bytes32 contentHash,
        uint64 validFrom,
        uint64 validUntil,
        address publisher,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /**
     * @notice Version `version` of document `documentId` of `kind`.
     *
     * Requirements:
     *
     * - the version was published ({NonexistentPublication}).
     */
    function publication(Kind kind, bytes32 documentId, uint256 version) external view returns (Publication memory);

    /// @notice The number of versions of document `documentId` of `kind` (0: never published).
    function versionCount(Kind kind, bytes32 documentId) external view returns (uint256);

    /// @notice The publisher of the first version of document `documentId` of `kind` (zero if none).
    function ownerOf(Kind kind, bytes32 documentId) external view returns (address);

    /// @notice The membership contract consulted for every act.
    function membership() external view returns (IMembership);
}
