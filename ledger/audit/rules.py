"""The authorization rules of `Consents.authorize`, re-stated in Python over event-sourced state.

Replaying 100,000 releases with one `eth_call` each would take minutes and needs the
node to keep every historical state (anvil keeps only recent ones after a restart).
Instead the verifier rebuilds, from the contracts' events, exactly the state
`authorize` reads — memberships, enterprises, agreements, breached commitments, the
catalogue's public mask, grants — and evaluates the same twelve checks in the same
order (`contracts/consents/IConsents.sol`, `IConsents.authorize`). Time-dependent checks
use the timestamp of block B for the start of validity and the later of it and the
release's own time (`Query.at`) for expiries, as the contract does. The contract is
asked on a sample to confirm that both agree (step 4.7 of the audit).

State changes take effect in the block of their transaction, and a call at block B
sees the state after all of B's transactions: `AuthorizationState` is advanced with
every event of blocks <= B before a query at B is decided.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from ledger.audit.events import ChainEvent

__all__ = ["AuthorizationState", "LocalDecision", "Query", "Reason"]


class Reason(IntEnum):
    """The contract's `IConsents.Reason`, in its order; the first failing check wins."""

    ALLOWED = 0
    REQUESTER_NOT_ACTIVE_INSTITUTION = 1
    SUBJECT_UNKNOWN = 2
    AGREEMENT_UNKNOWN = 3
    AGREEMENT_NOT_OWNED = 4
    AGREEMENT_NOT_ACTIVE = 5
    AGREEMENT_NOT_YET_VALID = 6
    AGREEMENT_EXPIRED = 7
    COMMITMENT_BREACHED = 8
    CATEGORY_OUT_OF_SCOPE = 9
    PURPOSE_NOT_ALLOWED = 10
    LEVEL_ABOVE_MAXIMUM = 11
    NO_COVERING_GRANT = 12


# Solidity enum values (IMembership.Role, IMembership.Status, IAgreements.AgreementStatus)
_ROLE_INSTITUTION = 3
_ROLE_ENTERPRISE = 4
_ACTIVE = 1
_SUSPENDED = 2
_REMOVED = 3
_PROPOSED, _AGREEMENT_ACTIVE, _AGREEMENT_SUSPENDED, _TERMINATED = 0, 1, 2, 3


@dataclass(frozen=True, slots=True)
class Query:
    """The arguments of `authorize`; `requester` lower-case hex."""

    requester: str
    uscc_hash: bytes
    categories: int
    purpose: int
    agreement_id: int
    level: int
    at: int = 0  # the release's own time; expiries are judged at max(at, block time)


@dataclass(frozen=True, slots=True)
class LocalDecision:
    allowed: bool
    reason: Reason
    grant_id: int
    raw_categories: int


@dataclass(slots=True)
class _Agreement:
    institution: str
    state: int
    max_level: int
    valid_from: int
    valid_until: int
    commitment_id: int
    categories: int
    purposes: int


@dataclass(slots=True)
class _Grant:
    agreement_id: int
    categories: int
    purposes: int
    raw_categories: int
    expires_at: int
    revoked: bool = False


def _refused(reason: Reason) -> LocalDecision:
    return LocalDecision(False, reason, 0, 0)


@dataclass
class AuthorizationState:
    """What `authorize` reads, as of the last event applied."""

    members: dict[str, tuple[int, int]] = field(default_factory=dict)  # account -> (role, status)
    enterprises: dict[bytes, str] = field(default_factory=dict)  # uscc hash -> account
    agreements: dict[int, _Agreement] = field(default_factory=dict)
    breached: set[int] = field(default_factory=set)
    public_categories: int = 0
    catalogue_hash: bytes = bytes(32)  # content hash of the catalogue in force
    grants: dict[int, _Grant] = field(default_factory=dict)
    #: grant ids of each (enterprise, institution) pair, oldest first
    pairs: dict[tuple[bytes, str], list[int]] = field(default_factory=dict)

    # -- events ----------------------------------------------------------------------------

    def apply(self, event: ChainEvent) -> None:
        """Advance the state by one event (events of other kinds are ignored)."""
        handler = _HANDLERS.get(event.name)
        if handler is not None:
            handler(self, event.args)

    def _set_status(self, account: str, status: int) -> None:
        role, _ = self.members.get(account, (0, 0))
        self.members[account] = (role, status)

    # -- the check ---------------------------------------------------------------------------

    def decide(self, q: Query, timestamp: int) -> LocalDecision:
        """`authorize(q)` in a block with this `timestamp`, checks 1-12 in the contract's order."""
        expiry = max(q.at, timestamp)
        # 1. the requester
        if self.members.get(q.requester) != (_ROLE_INSTITUTION, _ACTIVE):
            return _refused(Reason.REQUESTER_NOT_ACTIVE_INSTITUTION)
        # 2. the subject
        if q.uscc_hash not in self.enterprises:
            return _refused(Reason.SUBJECT_UNKNOWN)
        # 3.-11. the agreement and the request's scope within it
        a = self.agreements.get(q.agreement_id)
        if a is None:
            return _refused(Reason.AGREEMENT_UNKNOWN)
        if a.institution != q.requester:
            return _refused(Reason.AGREEMENT_NOT_OWNED)
        if a.state != _AGREEMENT_ACTIVE:
            return _refused(Reason.AGREEMENT_NOT_ACTIVE)
        if timestamp < a.valid_from:
            return _refused(Reason.AGREEMENT_NOT_YET_VALID)
        if a.valid_until < expiry:
            return _refused(Reason.AGREEMENT_EXPIRED)
        if a.commitment_id in self.breached:
            return _refused(Reason.COMMITMENT_BREACHED)
        if q.categories == 0 or q.categories & ~a.categories:
            return _refused(Reason.CATEGORY_OUT_OF_SCOPE)
        if q.purpose == 0 or q.purpose & (q.purpose - 1) or q.purpose & ~a.purposes:
            return _refused(Reason.PURPOSE_NOT_ALLOWED)
        if q.level > a.max_level:
            return _refused(Reason.LEVEL_ABOVE_MAXIMUM)
        # 12. the enterprise's consent, for what is not public
        restricted = q.categories & ~self.public_categories
        if restricted == 0:
            return LocalDecision(True, Reason.ALLOWED, 0, 0)
        for grant_id in reversed(self.pairs.get((q.uscc_hash, q.requester), ())):
            g = self.grants[grant_id]
            if (
                not g.revoked
                and expiry <= g.expires_at
                and (g.agreement_id == 0 or g.agreement_id == q.agreement_id)
                and restricted & ~g.categories == 0
                and q.purpose & ~g.purposes == 0
            ):
                return LocalDecision(True, Reason.ALLOWED, grant_id, g.raw_categories & q.categories)
        return _refused(Reason.NO_COVERING_GRANT)


# -- event handlers (argument names are the contracts' event parameters) ---------------------

_Args = Mapping[str, Any]
_Handler = Callable[["AuthorizationState", _Args], None]


def _admitted(s: AuthorizationState, a: _Args) -> None:
    s.members[str(a["account"])] = (int(a["role"]), _ACTIVE)


def _suspended(s: AuthorizationState, a: _Args) -> None:
    s._set_status(str(a["account"]), _SUSPENDED)


def _reinstated(s: AuthorizationState, a: _Args) -> None:
    s._set_status(str(a["account"]), _ACTIVE)


def _removed(s: AuthorizationState, a: _Args) -> None:
    s._set_status(str(a["account"]), _REMOVED)


def _enterprise_registered(s: AuthorizationState, a: _Args) -> None:
    account = str(a["account"])
    s.members[account] = (_ROLE_ENTERPRISE, _ACTIVE)
    s.enterprises[bytes(a["usccHash"])] = account


def _key_rotated(s: AuthorizationState, a: _Args) -> None:
    old, new = str(a["oldAccount"]), str(a["newAccount"])
    s.members[new] = (_ROLE_ENTERPRISE, _ACTIVE)
    s._set_status(old, _REMOVED)  # the contract removes the old key without a MemberRemoved event
    s.enterprises[bytes(a["usccHash"])] = new


def _agreement_proposed(s: AuthorizationState, a: _Args) -> None:
    s.agreements[int(a["id"])] = _Agreement(
        institution=str(a["institution"]),
        state=_PROPOSED,
        max_level=int(a["maxLevel"]),
        valid_from=int(a["validFrom"]),
        valid_until=int(a["validUntil"]),
        commitment_id=int(a["commitmentId"]),
        categories=int(a["categories"]),
        purposes=int(a["purposes"]),
    )


def _agreement_state(state: int) -> _Handler:
    def handler(s: AuthorizationState, a: _Args) -> None:
        agreement = s.agreements.get(int(a["id"]))
        if agreement is not None:
            agreement.state = state

    return handler


def _breached(s: AuthorizationState, a: _Args) -> None:
    s.breached.add(int(a["id"]))


def _catalogue(s: AuthorizationState, a: _Args) -> None:
    s.public_categories = int(a["publicCategories"])
    s.catalogue_hash = bytes(a["contentHash"])


def _granted(s: AuthorizationState, a: _Args) -> None:
    grant_id = int(a["grantId"])
    s.grants[grant_id] = _Grant(
        agreement_id=int(a["agreementId"]),
        categories=int(a["categories"]),
        purposes=int(a["purposes"]),
        raw_categories=int(a["rawCategories"]),
        expires_at=int(a["expiresAt"]),
    )
    key = (bytes(a["usccHash"]), str(a["institution"]))
    s.pairs.setdefault(key, []).append(grant_id)


def _revoked(s: AuthorizationState, a: _Args) -> None:
    grant = s.grants.get(int(a["grantId"]))
    if grant is not None:
        grant.revoked = True


_HANDLERS: dict[str, _Handler] = {
    "MemberAdmitted": _admitted,
    "MemberSuspended": _suspended,
    "MemberReinstated": _reinstated,
    "MemberRemoved": _removed,
    "EnterpriseRegistered": _enterprise_registered,
    "EnterpriseKeyRotated": _key_rotated,
    "AgreementProposed": _agreement_proposed,
    "AgreementCountersigned": _agreement_state(_AGREEMENT_ACTIVE),
    "AgreementSuspended": _agreement_state(_AGREEMENT_SUSPENDED),
    "AgreementReinstated": _agreement_state(_AGREEMENT_ACTIVE),
    "AgreementTerminated": _agreement_state(_TERMINATED),
    "CommitmentBreached": _breached,
    "CataloguePublished": _catalogue,
    "ConsentGranted": _granted,
    "ConsentRevoked": _revoked,
}
