"""`Consents` and `CatalogueRegistry` against a real node: grants, revocations, the
catalogue anchor, and every answer of the authorization check, through web3 and
through the fast call path.

The deployed ledger and its cast of accounts are described in `authorization_world`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

import pytest
from authorization_world import (
    CATALOGUE_V1,
    CREDIT_ASSESSMENT,
    DAY,
    INSURANCE_UNDERWRITING,
    LOAN_MONITORING,
    PENALTIES,
    PUBLIC,
    PURPOSES,
    REGISTRATION,
    SOCIAL_INSURANCE,
    TAX,
    UNKNOWN_USCC,
    UTILITIES,
    World,
    around,
    doc,
    reverts,
)

from ledger.chain.agreements import AgreementStatus
from ledger.chain.authorize_call import AuthorizeCaller, encode_call
from ledger.chain.catalogue_registry import MESSAGES as CATALOGUE_MESSAGES
from ledger.chain.catalogue_registry import CatalogueVersion
from ledger.chain.consents import MESSAGES, AuthorizationQuery, Decision, Grant, Reason
from ledger.chain.eip712 import sign
from ledger.chain.errors import ChainUnavailable
from ledger.chain.membership import Action, Role, uscc_hash
from ledger.paths import CONTRACTS_DIR

pytest_plugins = ["authorization_world"]


def typehashes(path: str) -> set[str]:
    source = (CONTRACTS_DIR / path).read_text()
    return set(re.findall(r'keccak256\(\s*"([^"]+)"\s*\)', source))


def test_type_strings_match_the_contract_typehashes() -> None:
    assert {m.type_string() for m in MESSAGES} == typehashes("consents/Consents.sol")
    assert {m.type_string() for m in CATALOGUE_MESSAGES} == typehashes("catalogue/CatalogueRegistry.sol")


def test_reason_enum_matches_the_contract() -> None:
    source = (CONTRACTS_DIR / "consents" / "IConsents.sol").read_text()
    body = re.search(r"enum Reason \{([^}]*)\}", source)
    assert body is not None
    names = [n.strip() for n in body.group(1).split(",")]
    assert [re.sub(r"(?<!^)(?=[A-Z])", "_", n).upper() for n in names] == [r.name for r in Reason]


# -- the catalogue anchor ---------------------------------------------------------------------


def test_catalogue_publish(world: World) -> None:
    c = world.catalogue
    assert c.current() == CATALOGUE_V1
    v2 = CatalogueVersion(2, doc("catalogue-v2"), PUBLIC | TAX)
    receipt = c.publish(c.sign_publish(world.operator2, v2))
    assert c.events("CataloguePublished", receipt) == [
        {"version": 2, "contentHash": v2.content_hash, "publicCategories": v2.public_categories,
         "operator": world.operator2.address}
    ]  # fmt: skip
    assert c.current() == v2
    assert c.version_hash(1) == CATALOGUE_V1.content_hash
    assert c.version_hash(2) == v2.content_hash
    # versions may skip, never go back
    c.publish(c.sign_publish(world.operator, CatalogueVersion(5, doc("v5"), PUBLIC)))
    assert c.current().version == 5


def test_catalogue_refusals(world: World) -> None:
    c = world.catalogue
    with reverts("NonIncreasingCatalogueVersion", version=1, currentVersion=1):
        c.publish(c.sign_publish(world.operator, CATALOGUE_V1))
    with reverts("NonIncreasingCatalogueVersion", version=0, currentVersion=1):
        c.publish(c.sign_publish(world.operator, CatalogueVersion(0, doc("v0"), 0)))
    with reverts("EmptyCatalogueHash"):
        c.publish(c.sign_publish(world.operator, CatalogueVersion(2, bytes(32), 0)))
    with reverts("NotActiveMember", account=world.bank.address, role=Role.OPERATOR):
        c.publish(c.sign_publish(world.bank, CatalogueVersion(2, doc("v2"), 0)))
    with reverts("NonexistentCatalogueVersion", version=2):
        c.version_hash(2)
    signed = c.sign_publish(world.operator, CatalogueVersion(2, doc("v2"), 0))
    forged = sign(world.stranger, c.domain, signed.message)
    with reverts("InvalidSigner", expected=world.operator.address, recovered=world.stranger.address):
        c.publish(forged)


def test_catalogue_public_mask_applies_from_its_block(world: World) -> None:
    query = world.query(categories=TAX)
    assert world.consents.authorize(query).reason is Reason.NO_COVERING_GRANT
    c = world.catalogue
    receipt = c.publish(c.sign_publish(world.operator, CatalogueVersion(2, doc("v2"), PUBLIC | TAX)))
    block = receipt["blockNumber"]
    assert world.consents.authorize(query, block).allowed
    assert world.consents.authorize(query, block - 1).reason is Reason.NO_COVERING_GRANT


# -- grants -----------------------------------------------------------------------------------


def test_grant(world: World) -> None:
    cs = world.consents
    terms = world.grant_terms(agreement_id=1)
    receipt = cs.relay("grant", cs.sign_grant(world.enterprise, terms))
    assert cs.events("ConsentGranted", receipt) == [
        {"grantId": 1, "usccHash": world.uscc, "institution": world.bank.address, "agreementId": 1,
         "categories": terms.categories, "purposes": terms.purposes, "rawCategories": terms.raw_categories,
         "expiresAt": terms.expires_at, "enterprise": world.enterprise.address}
    ]  # fmt: skip
    assert cs.get_grant(1) == Grant(1, terms, revoked=False)
    assert cs.grant_count() == 1
    assert cs.get_grant(2) is None


def test_grant_lists(world: World) -> None:
    cs = world.consents
    first = world.grant()
    to_bank2 = world.grant(institution=world.bank2.address)
    second = world.grant(categories=TAX, raw_categories=0)
    other_enterprise = world.grant(world.enterprise2, uscc_hash=world.uscc2)
    assert cs.grant_ids_for(world.uscc, world.bank.address) == [second, first]
    assert cs.grant_ids_for(world.uscc, world.bank2.address) == [to_bank2]
    assert cs.grant_ids_for(world.uscc2, world.bank.address) == [other_enterprise]
    assert cs.grant_ids_for(world.uscc2, world.bank2.address) == []
    assert sorted(cs.grants_of(world.uscc)) == [first, to_bank2, second]
    assert cs.grants_of(world.uscc2) == [other_enterprise]
    assert cs.grants_of(uscc_hash(UNKNOWN_USCC)) == []


def test_grant_refusals(world: World) -> None:
    e = world.enterprise
    with reverts(
        "NotEnterpriseAccount", usccHash=world.uscc, account=world.enterprise2.address, current=e.address
    ):
        world.grant(world.enterprise2)
    unknown = uscc_hash(UNKNOWN_USCC)
    with reverts("NotEnterpriseAccount", usccHash=unknown, account=e.address, current="0x" + "00" * 20):
        world.grant(uscc_hash=unknown)
    with reverts("NotActiveMember", account=world.stranger.address, role=Role.INSTITUTION):
        world.grant(institution=world.stranger.address)
    with reverts("NotActiveMember", account=world.enterprise2.address, role=Role.INSTITUTION):
        world.grant(institution=world.enterprise2.address)
    with reverts("EmptyGrant", categories=0, purposes=PURPOSES):
        world.grant(categories=0, raw_categories=0)
    with reverts("EmptyGrant", categories=TAX, purposes=0):
        world.grant(categories=TAX, raw_categories=0, purposes=0)
    with reverts("RawCategoriesOutsideGrant", rawCategories=UTILITIES, categories=TAX):
        world.grant(categories=TAX, raw_categories=UTILITIES)
    now = world.now()
    with reverts("GrantExpiryInPast", expiresAt=now - 1, timestamp=around(now)):
        world.grant(expires_at=now - 1)
    with reverts("SafeCastOverflowedUintDowncast", bits=96, value=1 << 96):
        world.grant(categories=1 << 96, raw_categories=0)
    with reverts("SafeCastOverflowedUintDowncast", bits=64, value=1 << 64):
        world.grant(purposes=1 << 64)


def test_grant_refuses_a_suspended_enterprise(world: World) -> None:
    m = world.membership
    m.suspend_enterprise(m.sign_suspend_enterprise(world.operator, "91350200776049653A"))
    with reverts("NotActiveMember", account=world.enterprise.address, role=Role.ENTERPRISE):
        world.grant()


def test_grant_signature_refusals(world: World, advance_time: Callable[[int], None]) -> None:
    cs = world.consents
    signed = cs.sign_grant(world.enterprise, world.grant_terms())
    forged = sign(world.stranger, cs.domain, signed.message)
    with reverts("InvalidSigner", expected=world.enterprise.address, recovered=world.stranger.address):
        cs.grant(forged)
    cs.grant(signed)
    with reverts("InvalidAccountNonce", account=world.enterprise.address, currentNonce=1):
        cs.grant(signed)
    deadline = world.now() + 60
    late = cs.sign_grant(world.enterprise, world.grant_terms(), deadline=deadline)
    advance_time(61)
    with reverts("SignatureExpired", deadline=deadline, timestamp=around(world.now())):
        cs.grant(late)


def test_revoke(world: World) -> None:
    cs = world.consents
    grant_id = world.grant()
    receipt = cs.revoke(cs.sign_revoke(world.enterprise, grant_id))
    assert cs.events("ConsentRevoked", receipt) == [
        {"grantId": grant_id, "usccHash": world.uscc, "enterprise": world.enterprise.address}
    ]
    grant = cs.get_grant(grant_id)
    assert grant is not None
    assert grant.revoked


def test_revoke_refusals(world: World) -> None:
    cs = world.consents
    grant_id = world.grant()
    with reverts(
        "NotEnterpriseAccount", usccHash=world.uscc, account=world.enterprise2.address,
        current=world.enterprise.address,
    ):  # fmt: skip
        cs.revoke(cs.sign_revoke(world.enterprise2, grant_id))
    with reverts("NonexistentGrant", id=99):
        cs.revoke(cs.sign_revoke(world.enterprise, 99))
    cs.revoke(cs.sign_revoke(world.enterprise, grant_id))
    with reverts("GrantAlreadyRevoked", id=grant_id):
        cs.revoke(cs.sign_revoke(world.enterprise, grant_id))


def test_a_suspended_enterprise_may_still_revoke_but_not_grant(world: World) -> None:
    cs, m = world.consents, world.membership
    grant_id = world.grant()
    m.suspend_enterprise(m.sign_suspend_enterprise(world.operator, "91350200776049653A"))
    with reverts("NotActiveMember", account=world.enterprise.address, role=4):
        cs.grant(cs.sign_grant(world.enterprise, world.grant_terms()))
    cs.revoke(cs.sign_revoke(world.enterprise, grant_id))  # withdrawing consent only narrows access
    grant = cs.get_grant(grant_id)
    assert grant is not None and grant.revoked


def test_grants_survive_key_rotation(world: World) -> None:
    cs, m = world.consents, world.membership
    grant_id = world.grant()
    m.rotate_key(m.sign_rotate_key(world.enterprise, "91350200776049653A", world.spare.address))
    assert cs.authorize(world.query()).grant_id == grant_id
    with reverts(
        "NotEnterpriseAccount", usccHash=world.uscc, account=world.enterprise.address,
        current=world.spare.address,
    ):  # fmt: skip
        cs.revoke(cs.sign_revoke(world.enterprise, grant_id))
    cs.revoke(cs.sign_revoke(world.spare, grant_id))
    assert cs.authorize(world.query()).reason is Reason.NO_COVERING_GRANT


# -- the authorization check: allowed ---------------------------------------------------------


def test_allowed_with_a_covering_grant(world: World) -> None:
    grant_id = world.grant(categories=TAX | SOCIAL_INSURANCE, raw_categories=TAX | SOCIAL_INSURANCE)
    decision = world.consents.authorize(world.query(categories=TAX | REGISTRATION))
    assert decision == Decision(True, Reason.ALLOWED, grant_id, TAX, world.block(), world.now())


def test_public_categories_need_an_agreement_but_no_grant(world: World) -> None:
    cs = world.consents
    latest = (world.block(), world.now())
    assert cs.authorize(world.query(categories=PUBLIC)) == Decision(True, Reason.ALLOWED, 0, 0, *latest)
    for agreement_id in (0, 99):
        decision = cs.authorize(world.query(categories=REGISTRATION, agreement_id=agreement_id))
        assert decision == Decision(False, Reason.AGREEMENT_UNKNOWN, 0, 0, *latest)


def test_a_grant_is_needed_only_for_the_non_public_categories(world: World) -> None:
    grant_id = world.grant(categories=TAX, raw_categories=0)
    decision = world.consents.authorize(world.query(categories=TAX | PENALTIES | REGISTRATION))
    assert (decision.allowed, decision.grant_id, decision.raw_categories) == (True, grant_id, 0)


def test_one_grant_must_cover_every_non_public_category(world: World) -> None:
    world.grant(categories=TAX, raw_categories=0)
    world.grant(categories=SOCIAL_INSURANCE, raw_categories=0)
    assert (
        world.consents.authorize(world.query(categories=TAX | SOCIAL_INSURANCE)).reason
        is Reason.NO_COVERING_GRANT
    )


def test_newest_covering_grant_answers(world: World) -> None:
    world.grant(raw_categories=0)
    newest = world.grant(raw_categories=TAX)
    world.grant(categories=UTILITIES, raw_categories=0)  # newer, not covering
    decision = world.consents.authorize(world.query())
    assert (decision.grant_id, decision.raw_categories) == (newest, TAX)


def test_grant_bound_to_an_agreement(world: World) -> None:
    second = world.activate()
    grant_id = world.grant(agreement_id=second)
    cs = world.consents
    assert cs.authorize(world.query(agreement_id=second)).grant_id == grant_id
    assert cs.authorize(world.query(agreement_id=1)).reason is Reason.NO_COVERING_GRANT


# -- the authorization check: each refusal, in the order of the checks ------------------------


def test_requester_not_an_active_institution(world: World) -> None:
    world.grant()
    cs = world.consents
    for requester in (world.stranger, world.enterprise, world.operator):
        assert (
            cs.authorize(world.query(requester=requester.address)).reason
            is Reason.REQUESTER_NOT_ACTIVE_INSTITUTION
        )


def test_suspended_institution_is_refused_from_its_suspension_block(world: World) -> None:
    cs = world.consents
    world.grant()
    before = world.block()
    assert cs.authorize(world.query()).allowed
    world.govern(Action.SUSPEND, world.bank.address)
    suspended = world.block()
    assert cs.authorize(world.query()).reason is Reason.REQUESTER_NOT_ACTIVE_INSTITUTION
    assert cs.authorize(world.query(), suspended - 1).allowed
    assert cs.authorize(world.query(), before).allowed
    world.govern(Action.REINSTATE, world.bank.address)
    assert cs.authorize(world.query()).allowed


def test_subject_unknown(world: World) -> None:
    query = world.query(uscc_hash=uscc_hash(UNKNOWN_USCC))
    assert world.consents.authorize(query).reason is Reason.SUBJECT_UNKNOWN


def test_agreement_not_owned(world: World) -> None:
    world.grant(institution=world.bank2.address)
    query = world.query(requester=world.bank.address, agreement_id=2)
    assert world.consents.authorize(query).reason is Reason.AGREEMENT_NOT_OWNED


def test_agreement_not_countersigned(world: World) -> None:
    proposed = world.propose()
    world.grant()
    assert world.consents.authorize(world.query(agreement_id=proposed)).reason is Reason.AGREEMENT_NOT_ACTIVE


def test_agreement_suspended_or_terminated(world: World) -> None:
    a, cs = world.agreements, world.consents
    world.grant()
    a.suspend(a.sign_suspend(world.operator, 1))
    assert cs.authorize(world.query()).reason is Reason.AGREEMENT_NOT_ACTIVE
    a.reinstate(a.sign_reinstate(world.operator, 1))
    assert cs.authorize(world.query()).allowed
    a.terminate(a.sign_terminate(world.bank, 1))
    assert cs.authorize(world.query()).reason is Reason.AGREEMENT_NOT_ACTIVE


def test_agreement_not_yet_valid(world: World, advance_time: Callable[[int], None]) -> None:
    start = world.now() + DAY
    future = world.activate(valid_from=start)
    world.grant()
    assert world.consents.authorize(world.query(agreement_id=future)).reason is Reason.AGREEMENT_NOT_YET_VALID
    advance_time(start - world.now())
    assert world.consents.authorize(world.query(agreement_id=future)).allowed


def test_agreement_expired(world: World, advance_time: Callable[[int], None]) -> None:
    until = world.now() + DAY
    short = world.activate(valid_until=until)
    world.grant(expires_at=until + 10 * DAY)
    advance_time(until - world.now())
    assert world.consents.authorize(world.query(agreement_id=short)).allowed
    advance_time(1)
    assert world.consents.authorize(world.query(agreement_id=short)).reason is Reason.AGREEMENT_EXPIRED
    assert world.agreements.status(short) is AgreementStatus.EXPIRED


def test_commitment_breached(world: World) -> None:
    a = world.agreements
    world.grant()
    a.mark_breached(a.sign_mark_breached(world.operator, 1, doc("evidence")))
    assert world.consents.authorize(world.query()).reason is Reason.COMMITMENT_BREACHED


def test_category_out_of_scope(world: World) -> None:
    narrow = world.activate(categories=TAX | PENALTIES)
    world.grant(categories=TAX | SOCIAL_INSURANCE)
    cs = world.consents
    assert cs.authorize(world.query(agreement_id=narrow, categories=TAX)).allowed
    for categories in (SOCIAL_INSURANCE, TAX | SOCIAL_INSURANCE, REGISTRATION, 0, 1 << 200):
        query = world.query(agreement_id=narrow, categories=categories)
        assert cs.authorize(query).reason is Reason.CATEGORY_OUT_OF_SCOPE, categories


def test_purpose_not_allowed(world: World) -> None:
    world.grant(purposes=PURPOSES | INSURANCE_UNDERWRITING)
    cs = world.consents
    assert cs.authorize(world.query(purpose=LOAN_MONITORING)).allowed
    for purpose in (INSURANCE_UNDERWRITING, 0, CREDIT_ASSESSMENT | LOAN_MONITORING, 1 << 255):
        assert cs.authorize(world.query(purpose=purpose)).reason is Reason.PURPOSE_NOT_ALLOWED, purpose


def test_level_above_maximum(world: World) -> None:
    world.grant()
    cs = world.consents
    assert cs.authorize(world.query(level=3)).allowed
    assert cs.authorize(world.query(level=4)).reason is Reason.LEVEL_ABOVE_MAXIMUM
    assert cs.authorize(world.query(level=255)).reason is Reason.LEVEL_ABOVE_MAXIMUM


def test_no_covering_grant(world: World) -> None:
    cs = world.consents
    assert cs.authorize(world.query()).reason is Reason.NO_COVERING_GRANT
    world.grant(institution=world.bank2.address)  # to another institution
    world.grant(categories=UTILITIES, raw_categories=0)  # other category
    world.grant(purposes=LOAN_MONITORING)  # other purpose
    world.grant(agreement_id=2)  # another agreement
    world.grant(world.enterprise2, uscc_hash=world.uscc2)  # another enterprise
    assert cs.authorize(world.query()).reason is Reason.NO_COVERING_GRANT


def test_revoked_grant_stops_covering_in_its_block(world: World) -> None:
    cs = world.consents
    grant_id = world.grant()
    granted = world.block()
    assert cs.authorize(world.query()).grant_id == grant_id
    receipt = cs.revoke(cs.sign_revoke(world.enterprise, grant_id))
    revoked = receipt["blockNumber"]
    assert cs.authorize(world.query(), revoked).reason is Reason.NO_COVERING_GRANT
    assert cs.authorize(world.query(), revoked - 1) == Decision(
        True, Reason.ALLOWED, grant_id, TAX, revoked - 1, world.timestamp(revoked - 1)
    )
    assert cs.authorize(world.query(), granted - 1).reason is Reason.NO_COVERING_GRANT


def test_expired_grant(world: World, advance_time: Callable[[int], None]) -> None:
    expires_at = world.now() + DAY
    world.grant(expires_at=expires_at)
    advance_time(expires_at - world.now())
    assert world.consents.authorize(world.query()).allowed
    advance_time(1)
    assert world.consents.authorize(world.query()).reason is Reason.NO_COVERING_GRANT


def test_an_expired_grant_is_refused_at_the_release_time_on_an_idle_chain(world: World) -> None:
    """No block since the grant expired: the release's own time (`at`) decides, not the block's."""
    expires_at = world.now() + DAY
    world.grant(expires_at=expires_at)
    block, sealed = world.block(), world.now()
    assert world.consents.authorize(world.query(at=expires_at)).allowed  # the last covered second
    decision = world.consents.authorize(world.query(at=expires_at + 1))
    assert decision.reason is Reason.NO_COVERING_GRANT
    assert (decision.block_number, decision.block_timestamp) == (block, sealed)  # still that block


def test_an_expired_agreement_is_refused_at_the_release_time_on_an_idle_chain(world: World) -> None:
    until = world.now() + DAY
    short = world.activate(valid_until=until)
    world.grant(expires_at=until + 10 * DAY)
    assert world.consents.authorize(world.query(agreement_id=short, at=until)).allowed
    decision = world.consents.authorize(world.query(agreement_id=short, at=until + 1))
    assert decision.reason is Reason.AGREEMENT_EXPIRED


def test_the_release_time_can_only_narrow_what_is_allowed(
    world: World, advance_time: Callable[[int], None]
) -> None:
    """A time before the block's changes nothing: expiries use the later clock, validity the block's."""
    expires_at = world.now() + DAY
    world.grant(expires_at=expires_at)
    advance_time(DAY + 1)
    for at in (0, 1, expires_at, world.now() - 1):
        assert world.consents.authorize(world.query(at=at)).reason is Reason.NO_COVERING_GRANT, at
    starts = world.now() + DAY
    future = world.activate(valid_from=starts, valid_until=starts + DAY)
    world.grant(expires_at=starts + 2 * DAY)
    decision = world.consents.authorize(world.query(agreement_id=future, at=starts + 10))
    assert decision.reason is Reason.AGREEMENT_NOT_YET_VALID  # a later `at` never makes it valid


def test_first_failing_check_is_the_reason(world: World) -> None:
    """A request wrong in every way reports the earliest check."""
    cs = world.consents
    query = world.query(
        requester=world.stranger.address,
        uscc_hash=uscc_hash(UNKNOWN_USCC),
        agreement_id=99,
        categories=0,
        purpose=0,
        level=9,
    )
    assert cs.authorize(query).reason is Reason.REQUESTER_NOT_ACTIVE_INSTITUTION
    query = replace(query, requester=world.bank.address)
    assert cs.authorize(query).reason is Reason.SUBJECT_UNKNOWN
    query = world.query(agreement_id=2, categories=0, purpose=0, level=9)
    assert cs.authorize(query).reason is Reason.AGREEMENT_NOT_OWNED
    query = world.query(categories=0, purpose=0, level=9)
    assert cs.authorize(query).reason is Reason.CATEGORY_OUT_OF_SCOPE
    query = world.query(purpose=0, level=9)
    assert cs.authorize(query).reason is Reason.PURPOSE_NOT_ALLOWED
    assert cs.authorize(world.query(level=9)).reason is Reason.LEVEL_ABOVE_MAXIMUM


# -- the fast call path -----------------------------------------------------------------------


def queries(world: World) -> list[AuthorizationQuery]:
    return [
        world.query(),
        world.query(categories=PUBLIC),
        world.query(requester=world.bank2.address, agreement_id=2),
        world.query(requester=world.stranger.address),
        world.query(level=4),
        world.query(categories=TAX | SOCIAL_INSURANCE, purpose=LOAN_MONITORING),
    ]


def test_fast_path_answers_as_the_contract(world: World) -> None:
    world.grant(raw_categories=TAX)
    before = world.block()
    world.grant(institution=world.bank2.address)
    with AuthorizeCaller(world.chain.rpc_url, world.consents.address) as fast:
        for block in ("latest", before):
            expected = [world.consents.authorize(q, block) for q in queries(world)]
            assert [fast.authorize(q, block) for q in queries(world)] == expected
            assert fast.authorize_many(queries(world), block) == expected
        assert fast.authorize_many([]) == []
        assert fast.authorize(world.query()).block_number == world.block()


def test_fast_path_calldata_is_the_abi_encoding(world: World) -> None:
    query = world.query()
    fn = world.consents.contract.functions.authorize(*query.args())
    assert encode_call(query) == fn._encode_transaction_data()


def test_fast_path_fails_closed(world: World) -> None:
    with AuthorizeCaller("http://127.0.0.1:9", world.consents.address, timeout=0.5) as down:
        with pytest.raises(ChainUnavailable):
            down.authorize(world.query())
        with pytest.raises(ChainUnavailable):
            down.authorize_many(queries(world))
    with (
        AuthorizeCaller(world.chain.rpc_url, world.consents.address) as fast,
        pytest.raises(ChainUnavailable),
    ):
        fast.authorize(world.query(), world.block() + 1000)  # a block that does not exist
    no_contract = "0x" + "00" * 19 + "01"
    with AuthorizeCaller(world.chain.rpc_url, no_contract) as wrong, pytest.raises(ChainUnavailable):
        wrong.authorize(world.query())
