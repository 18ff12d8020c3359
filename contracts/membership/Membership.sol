// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {MembershipGated} from "../common/MembershipGated.sol";
import {SignedActions} from "../common/SignedActions.sol";
import {IMembership} from "./IMembership.sol";

/**
 * @title Membership
 * @notice The permissioned membership of the ledger, governed by an M-of-N quorum of
 * operators. Every act is an EIP-712 signature by the acting member, relayed by anyone:
 * `msg.sender` is never consulted.
 *
 * - Operators, providers, institutions, auditors, district operators and the platform
 *   are admitted, and any member is suspended, reinstated or removed, by a proposal
 *   that an operator signs (its signature is the first approval) and other operators
 *   approve. The approval
 *   that reaches the quorum executes the proposal in the same transaction; there is no
 *   separate execute step. A proposal that is not executed within `proposalLifetime`
 *   seconds of its creation expires.
 * - The quorum changes only by a `SetQuorum` proposal and never exceeds the number of
 *   active operators: a suspension or removal that would make it unreachable is refused.
 * - Enterprises are registered, suspended and reinstated by the signature of a single
 *   active operator (identity checks are an operator's job), one account per USCC hash.
 *   An enterprise rotates its key with the signature of its current key; the old
 *   account is then `Removed` and can never be a member again.
 * - An account holds one role for ever. Status changes take effect in the block of the
 *   transaction, so a member suspended in block B is active at B - 1 and refused at B.
 *
 * Approvals stand once given: an operator suspended after approving still counts
 * towards the proposals it approved, within their lifetime.
 *
 * The membership gates its own acts as every other contract of the ledger does
 * ({MembershipGated}, with itself as the membership): a signer without the active role
 * an act needs is refused with `NotActiveMember(account, role)`.
 */
contract Membership is IMembership, SignedActions, MembershipGated {
    /// @notice What a governance proposal does once approved by quorum.
    enum Action {
        Admit,
        Suspend,
        Reinstate,
        Remove,
        SetQuorum
    }

    /// @notice A governance proposal. Fields an action does not use are ignored.
    struct Proposal {
        Action action;
        Role role; // Admit
        InstitutionKind kind; // Admit of an institution
        bool executed;
        uint16 approvals;
        uint48 expiresAt; // last second at which it can be approved
        address account; // Admit, Suspend, Reinstate, Remove
        bytes32 nameHash; // Admit
        uint256 newQuorum; // SetQuorum
    }

    bytes32 private constant PROPOSE_TYPEHASH =
        keccak256(
            "Propose(uint8 action,address account,uint8 role,uint8 kind,bytes32 nameHash,uint256 newQuorum,address proposer,uint256 nonce,uint256 deadline)"
        );
    bytes32 private constant APPROVE_TYPEHASH =
        keccak256("Approve(uint256 id,address approver,uint256 nonce,uint256 deadline)");
    bytes32 private constant REGISTER_ENTERPRISE_TYPEHASH =
        keccak256(
            "RegisterEnterprise(address account,bytes32 usccHash,bytes32 nameHash,address operator,uint256 nonce,uint256 deadline)"
        );
    bytes32 private constant SUSPEND_ENTERPRISE_TYPEHASH =
        keccak256("SuspendEnterprise(bytes32 usccHash,address operator,uint256 nonce,uint256 deadline)");
    bytes32 private constant REINSTATE_ENTERPRISE_TYPEHASH =
        keccak256("ReinstateEnterprise(bytes32 usccHash,address operator,uint256 nonce,uint256 deadline)");
    bytes32 private constant ROTATE_ENTERPRISE_KEY_TYPEHASH =
        keccak256("RotateEnterpriseKey(bytes32 usccHash,address newAccount,uint256 nonce,uint256 deadline)");

    uint256 private immutable _proposalLifetime;
    uint256 private _quorum;
    uint256 private _operatorCount;
    uint256 private _proposalCount;
    address[] private _accounts;
    mapping(address account => Member) private _members;
    mapping(bytes32 usccHash => address) private _enterprises;
    mapping(uint256 id => Proposal) private _proposals;
    mapping(uint256 id => mapping(address operator => bool)) private _approved;

    /// @dev `account` was admitted with `role`.
    event MemberAdmitted(address indexed account, Role indexed role, InstitutionKind kind, bytes32 nameHash);
    /// @dev `account`, a member with `role`, was suspended.
    event MemberSuspended(address indexed account, Role role);
    /// @dev `account`, a suspended member with `role`, was reinstated.
    event MemberReinstated(address indexed account, Role role);
    /// @dev `account`, a member with `role`, was removed for good.
    event MemberRemoved(address indexed account, Role role);
    /// @dev The number of operator approvals that executes a proposal changed.
    event QuorumChanged(uint256 oldQuorum, uint256 newQuorum);
    /// @dev Operator `proposer` created proposal `id`; its signature is the first approval.
    event ProposalCreated(
        uint256 indexed id,
        address indexed proposer,
        Action action,
        address indexed account,
        Role role,
        InstitutionKind kind,
        bytes32 nameHash,
        uint256 newQuorum,
        uint48 expiresAt
    );
    /// @dev Operator `approver` approved proposal `id`, which now has `approvals` approvals.
    event ProposalApproved(uint256 indexed id, address indexed approver, uint256 approvals);
    /// @dev Proposal `id` reached the quorum and its action was applied.
    event ProposalExecuted(uint256 indexed id);
    /// @dev Operator `operator` registered `account` as the enterprise with `usccHash`.
    event EnterpriseRegistered(
        address indexed account,
        bytes32 indexed usccHash,
        bytes32 nameHash,
        address indexed operator
    );
    /// @dev The enterprise with `usccHash` moved from `oldAccount` (now removed) to `newAccount`.
    event EnterpriseKeyRotated(bytes32 indexed usccHash, address indexed oldAccount, address indexed newAccount);

    /// @dev `account` already holds `role` (possibly suspended or removed).
    error AlreadyMember(address account, Role role);
    /// @dev The zero address cannot be a member.
    error InvalidAccount(address account);
    /// @dev `role` cannot be admitted by proposal (enterprises register, `None` is no role).
    error InvalidRole(Role role);
    /// @dev `kind` must be set for institutions and only for them.
    error InvalidInstitutionKind(Role role, InstitutionKind kind);
    /// @dev `account` cannot move from status `from` to status `to`.
    error InvalidStatusTransition(address account, Status from, Status to);
    /// @dev `quorum` must be between 1 and the number of active operators, `operators`.
    error InvalidQuorum(uint256 quorum, uint256 operators);
    /// @dev Proposals must live for at least one second.
    error InvalidProposalLifetime(uint256 lifetime);
    /// @dev No proposal has id `id`.
    error UnknownProposal(uint256 id);
    /// @dev Proposal `id` expired at `expiresAt`.
    error ProposalExpired(uint256 id, uint256 expiresAt);
    /// @dev Proposal `id` was already executed.
    error ProposalAlreadyExecuted(uint256 id);
    /// @dev `approver` already approved proposal `id`.
    error DuplicateApproval(uint256 id, address approver);
    /// @dev No enterprise is registered under `usccHash`.
    error UnknownUscc(bytes32 usccHash);
    /// @dev `usccHash` is already registered to `account`.
    error UsccAlreadyRegistered(bytes32 usccHash, address account);
    /// @dev The zero hash is not a USCC hash.
    error InvalidUsccHash(bytes32 usccHash);

    /**
     * @notice Admits `operators` and the `platform` account and sets the quorum.
     *
     * Requirements:
     *
     * - `quorum_` is between 1 and the number of `operators`.
     * - `proposalLifetime_` is not zero.
     * - every account is non-zero and appears once.
     *
     * Emits a {MemberAdmitted} event per account and a {QuorumChanged} event.
     */
    constructor(
        address[] memory operators,
        uint256 quorum_,
        uint256 proposalLifetime_,
        address platform
    ) SignedActions("credit-ledger Membership", "1") MembershipGated(IMembership(address(this))) {
        if (proposalLifetime_ == 0) revert InvalidProposalLifetime(proposalLifetime_);
        _proposalLifetime = proposalLifetime_;
        for (uint256 i = 0; i < operators.length; ++i) {
            _admit(operators[i], Role.Operator, InstitutionKind.None, bytes32(0));
        }
        _admit(platform, Role.Platform, InstitutionKind.None, bytes32(0));
        _setQuorum(quorum_);
    }

    // -- governance -------------------------------------------------------------------

    /**
     * @notice Creates a proposal signed by operator `proposer`, counting that signature
     * as its first approval; executes it at once when the quorum is 1.
     *
     * Requirements:
     *
     * - `proposer` is an active operator and signed the `Propose` message with its
     *   current `nonce`, before `deadline`.
     * - `Admit`: `account` is non-zero and has no role; `role` is neither `None` nor
     *   `Enterprise`; `kind` is set if and only if `role` is `Institution`.
     * - `Suspend`: `account` is active; `Reinstate`: suspended; `Remove`: active or
     *   suspended. Suspending or removing an active operator keeps the quorum reachable.
     * - `SetQuorum`: `newQuorum` is between 1 and the number of active operators.
     *
     * Emits {ProposalCreated} and {ProposalApproved} events, and the events of
     * {approve}'s execution when the quorum is 1.
     */
    function propose(
        Action action,
        address account,
        Role role,
        InstitutionKind kind,
        bytes32 nameHash,
        uint256 newQuorum,
        address proposer,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint256) {
        Proposal memory p = Proposal(action, role, kind, false, 0, 0, account, nameHash, newQuorum);
        _requireActiveMember(proposer, Role.Operator);
        _useSignature(proposer, _hashPropose(p, proposer, nonce, deadline), nonce, deadline, signature);
        _checkProposal(p);
        return _propose(p, proposer);
    }

    /**
     * @notice Records the approval of proposal `id` signed by operator `approver`, and
     * executes the proposal if its approvals reach the current quorum.
     *
     * Requirements:
     *
     * - `approver` is an active operator and signed the `Approve` message with its
     *   current `nonce`, before `deadline`.
     * - proposal `id` exists, is not executed, has not expired and was not approved by
     *   `approver` yet.
     * - on execution, the proposal's action is still valid (see {propose}).
     *
     * Emits a {ProposalApproved} event; on execution, the action's event
     * ({MemberAdmitted}, {MemberSuspended}, {MemberReinstated}, {MemberRemoved} or
     * {QuorumChanged}) and a {ProposalExecuted} event.
     */
    function approve(
        uint256 id,
        address approver,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        _requireActiveMember(approver, Role.Operator);
        Proposal storage p = _proposal(id);
        if (p.executed) revert ProposalAlreadyExecuted(id);
        if (block.timestamp > p.expiresAt) revert ProposalExpired(id, p.expiresAt);
        if (_approved[id][approver]) revert DuplicateApproval(id, approver);
        _useSignature(
            approver,
            keccak256(abi.encode(APPROVE_TYPEHASH, id, approver, nonce, deadline)),
            nonce,
            deadline,
            signature
        );
        _approve(id, approver);
    }

    // -- enterprises ------------------------------------------------------------------

    /**
     * @notice Registers `account` as the enterprise whose USCC hashes to `usccHash`, on
     * the signature of a single operator.
     *
     * Requirements:
     *
     * - `operator` is an active operator and signed the `RegisterEnterprise` message
     *   with its current `nonce`, before `deadline`.
     * - `usccHash` is non-zero and not registered yet.
     * - `account` is non-zero and has no role.
     *
     * Emits an {EnterpriseRegistered} event.
     */
    function registerEnterprise(
        address account,
        bytes32 usccHash,
        bytes32 nameHash,
        address operator,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        _requireActiveMember(operator, Role.Operator);
        _useSignature(
            operator,
            keccak256(
                abi.encode(REGISTER_ENTERPRISE_TYPEHASH, account, usccHash, nameHash, operator, nonce, deadline)
            ),
            nonce,
            deadline,
            signature
        );
        _registerEnterprise(account, usccHash, nameHash, operator);
    }

    /**
     * @notice Suspends the enterprise registered under `usccHash`, on the signature of a
     * single operator.
     *
     * Requirements:
     *
     * - `operator` is an active operator and signed the `SuspendEnterprise` message with
     *   its current `nonce`, before `deadline`.
     * - the enterprise is registered and active.
     *
     * Emits a {MemberSuspended} event.
     */
    function suspendEnterprise(
        bytes32 usccHash,
        address operator,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        _setEnterpriseStatus(Status.Suspended, usccHash, operator, nonce, deadline, signature);
    }

    /**
     * @notice Reinstates the suspended enterprise registered under `usccHash`, on the
     * signature of a single operator.
     *
     * Requirements:
     *
     * - `operator` is an active operator and signed the `ReinstateEnterprise` message
     *   with its current `nonce`, before `deadline`.
     * - the enterprise is registered and suspended.
     *
     * Emits a {MemberReinstated} event.
     */
    function reinstateEnterprise(
        bytes32 usccHash,
        address operator,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        _setEnterpriseStatus(Status.Active, usccHash, operator, nonce, deadline, signature);
    }

    /**
     * @notice Moves the enterprise registered under `usccHash` to `newAccount`, on the
     * signature of its current account, which is removed.
     *
     * Requirements:
     *
     * - the enterprise is registered and active, and its current account signed the
     *   `RotateEnterpriseKey` message with its current `nonce`, before `deadline`.
     * - `newAccount` is non-zero and has no role.
     *
     * Emits an {EnterpriseKeyRotated} event.
     */
    function rotateEnterpriseKey(
        bytes32 usccHash,
        address newAccount,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        address current = _enterpriseAccount(usccHash);
        _requireActiveMember(current, Role.Enterprise);
        _useSignature(
            current,
            keccak256(abi.encode(ROTATE_ENTERPRISE_KEY_TYPEHASH, usccHash, newAccount, nonce, deadline)),
            nonce,
            deadline,
            signature
        );
        _rotateEnterpriseKey(usccHash, current, newAccount);
    }

    // -- views ------------------------------------------------------------------------

    /// @inheritdoc IMembership
    function memberOf(address account) external view returns (Member memory) {
        return _members[account];
    }

    /// @inheritdoc IMembership
    function isActive(address account, Role role) public view returns (bool) {
        Member storage m = _members[account];
        return m.role == role && m.status == Status.Active;
    }

    /// @inheritdoc IMembership
    function enterpriseByUscc(bytes32 usccHash) external view returns (address) {
        return _enterprises[usccHash];
    }

    /// @notice The number of operator approvals that executes a proposal.
    function quorum() external view returns (uint256) {
        return _quorum;
    }

    /// @notice The number of active operators.
    function operatorCount() external view returns (uint256) {
        return _operatorCount;
    }

    /// @notice Seconds after its creation during which a proposal can be approved.
    function proposalLifetime() external view returns (uint256) {
        return _proposalLifetime;
    }

    /// @notice The number of proposals ever created; ids run from 1 to this number.
    function proposalCount() external view returns (uint256) {
        return _proposalCount;
    }

    /**
     * @notice Proposal `id`.
     *
     * Requirements:
     *
     * - proposal `id` exists.
     */
    function proposal(uint256 id) external view returns (Proposal memory) {
        return _proposal(id);
    }

    /// @notice Whether operator `operator` approved proposal `id`.
    function hasApproved(uint256 id, address operator) external view returns (bool) {
        return _approved[id][operator];
    }

    /// @notice The number of accounts ever admitted, in any status and role.
    function memberCount() external view returns (uint256) {
        return _accounts.length;
    }

    /// @notice The `index`-th account ever admitted (0-based, in order of admission).
    function memberAt(uint256 index) external view returns (address) {
        return _accounts[index];
    }

    // -- internals --------------------------------------------------------------------

    function _hashPropose(
        Proposal memory p,
        address proposer,
        uint256 nonce,
        uint256 deadline
    ) private pure returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    PROPOSE_TYPEHASH,
                    p.action,
                    p.account,
                    p.role,
                    p.kind,
                    p.nameHash,
                    p.newQuorum,
                    proposer,
                    nonce,
                    deadline
                )
            );
    }

    /// @dev Refuses a proposal whose action cannot be applied now.
    function _checkProposal(Proposal memory p) private view {
        if (p.action == Action.Admit) {
            if (p.role == Role.None || p.role == Role.Enterprise) revert InvalidRole(p.role);
            if ((p.role == Role.Institution) != (p.kind != InstitutionKind.None)) {
                revert InvalidInstitutionKind(p.role, p.kind);
            }
            _checkAdmissible(p.account);
        } else if (p.action == Action.SetQuorum) {
            _checkQuorum(p.newQuorum, _operatorCount);
        } else {
            _checkTransition(p.account, _statusAfter(p.action));
        }
    }

    function _propose(Proposal memory p, address proposer) private returns (uint256 id) {
        id = ++_proposalCount;
        p.expiresAt = SafeCast.toUint48(block.timestamp + _proposalLifetime);
        _proposals[id] = p;
        emit ProposalCreated(id, proposer, p.action, p.account, p.role, p.kind, p.nameHash, p.newQuorum, p.expiresAt);
        _approve(id, proposer);
    }

    function _approve(uint256 id, address approver) private {
        Proposal storage p = _proposals[id];
        _approved[id][approver] = true;
        uint256 approvals = ++p.approvals;
        emit ProposalApproved(id, approver, approvals);
        if (approvals >= _quorum) _execute(id, p);
    }

    function _execute(uint256 id, Proposal storage p) private {
        p.executed = true;
        Action action = p.action;
        if (action == Action.Admit) {
            _admit(p.account, p.role, p.kind, p.nameHash);
        } else if (action == Action.SetQuorum) {
            _setQuorum(p.newQuorum);
        } else {
            _setStatus(p.account, _statusAfter(action));
        }
        emit ProposalExecuted(id);
    }

    function _admit(address account, Role role, InstitutionKind kind, bytes32 nameHash) private {
        _addMember(account, role, kind, nameHash, bytes32(0));
        emit MemberAdmitted(account, role, kind, nameHash);
    }

    function _registerEnterprise(address account, bytes32 usccHash, bytes32 nameHash, address operator) private {
        if (usccHash == bytes32(0)) revert InvalidUsccHash(usccHash);
        address registered = _enterprises[usccHash];
        if (registered != address(0)) revert UsccAlreadyRegistered(usccHash, registered);
        _enterprises[usccHash] = account;
        _addMember(account, Role.Enterprise, InstitutionKind.None, nameHash, usccHash);
        emit EnterpriseRegistered(account, usccHash, nameHash, operator);
    }

    function _rotateEnterpriseKey(bytes32 usccHash, address current, address newAccount) private {
        Member storage old = _members[current];
        _addMember(newAccount, Role.Enterprise, InstitutionKind.None, old.nameHash, usccHash);
        old.status = Status.Removed;
        _enterprises[usccHash] = newAccount;
        emit EnterpriseKeyRotated(usccHash, current, newAccount);
    }

    function _addMember(
        address account,
        Role role,
        InstitutionKind kind,
        bytes32 nameHash,
        bytes32 usccHash
    ) private {
        _checkAdmissible(account);
        _members[account] = Member(role, Status.Active, kind, uint64(block.number), nameHash, usccHash);
        _accounts.push(account);
        if (role == Role.Operator) ++_operatorCount;
    }

    function _setEnterpriseStatus(
        Status to,
        bytes32 usccHash,
        address operator,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) private {
        address account = _enterpriseAccount(usccHash);
        _requireActiveMember(operator, Role.Operator);
        bytes32 typehash = to == Status.Suspended ? SUSPEND_ENTERPRISE_TYPEHASH : REINSTATE_ENTERPRISE_TYPEHASH;
        _useSignature(
            operator,
            keccak256(abi.encode(typehash, usccHash, operator, nonce, deadline)),
            nonce,
            deadline,
            signature
        );
        _setStatus(account, to);
    }

    function _setStatus(address account, Status to) private {
        Member storage m = _checkTransition(account, to);
        Role role = m.role;
        if (role == Role.Operator) {
            if (to == Status.Active) ++_operatorCount;
            else if (m.status == Status.Active) --_operatorCount;
        }
        m.status = to;
        if (to == Status.Suspended) emit MemberSuspended(account, role);
        else if (to == Status.Active) emit MemberReinstated(account, role);
        else emit MemberRemoved(account, role);
    }

    function _setQuorum(uint256 newQuorum) private {
        _checkQuorum(newQuorum, _operatorCount);
        emit QuorumChanged(_quorum, newQuorum);
        _quorum = newQuorum;
    }

    /// @dev The membership of `account` if it can move to status `to` (`Active` meaning
    /// reinstated); refuses to let an operator's departure make the quorum unreachable.
    function _checkTransition(address account, Status to) private view returns (Member storage m) {
        m = _members[account];
        Status from = m.status;
        bool allowed = to == Status.Active
            ? from == Status.Suspended
            : from == Status.Active || (to == Status.Removed && from == Status.Suspended);
        if (!allowed) revert InvalidStatusTransition(account, from, to);
        if (m.role == Role.Operator && from == Status.Active) _checkQuorum(_quorum, _operatorCount - 1);
    }

    function _checkAdmissible(address account) private view {
        if (account == address(0)) revert InvalidAccount(account);
        Role role = _members[account].role;
        if (role != Role.None) revert AlreadyMember(account, role);
    }

    function _checkQuorum(uint256 quorum_, uint256 operators) private pure {
        if (quorum_ == 0 || quorum_ > operators) revert InvalidQuorum(quorum_, operators);
    }

    /// @dev The membership gates its own acts: it reads its own storage ({isActive})
    /// rather than calling itself through {MembershipGated}'s reference.
    function _isActiveMember(address account, Role role) internal view override returns (bool) {
        return isActive(account, role);
    }

    function _proposal(uint256 id) private view returns (Proposal storage p) {
        p = _proposals[id];
        if (p.expiresAt == 0) revert UnknownProposal(id);
    }

    function _enterpriseAccount(bytes32 usccHash) private view returns (address account) {
        account = _enterprises[usccHash];
        if (account == address(0)) revert UnknownUscc(usccHash);
    }

    function _statusAfter(Action action) private pure returns (Status) {
        if (action == Action.Suspend) return Status.Suspended;
        if (action == Action.Reinstate) return Status.Active;
        return Status.Removed;
    }
}
