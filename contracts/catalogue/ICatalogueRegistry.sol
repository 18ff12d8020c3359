// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IMembership} from "../membership/IMembership.sol";

/**
 * @title ICatalogueRegistry
 * @notice The on-chain anchor of the public credit information catalogue: for each
 * version, the hash of its canonical content, and for the current version the mask of
 * data categories that are public (released without the enterprise's consent).
 *
 * An act by an account that is not an active member holding the role the act needs
 * reverts with `NotActiveMember(account, role)`, the error every membership-gated
 * contract shares, declared by `MembershipGated` (contracts/common/MembershipGated.sol).
 */
interface ICatalogueRegistry {
    /// @dev Operator `operator` published catalogue `version` with content hash `contentHash`.
    event CataloguePublished(
        uint256 indexed version,
        bytes32 contentHash,
        uint256 publicCategories,
        address indexed operator
    );

    /// @dev Versions strictly increase: `version` is not above the current `currentVersion`.
    error NonIncreasingCatalogueVersion(uint256 version, uint256 currentVersion);
    /// @dev The zero hash is not the hash of any catalogue.
    error EmptyCatalogueHash();
    /// @dev Catalogue `version` was never published.
    error NonexistentCatalogueVersion(uint256 version);

    /**
     * @notice Publishes catalogue `version`, which becomes current.
     *
     * Requirements:
     *
     * - `operator` signed `PublishCatalogue(version, contentHash, publicCategories, operator,
     *   nonce, deadline)` before `deadline` and is an active operator;
     * - `version` is above the current version and `contentHash` is not zero.
     *
     * Emits a {CataloguePublished} event.
     */
    function publish(
        uint256 version,
        bytes32 contentHash,
        uint256 publicCategories,
        address operator,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice The current catalogue: all zero before the first publication.
    function current() external view returns (uint256 version, bytes32 contentHash, uint256 publicCategories);

    /**
     * @notice The content hash of catalogue `version`.
     *
     * Requirements:
     *
     * - `version` was published.
     */
    function versionHash(uint256 version) external view returns (bytes32);

    /// @notice The membership contract consulted for every act.
    function membership() external view returns (IMembership);
}
