// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {MembershipGated} from "../common/MembershipGated.sol";
import {SignedActions} from "../common/SignedActions.sol";
import {IMembership} from "../membership/IMembership.sol";
import {ICatalogueRegistry} from "./ICatalogueRegistry.sol";

/**
 * @title CatalogueRegistry
 * @notice Versions of the catalogue, published by operators' EIP-712 signatures relayed
 * by anyone. Only the current version's public mask is kept: authorization always
 * applies the catalogue in force in the block it is evaluated at.
 */
contract CatalogueRegistry is ICatalogueRegistry, SignedActions, MembershipGated {
    bytes32 private constant PUBLISH_TYPEHASH =
        keccak256(
            "PublishCatalogue(uint256 version,bytes32 contentHash,uint256 publicCategories,address operator,uint256 nonce,uint256 deadline)"
        );

    uint256 private _version;
    uint256 private _publicCategories;
    mapping(uint256 version => bytes32 contentHash) private _hashes;

    /// @param membership_ the membership contract consulted for every act
    constructor(
        IMembership membership_
    ) SignedActions("credit-ledger CatalogueRegistry", "1") MembershipGated(membership_) {}

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
        _requireActiveMember(operator, IMembership.Role.Operator);
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
        return _membership();
    }
}
