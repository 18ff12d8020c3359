"""The local re-statement of `Consents.authorize`: each of its twelve checks, in order, at its edges.

A world built from contract events (one institution with an active agreement, one
enterprise that granted it consent) decides a clean query as allowed; each test then
changes one thing and expects exactly the contract's reason, or the grant it names.
"""

from __future__ import annotations

import dataclasses

import pytest

from ledger.audit.events import ChainEvent
from ledger.audit.rules import AuthorizationState, LocalDecision, Query, Reason

BANK, OTHER_BANK, FIRM, NEW_FIRM = ("0x" + c * 20 for c in ("ab", "cd", "ef", "12"))
USCC, OTHER_USCC = b"\x01" * 32, b"\x02" * 32
TAX, LOANS, PUBLIC = 1 << 6, 1 << 1, 1 << 0
PURPOSE, OTHER_PURPOSE = 1, 2
AGREEMENT = 1
VALID_FROM, VALID_UNTIL = 1_000, 5_000
MAX_LEVEL = 3
NOW = 2_000


def ev(name: str, **args: object) -> ChainEvent:
    return ChainEvent("", name, 1, 0, b"", args)


def grant(grant_id: int, **changes: object) -> ChainEvent:
    args: dict[str, object] = {
        "grantId": grant_id,
        "agreementId": 0,
        "categories": TAX | LOANS,
        "purposes": PURPOSE,
        "rawCategories": TAX,
        "expiresAt": VALID_UNTIL,
        "usccHash": USCC,
        "institution": BANK,
    }
    return ev("ConsentGranted", **{**args, **changes})


def world(*more: ChainEvent, **agreement: object) -> AuthorizationState:
    terms: dict[str, object] = {
        "id": AGREEMENT,
        "institution": BANK,
        "maxLevel": MAX_LEVEL,
        "validFrom": VALID_FROM,
        "validUntil": VALID_UNTIL,
        "commitmentId": 9,
        "categories": TAX | LOANS | PUBLIC,
        "purposes": PURPOSE | OTHER_PURPOSE,
    }
    state = AuthorizationState()
    for e in (
        ev("MemberAdmitted", account=BANK, role=3),
        ev("MemberAdmitted", account=OTHER_BANK, role=3),
        ev("EnterpriseRegistered", account=FIRM, usccHash=USCC),
        ev("CataloguePublished", publicCategories=PUBLIC, contentHash=b"\x09" * 32),
        ev("AgreementProposed", **{**terms, **agreement}),
        ev("AgreementCountersigned", id=AGREEMENT),
        grant(7),
        *more,
    ):
        state.apply(e)
    return state


QUERY = Query(BANK, USCC, TAX, PURPOSE, AGREEMENT, 2, NOW)


def decide(state: AuthorizationState, timestamp: int = NOW, **changes: object) -> LocalDecision:
    return state.decide(dataclasses.replace(QUERY, **changes), timestamp)  # type: ignore[arg-type]


def reason(state: AuthorizationState, timestamp: int = NOW, **changes: object) -> Reason:
    return decide(state, timestamp, **changes).reason


def test_a_covered_query_is_allowed_with_its_grant_and_raw_categories() -> None:
    assert decide(world()) == LocalDecision(True, Reason.ALLOWED, 7, TAX)
    assert decide(world(), categories=LOANS) == LocalDecision(True, Reason.ALLOWED, 7, 0)
    assert decide(world(), categories=TAX | PUBLIC) == LocalDecision(True, Reason.ALLOWED, 7, TAX)


def test_a_refusal_names_no_grant_and_no_raw_category() -> None:
    assert decide(world(), requester=OTHER_BANK) == LocalDecision(False, Reason.AGREEMENT_NOT_OWNED, 0, 0)


def test_the_requester_must_be_an_active_institution() -> None:
    nobody = "0x" + "99" * 20
    assert reason(world(), requester=nobody) == Reason.REQUESTER_NOT_ACTIVE_INSTITUTION
    assert reason(world(), requester=FIRM) == Reason.REQUESTER_NOT_ACTIVE_INSTITUTION  # an enterprise
    assert reason(world(ev("MemberSuspended", account=BANK))) == Reason.REQUESTER_NOT_ACTIVE_INSTITUTION
    assert reason(world(ev("MemberRemoved", account=BANK))) == Reason.REQUESTER_NOT_ACTIVE_INSTITUTION
    back = world(ev("MemberSuspended", account=BANK), ev("MemberReinstated", account=BANK))
    assert reason(back) == Reason.ALLOWED
    # a status change of an account never admitted gives it no role
    assert reason(world(ev("MemberReinstated", account=nobody)), requester=nobody) == (
        Reason.REQUESTER_NOT_ACTIVE_INSTITUTION
    )


def test_the_subject_must_be_a_registered_enterprise() -> None:
    assert reason(world(), uscc_hash=OTHER_USCC) == Reason.SUBJECT_UNKNOWN


def test_a_rotated_enterprise_key_keeps_the_subject_and_removes_the_old_key() -> None:
    state = world(ev("EnterpriseKeyRotated", oldAccount=FIRM, newAccount=NEW_FIRM, usccHash=USCC))
    assert state.enterprises[USCC] == NEW_FIRM
    assert state.members[NEW_FIRM] == (4, 1) and state.members[FIRM] == (4, 3)
    assert reason(state) == Reason.ALLOWED
    registered = world()
    assert registered.members[FIRM] == (4, 1) and registered.enterprises[USCC] == FIRM


def test_the_agreement_must_exist_be_the_requesters_and_be_active() -> None:
    assert reason(world(), agreement_id=2) == Reason.AGREEMENT_UNKNOWN
    assert reason(world(), requester=OTHER_BANK) == Reason.AGREEMENT_NOT_OWNED
    proposed = AuthorizationState()
    for e in (
        ev("MemberAdmitted", account=BANK, role=3),
        ev("EnterpriseRegistered", account=FIRM, usccHash=USCC),
    ):
        proposed.apply(e)
    proposed.apply(ev(
        "AgreementProposed", id=AGREEMENT, institution=BANK, maxLevel=3, validFrom=0,
        validUntil=VALID_UNTIL, commitmentId=9, categories=TAX, purposes=PURPOSE,
    ))  # fmt: skip
    assert reason(proposed) == Reason.AGREEMENT_NOT_ACTIVE  # proposed, not countersigned
    for name in ("AgreementSuspended", "AgreementTerminated"):
        assert reason(world(ev(name, id=AGREEMENT))) == Reason.AGREEMENT_NOT_ACTIVE
    reinstated = world(ev("AgreementSuspended", id=AGREEMENT), ev("AgreementReinstated", id=AGREEMENT))
    assert reason(reinstated) == Reason.ALLOWED
    assert reason(world(ev("AgreementTerminated", id=42))) == Reason.ALLOWED  # another, unknown agreement


def test_validity_starts_at_the_block_time_and_ends_at_the_later_of_block_and_release_time() -> None:
    state = world()
    assert reason(state, VALID_FROM, at=VALID_FROM) == Reason.ALLOWED
    assert reason(state, VALID_FROM - 1, at=VALID_FROM - 1) == Reason.AGREEMENT_NOT_YET_VALID
    # the start is judged at the block's time, even when the release came later
    assert reason(state, VALID_FROM - 1, at=VALID_FROM + 10) == Reason.AGREEMENT_NOT_YET_VALID
    assert reason(state, VALID_UNTIL, at=VALID_UNTIL) == Reason.ALLOWED
    assert reason(state, VALID_UNTIL + 1, at=0) == Reason.AGREEMENT_EXPIRED
    # the end is judged at the release's time when it is later than the block's
    assert reason(state, VALID_UNTIL - 5, at=VALID_UNTIL + 1) == Reason.AGREEMENT_EXPIRED


def test_a_breached_commitment_refuses() -> None:
    assert reason(world(ev("CommitmentBreached", id=9))) == Reason.COMMITMENT_BREACHED
    assert reason(world(ev("CommitmentBreached", id=8))) == Reason.ALLOWED


def test_categories_must_be_some_and_within_the_agreement() -> None:
    assert reason(world(), categories=0) == Reason.CATEGORY_OUT_OF_SCOPE
    assert reason(world(), categories=TAX | 1 << 9) == Reason.CATEGORY_OUT_OF_SCOPE
    assert reason(world(), categories=TAX | LOANS | PUBLIC) == Reason.ALLOWED


def test_the_purpose_must_be_exactly_one_the_agreement_allows() -> None:
    assert reason(world(), purpose=0) == Reason.PURPOSE_NOT_ALLOWED
    assert reason(world(), purpose=PURPOSE | OTHER_PURPOSE) == Reason.PURPOSE_NOT_ALLOWED  # two bits
    assert reason(world(), purpose=4) == Reason.PURPOSE_NOT_ALLOWED
    assert reason(world(), purpose=OTHER_PURPOSE) == Reason.NO_COVERING_GRANT  # allowed, not granted


def test_the_level_may_reach_the_agreements_maximum_not_pass_it() -> None:
    assert reason(world(), level=MAX_LEVEL) == Reason.ALLOWED
    assert reason(world(), level=MAX_LEVEL + 1) == Reason.LEVEL_ABOVE_MAXIMUM


def test_the_first_failing_check_wins() -> None:
    state = world(ev("CommitmentBreached", id=9))
    assert reason(state, categories=0, purpose=0, level=99) == Reason.COMMITMENT_BREACHED
    assert reason(world(), categories=0, purpose=0, level=99) == Reason.CATEGORY_OUT_OF_SCOPE
    assert reason(world(), purpose=0, level=99) == Reason.PURPOSE_NOT_ALLOWED
    assert reason(world(), uscc_hash=OTHER_USCC, agreement_id=2) == Reason.SUBJECT_UNKNOWN
    assert reason(world(), VALID_UNTIL + 1, agreement_id=2) == Reason.AGREEMENT_UNKNOWN


def test_public_categories_need_no_consent() -> None:
    assert decide(world(), categories=PUBLIC) == LocalDecision(True, Reason.ALLOWED, 0, 0)
    assert decide(world(ev("ConsentRevoked", grantId=7)), categories=PUBLIC).allowed
    unpublished = world(ev("CataloguePublished", publicCategories=0, contentHash=b"\x0a" * 32))
    assert unpublished.catalogue_hash == b"\x0a" * 32
    assert reason(unpublished, categories=PUBLIC) == Reason.NO_COVERING_GRANT  # no longer public


@pytest.mark.parametrize(
    "event, query",
    [
        (ev("ConsentRevoked", grantId=7), {}),
        (ev("CataloguePublished", publicCategories=0, contentHash=b""), {"categories": TAX | PUBLIC}),
        (None, {"categories": TAX | 1 << 9}),
        (None, {"purpose": OTHER_PURPOSE}),
        (None, {"at": VALID_UNTIL + 1}),
    ],
)
def test_a_restricted_category_needs_a_live_grant_covering_it(
    event: ChainEvent | None, query: dict[str, object]
) -> None:
    state = world(*(e for e in [event] if e is not None), categories=(1 << 10) - 1, validUntil=10**9)
    assert reason(state, **query) == Reason.NO_COVERING_GRANT


def test_the_grant_runs_to_its_expiry_at_the_later_of_block_and_release_time() -> None:
    state = world(validUntil=10**9)
    assert decide(state, VALID_UNTIL, at=VALID_UNTIL).grant_id == 7
    assert reason(state, VALID_UNTIL + 1, at=0) == Reason.NO_COVERING_GRANT
    assert reason(state, VALID_UNTIL - 1, at=VALID_UNTIL + 1) == Reason.NO_COVERING_GRANT


def test_the_newest_grant_that_covers_the_query_is_named() -> None:
    state = world(grant(8, rawCategories=0), grant(9, purposes=OTHER_PURPOSE))
    assert decide(state) == LocalDecision(True, Reason.ALLOWED, 8, 0)
    assert reason(world(ev("ConsentRevoked", grantId=99))) == Reason.ALLOWED  # an unknown grant


def test_a_grant_bound_to_an_agreement_covers_only_that_agreement() -> None:
    second = {
        "id": 2, "institution": BANK, "maxLevel": 3, "validFrom": 0, "validUntil": VALID_UNTIL,
        "commitmentId": 9, "categories": TAX, "purposes": PURPOSE,
    }  # fmt: skip
    state = world(
        ev("AgreementProposed", **second),
        ev("AgreementCountersigned", id=2),
        ev("ConsentRevoked", grantId=7),
        grant(8, agreementId=AGREEMENT),
    )
    assert decide(state).grant_id == 8
    assert reason(state, agreement_id=2) == Reason.NO_COVERING_GRANT


def test_an_institution_no_enterprise_ever_granted_has_no_covering_grant() -> None:
    theirs = {
        "id": 2, "institution": OTHER_BANK, "maxLevel": 3, "validFrom": 0, "validUntil": VALID_UNTIL,
        "commitmentId": 9, "categories": TAX, "purposes": PURPOSE,
    }  # fmt: skip
    state = world(ev("AgreementProposed", **theirs), ev("AgreementCountersigned", id=2))
    assert reason(state, requester=OTHER_BANK, agreement_id=2) == Reason.NO_COVERING_GRANT


def test_a_grant_is_for_its_own_enterprise_and_institution() -> None:
    state = world(
        ev("ConsentRevoked", grantId=7),
        ev("MemberAdmitted", account=OTHER_BANK, role=3),
        grant(8, institution=OTHER_BANK),
        grant(9, usccHash=OTHER_USCC),
    )
    assert reason(state) == Reason.NO_COVERING_GRANT


def test_raw_categories_are_only_those_asked_for() -> None:
    state = world(grant(8, rawCategories=TAX | LOANS))
    assert decide(state, categories=LOANS) == LocalDecision(True, Reason.ALLOWED, 8, LOANS)
    assert decide(state, categories=TAX | LOANS).raw_categories == TAX | LOANS


def test_events_of_other_kinds_change_nothing() -> None:
    state = world()
    before = dataclasses.asdict(state)
    state.apply(ev("CheckpointAnchored", logId=b"", size=1))
    assert dataclasses.asdict(state) == before
