// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {MembershipGated} from "../common/MembershipGated.sol";
import {SignedActions} from "../common/SignedActions.sol";
import {IMembership} from "../membership/IMembership.sol";
import {IPublications} from "./IPublications.sol";

/**
 * @title Publications
 * @notice Versioned public documents of the financing services (white lists, loan
 * products, KPI snapshots), each version's content hash anchored by its publisher's
 * EIP-712 signature, relayed by anyone. The role that may publish is the kind's, read
 * from the membership in the block of the act.
 */
contract Publications is IPublications, SignedActions, MembershipGated {
    bytes32 private constant PUBLISH_TYPEHASH =
        keccak256(
            "Publish(uint8 kind,bytes32 documentId,uint256 version,bytes32 contentHash,uint64 validFrom,uint64 validUntil,address publisher,uint256 nonce,uint256 deadline)"
        );

    mapping(Kind kind => mapping(bytes32 documentId => Publication[] versions)) private _versions;

    /// @param membership_ the membership contract consulted for every act
    constructor(IMembership membership_) SignedActions("credit-ledger Publications", "1") MembershipGated(membership_) {}

    /// @inheritdoc IPublications
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
    ) external {
        Kind k = _kind(kind);
        _requireActiveMember(publisher, _publisherRole(k));
        _useSignature(
            publisher,
            keccak256(
                abi.encode(
                    PUBLISH_TYPEHASH,
                    kind,
                    documentId,
                    version,
                    contentHash,
                    validFrom,
                    validUntil,
                    publisher,
                    nonce,
                    deadline
                )
            ),
            nonce,
            deadline,
            signature
        );
        if (documentId == bytes32(0) || contentHash == bytes32(0)) revert EmptyPublication();
        Publication[] storage versions = _versions[k][documentId];
        uint256 expected = versions.length + 1;
        if (version != expected) revert StalePublicationVersion(k, documentId, version, expected);
        if (validUntil != 0 && validUntil <= validFrom) revert InvalidValidity(validFrom, validUntil);
        if (k == Kind.LoanProduct && versions.length > 0 && versions[0].publisher != publisher) {
            revert NotDocumentOwner(k, documentId, versions[0].publisher, publisher);
        }
        versions.push(
            Publication(
                contentHash,
                publisher,
                validFrom,
                validUntil,
                SafeCast.toUint64(block.timestamp),
                SafeCast.toUint64(block.number)
            )
        );
        emit Published(k, documentId, version, contentHash, publisher, validFrom, validUntil);
    }

    /// @inheritdoc IPublications
    function publication(Kind kind, bytes32 documentId, uint256 version) external view returns (Publication memory) {
        Publication[] storage versions = _versions[kind][documentId];
        if (version == 0 || version > versions.length) revert NonexistentPublication(kind, documentId, version);
        return versions[version - 1];
    }

    /// @inheritdoc IPublications
    function versionCount(Kind kind, bytes32 documentId) external view returns (uint256) {
        return _versions[kind][documentId].length;
    }

    /// @inheritdoc IPublications
    function ownerOf(Kind kind, bytes32 documentId) external view returns (address) {
        Publication[] storage versions = _versions[kind][documentId];
        return versions.length == 0 ? address(0) : versions[0].publisher;
    }

    /// @inheritdoc IPublications
    function membership() external view returns (IMembership) {
        return _membership();
    }

    function _kind(uint8 kind) private pure returns (Kind) {
        if (kind == 0 || kind > uint8(type(Kind).max)) revert InvalidPublicationKind(kind);
        return Kind(kind);
    }

    /// @dev White lists are a district's (its district operator's), loan products an
    /// institution's, KPI snapshots the platform operators'.
    function _publisherRole(Kind kind) private pure returns (IMembership.Role) {
        if (kind == Kind.WhiteList) return IMembership.Role.DistrictOperator;
        return kind == Kind.LoanProduct ? IMembership.Role.Institution : IMembership.Role.Operator;
    }
}
