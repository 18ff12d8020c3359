// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IMembership} from "../membership/IMembership.sol";

/**
 * @title MembershipGated
 * @notice Base for contracts that accept an act only from an active member holding a
 * given role of the ledger's permissioned membership.
 * @dev Holds the membership contract consulted for every check, fixed at construction
 * (immutable), and the one error every gated contract reverts with, so that a refusal
 * for lack of membership decodes to the same `NotActiveMember(account, role)` whatever
 * contract refused.
 *
 * A member's status is read in the block of the check: a member suspended in block B is
 * refused from B on. Deriving contracts expose the reference through their own
 * interface (`membership()`), if at all: this base adds no external function, so the
 * membership contract can gate its own acts with it too.
 */
abstract contract MembershipGated {
    /// @dev `account` is not an active member holding `role`.
    error NotActiveMember(address account, IMembership.Role role);

    IMembership private immutable _membershipContract;

    /// @param membership_ the membership contract consulted for every check
    constructor(IMembership membership_) {
        _membershipContract = membership_;
    }

    /// @dev The membership contract consulted for every check.
    function _membership() internal view returns (IMembership) {
        return _membershipContract;
    }

    /**
     * @dev Whether `account` is an active member holding `role`, as {_membership}
     * answers. Overridden by the membership contract itself, which reads its own
     * storage instead of calling itself.
     */
    function _isActiveMember(address account, IMembership.Role role) internal view virtual returns (bool) {
        return _membershipContract.isActive(account, role);
    }

    /**
     * @dev Reverts with {NotActiveMember} unless `account` is an active member holding
     * `role` (see {_isActiveMember}).
     */
    function _requireActiveMember(address account, IMembership.Role role) internal view {
        if (!_isActiveMember(account, role)) revert NotActiveMember(account, role);
    }
}
