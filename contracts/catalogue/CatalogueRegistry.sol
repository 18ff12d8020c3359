// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {SignedActions} from "../common/SignedActions.sol";
import {IMembership} from "../membership/IMembership.sol";

/**
 * @title ICatalogueRegistry
 * @notice The on-chain anchor of the public credit information catalogue: for each
 * version, the hash of its canonical content, and for the current version the mask of
 * data categories that are public (released without the enterprise's consent).
 */
interface ICatalogueRegistry {
    /// @dev Operator `operator` published catalogue `version` with content hash `contentHash`.
    event CataloguePublished(
        uint256 indexed version,
        bytes32 contentHash,
        uint256 publicCategories,
        address indexed operator
    );

    /// @dev `account` is not an active member holding `role`.
    error NotActiveMember(address account, IMembership.Role role);
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

/**
 * @title CatalogueRegistry
 * @notice Versions of the catalogue, published by operators' EIP-712 signatures relayed
 * by anyone. Only the current version's public mask is kept: authorization always
 * applies the catalogue in force in the block it is evaluated at.
 */
contract CatalogueRegistry is ICatalogueRegistry, SignedActions {
    bytes32 private constant PUBLISH_TYPEHASH =
        keccak256(
            "PublishCatalogue(uint256 version,bytes32 contentHash,uint256 publicCategories,address operator,uint256 nonce,uint256 deadline)"
        );

    IMembership private immutable _membership;
    uint256 private _version;
    uint256 private _publicCategories;
    mapping(uint256 version => bytes32 contentHash) private _hashes;

    /// @param membership_ the membership contract consulted for every act
    constructor(IMembership membership_) SignedActions("credit-ledger CatalogueRegistry", "1") {
        _membership = membership_;
    }

    /// @inheritdoc ICatalogueRegistry
    function publish(
        uint256 version,
        bytes32 contentHash,
        uint256 publicCategories,
        address operator,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        _useSignature(
            operator,
            keccak256(abi.encode(PUBLISH_TYPEHASH, version, contentHash, publicCategories, operator, nonce, deadline)),
            nonce,
            deadline,
            signature
        );
        if (!_membership.isActive(operator, IMembership.Role.Operator)) {
            revert NotActiveMember(operator, IMembership.Role.Operator);
        }
        if (version <= _version) revert NonIncreasingCatalogueVersion(version, _version);
        if (contentHash == bytes32(0)) revert EmptyCatalogueHash();
        _version = version;
        _publicCategories = publicCategories;
        _hashes[version] = contentHash;
        emit CataloguePublished(version, contentHash, publicCategories, operator);
    }

    /// @inheritdoc ICatalogueRegistry
    function current() external view returns (uint256 version, bytes32 contentHash, uint256 publicCategories) {
        return (_version, _hashes[_version], _publicCategories);
    }

    /// @inheritdoc ICatalogueRegistry
    function versionHash(uint256 version) external view returns (bytes32 contentHash) {
        contentHash = _hashes[version];
        if (contentHash == bytes32(0)) revert NonexistentCatalogueVersion(version);
    }

    /// @inheritdoc ICatalogueRegistry
    function membership() external view returns (IMembership) {
        return _membership;
    }
}
