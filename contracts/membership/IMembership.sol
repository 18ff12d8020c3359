// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/**
 * @title IMembership
 * @notice The read side of the permissioned membership that every other contract of
 * the ledger consults before it accepts an act.
 */
interface IMembership {
    /// @notice What a member may do. `Platform` is the relaying and anchoring service: it
    /// submits log checkpoints but has no vote. `DistrictOperator` is a district's
    /// (区县) office on the platform: it publishes the district's white lists (三(二)) and
    /// has no vote. Roles are admitted by operator quorum; new roles are appended, so the
    /// numbers of the others never change.
    enum Role {
        None,
        Operator,
        Provider,
        Institution,
        Enterprise,
        Auditor,
        Platform,
        DistrictOperator
    }

    /// @notice Life cycle of a membership; only `Active` members can act.
    enum Status {
        None,
        Active,
        Suspended,
        Removed
    }

    /// @notice Kind of an institution member (zero for every other role).
    enum InstitutionKind {
        None,
        Bank,
        Insurer,
        Guarantor,
        CreditServiceAgency
    }

    struct Member {
        Role role;
        Status status;
        InstitutionKind kind;
        uint64 since; // block number of admission
        bytes32 nameHash; // hash of the member's registered name
        bytes32 usccHash; // enterprises: keccak256 of the 统一社会信用代码; zero otherwise
    }

    /// @notice The membership record of `account` (all zero when unknown).
    function memberOf(address account) external view returns (Member memory);

    /// @notice Whether `account` is an active member holding `role`.
    function isActive(address account, Role role) external view returns (bool);

    /// @notice The current account of the enterprise whose USCC hashes to `usccHash`.
    function enterpriseByUscc(bytes32 usccHash) external view returns (address);

    /// @notice The number of operator approvals that executes a governance proposal.
    function quorum() external view returns (uint256);

    /// @notice Seconds after its creation during which a governance proposal can be approved.
    function proposalLifetime() external view returns (uint256);
}
