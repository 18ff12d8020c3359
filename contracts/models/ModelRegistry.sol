// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {MembershipGated} from "../common/MembershipGated.sol";
import {SignedActions} from "../common/SignedActions.sol";
import {IMembership} from "../membership/IMembership.sol";
import {IModelRegistry} from "./IModelRegistry.sol";

/**
 * @title ModelRegistry
 * @notice Credit-evaluation model versions, activated and retired by operator quorum
 * through EIP-712 signatures relayed by anyone. The quorum and the proposal lifetime are
 * the membership's, read at each act, so model governance follows membership governance.
 */
contract ModelRegistry is IModelRegistry, SignedActions, MembershipGated {
    bytes32 private constant PROPOSE_MODEL_TYPEHASH =
        keccak256(
            "ProposeModel(bytes32 modelHash,bytes32 cardHash,uint256 indicatorVersion,uint256 inputCategories,address operator,uint256 nonce,uint256 deadline)"
        );
    bytes32 private constant PROPOSE_RETIREMENT_TYPEHASH =
        keccak256("ProposeModelRetirement(uint256 version,address operator,uint256 nonce,uint256 deadline)");
    bytes32 private constant APPROVE_TYPEHASH =
        keccak256("ApproveModelProposal(uint256 id,address operator,uint256 nonce,uint256 deadline)");

    uint256 private _versionCount;
    uint256 private _proposalCount;
    mapping(uint256 version => ModelVersion) private _models;
    mapping(bytes32 modelHash => uint256 version) private _versionOfHash;
    mapping(uint256 id => Proposal) private _proposals;
    mapping(uint256 id => mapping(address operator => bool)) private _approved;

    /// @param membership_ the membership contract consulted for every act and the quorum
    constructor(IMembership membership_) SignedActions("credit-ledger ModelRegistry", "1") MembershipGated(membership_) {}

    /// @inheritdoc IModelRegistry
    function proposeModel(
        bytes32 modelHash,
        bytes32 cardHash,
        uint256 indicatorVersion,
        uint256 inputCategories,
        address operator,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint256 version) {
        _requireActiveMember(operator, IMembership.Role.Operator);
        _useSignature(
            operator,
            keccak256(
                abi.encode(
                    PROPOSE_MODEL_TYPEHASH,
                    modelHash,
                    cardHash,
                    indicatorVersion,
                    inputCategories,
                    operator,
                    nonce,
                    deadline
                )
            ),
            nonce,
            deadline,
            signature
        );
        if (modelHash == bytes32(0) || cardHash == bytes32(0)) revert EmptyModelHash();
        if (inputCategories == 0) revert NoModelInputs();
        uint256 existing = _versionOfHash[modelHash];
        if (existing != 0) revert DuplicateModel(modelHash, existing);
        version = ++_versionCount;
        _models[version] = ModelVersion(modelHash, cardHash, indicatorVersion, inputCategories, Status.Proposed);
        _versionOfHash[modelHash] = version;
        emit ModelProposed(version, modelHash, cardHash, indicatorVersion, inputCategories, operator);
        _propose(Action.Activate, version, operator);
    }

    /// @inheritdoc IModelRegistry
    function proposeRetirement(
        uint256 version,
        address operator,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint256 id) {
        _requireActiveMember(operator, IMembership.Role.Operator);
        _useSignature(
            operator,
            keccak256(abi.encode(PROPOSE_RETIREMENT_TYPEHASH, version, operator, nonce, deadline)),
            nonce,
            deadline,
            signature
        );
        _requireActive(version);
        return _propose(Action.Retire, version, operator);
    }

    /// @inheritdoc IModelRegistry
    function approve(uint256 id, address operator, uint256 nonce, uint256 deadline, bytes calldata signature) external {
        _requireActiveMember(operator, IMembership.Role.Operator);
        Proposal storage p = _proposal(id);
        if (p.executed) revert ModelProposalAlreadyExecuted(id);
        if (block.timestamp > p.expiresAt) revert ModelProposalExpired(id, p.expiresAt);
        if (_approved[id][operator]) revert DuplicateModelApproval(id, operator);
        _useSignature(
            operator,
            keccak256(abi.encode(APPROVE_TYPEHASH, id, operator, nonce, deadline)),
            nonce,
            deadline,
            signature
        );
        _approve(id, operator);
    }

    /// @inheritdoc IModelRegistry
    function model(uint256 version) public view returns (ModelVersion memory) {
        ModelVersion storage m = _models[version];
        if (m.status == Status.None) revert NonexistentModelVersion(version);
        return m;
    }

    /// @inheritdoc IModelRegistry
    function activeModel(uint256 version) external view returns (ModelVersion memory) {
        return _requireActive(version);
    }

    /// @inheritdoc IModelRegistry
    function proposal(uint256 id) external view returns (Proposal memory) {
        return _proposal(id);
    }

    /// @inheritdoc IModelRegistry
    function hasApproved(uint256 id, address operator) external view returns (bool) {
        return _approved[id][operator];
    }

    /// @inheritdoc IModelRegistry
    function versionCount() external view returns (uint256) {
        return _versionCount;
    }

    /// @inheritdoc IModelRegistry
    function proposalCount() external view returns (uint256) {
        return _proposalCount;
    }

    /// @inheritdoc IModelRegistry
    function membership() external view returns (IMembership) {
        return _membership();
    }

    function _requireActive(uint256 version) private view returns (ModelVersion memory m) {
        m = model(version);
        if (m.status != Status.Active) revert ModelNotActive(version, m.status);
    }

    function _proposal(uint256 id) private view returns (Proposal storage p) {
        if (id == 0 || id > _proposalCount) revert NonexistentModelProposal(id);
        return _proposals[id];
    }

    function _propose(Action action, uint256 version, address proposer) private returns (uint256 id) {
        id = ++_proposalCount;
        uint48 expiresAt = SafeCast.toUint48(block.timestamp + _membership().proposalLifetime());
        _proposals[id] = Proposal(action, false, 0, expiresAt, version);
        emit ModelProposalCreated(id, action, version, expiresAt);
        _approve(id, proposer);
    }

    function _approve(uint256 id, address approver) private {
        Proposal storage p = _proposals[id];
        _approved[id][approver] = true;
        uint256 approvals = ++p.approvals;
        emit ModelProposalApproved(id, approver, approvals);
        if (approvals >= _membership().quorum()) _execute(id, p);
    }

    function _execute(uint256 id, Proposal storage p) private {
        p.executed = true;
        uint256 version = p.version;
        if (p.action == Action.Activate) {
            _models[version].status = Status.Active;
            emit ModelActivated(version, id);
        } else {
            _requireActive(version);
            _models[version].status = Status.Retired;
            emit ModelRetired(version, id);
        }
    }
}
