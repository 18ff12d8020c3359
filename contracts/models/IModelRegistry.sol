// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IMembership} from "../membership/IMembership.sol";

/**
 * @title IModelRegistry
 * @notice The on-chain governance of credit-evaluation models: each model version names
 * the hash of its published model document, the hash of its model card, the version of
 * the indicator file it reads and the mask of the data categories it takes as input. A
 * version is proposed by an operator and becomes active once operators reaching the
 * membership's quorum approved it; it is retired the same way. Only an active version
 * may be used to evaluate an enterprise.
 *
 * An act by an account that is not an active operator reverts with
 * `NotActiveMember(account, role)`, declared by `MembershipGated`.
 */
interface IModelRegistry {
    /// @notice Where a model version stands.
    enum Status {
        None,
        Proposed,
        Active,
        Retired
    }

    /// @notice What a proposal does once approved by quorum.
    enum Action {
        Activate,
        Retire
    }

    /// @notice A model version.
    struct ModelVersion {
        bytes32 modelHash; // SHA-256 of the model document's RFC 8785 form
        bytes32 cardHash; // SHA-256 of the model card's RFC 8785 form
        uint256 indicatorVersion; // version of the indicator file the model reads
        uint256 inputCategories; // bit mask of the catalogue categories it reads
        Status status;
    }

    /// @notice A governance proposal about a model version.
    struct Proposal {
        Action action;
        bool executed;
        uint16 approvals;
        uint48 expiresAt; // last second at which it can be approved
        uint256 version;
    }

    /// @dev Operator `proposer` proposed model `version`.
    event ModelProposed(
        uint256 indexed version,
        bytes32 modelHash,
        bytes32 cardHash,
        uint256 indicatorVersion,
        uint256 inputCategories,
        address indexed proposer
    );
    /// @dev Proposal `id` to apply `action` to model `version` was created.
    event ModelProposalCreated(uint256 indexed id, Action action, uint256 indexed version, uint48 expiresAt);
    /// @dev Operator `approver` approved proposal `id`, which now has `approvals`.
    event ModelProposalApproved(uint256 indexed id, address indexed approver, uint256 approvals);
    /// @dev Model `version` became active (proposal `id` reached the quorum).
    event ModelActivated(uint256 indexed version, uint256 indexed id);
    /// @dev Model `version` was retired (proposal `id` reached the quorum).
    event ModelRetired(uint256 indexed version, uint256 indexed id);

    /// @dev The zero hash is not the hash of any model document or card.
    error EmptyModelHash();
    /// @dev A model reads at least one category.
    error NoModelInputs();
    /// @dev The model document hashing to `modelHash` is already model `version`.
    error DuplicateModel(bytes32 modelHash, uint256 version);
    /// @dev Model `version` was never proposed.
    error NonexistentModelVersion(uint256 version);
    /// @dev Model `version` is `status`, not active.
    error ModelNotActive(uint256 version, Status status);
    /// @dev Model proposal `id` does not exist.
    error NonexistentModelProposal(uint256 id);
    /// @dev Model proposal `id` was already executed.
    error ModelProposalAlreadyExecuted(uint256 id);
    /// @dev Model proposal `id` expired at `expiresAt`.
    error ModelProposalExpired(uint256 id, uint256 expiresAt);
    /// @dev Operator `approver` already approved model proposal `id`.
    error DuplicateModelApproval(uint256 id, address approver);

    /**
     * @notice Proposes a new model version, signed by operator `operator`, whose
     * signature counts as the first approval of its activation; activates it at once
     * when the quorum is 1. Returns the new version.
     *
     * Requirements:
     *
     * - `operator` is an active operator and signed `ProposeModel(modelHash, cardHash,
     *   indicatorVersion, inputCategories, operator, nonce, deadline)` before `deadline`;
     * - neither hash is zero, `inputCategories` is not zero, and no version has this
     *   `modelHash`.
     *
     * Emits {ModelProposed}, {ModelProposalCreated}, {ModelProposalApproved} and, at
     * quorum 1, {ModelActivated}.
     */
    function proposeModel(
        bytes32 modelHash,
        bytes32 cardHash,
        uint256 indicatorVersion,
        uint256 inputCategories,
        address operator,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint256 version);

    /**
     * @notice Proposes to retire active model `version`, signed by operator `operator`,
     * whose signature counts as the first approval. Returns the proposal id.
     *
     * Requirements:
     *
     * - `operator` is an active operator and signed `ProposeModelRetirement(version,
     *   operator, nonce, deadline)` before `deadline`;
     * - `version` is active.
     *
     * Emits {ModelProposalCreated}, {ModelProposalApproved} and, at quorum 1, {ModelRetired}.
     */
    function proposeRetirement(
        uint256 version,
        address operator,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint256 id);

    /**
     * @notice Records operator `operator`'s approval of proposal `id` and executes the
     * proposal once its approvals reach the membership's current quorum.
     *
     * Requirements:
     *
     * - `operator` is an active operator and signed `ApproveModelProposal(id, operator,
     *   nonce, deadline)` before `deadline`;
     * - proposal `id` exists, is not executed, has not expired, was not approved by
     *   `operator`; on execution, a retirement's version is still active.
     *
     * Emits {ModelProposalApproved}; on execution {ModelActivated} or {ModelRetired}.
     */
    function approve(uint256 id, address operator, uint256 nonce, uint256 deadline, bytes calldata signature) external;

    /**
     * @notice Model `version`.
     *
     * Requirements:
     *
     * - `version` was proposed.
     */
    function model(uint256 version) external view returns (ModelVersion memory);

    /**
     * @notice The hashes and inputs of model `version`, which must be active in the
     * block of the call.
     *
     * Requirements:
     *
     * - `version` was proposed ({NonexistentModelVersion}) and is active ({ModelNotActive}).
     */
    function activeModel(uint256 version) external view returns (ModelVersion memory);

    /**
     * @notice Proposal `id`.
     *
     * Requirements:
     *
     * - proposal `id` exists.
     */
    function proposal(uint256 id) external view returns (Proposal memory);

    /// @notice Whether operator `operator` approved proposal `id`.
    function hasApproved(uint256 id, address operator) external view returns (bool);

    /// @notice The number of model versions proposed so far (versions are 1 … count).
    function versionCount() external view returns (uint256);

    /// @notice The number of proposals so far (ids are 1 … count).
    function proposalCount() external view returns (uint256);

    /// @notice The membership contract consulted for every act and for the quorum.
    function membership() external view returns (IMembership);
}
