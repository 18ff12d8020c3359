"""Consent management through the API: institutions with active agreements, grants with status."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ledger.chain.agreements import SuspendMessage
from ledger.chain.consents import RevokeMessage
from ledger.chain.membership import uscc_hash
from ledger.errors import NotAuthorized
from ledger.wiring import records_service, selfservice
from tests.integration.selfservice.conftest import OTHER_SUBJECT, PENALTY, TAX, SelfWorld, refused
from tests.integration.test_release import REGISTRATION, SUBJECT


def test_institutions_with_their_active_agreements(sw: SelfWorld) -> None:
    w = sw.w
    listing = sw.ent.institutions()
    assert listing["at"]["block"] > 0
    by_account = {i["account"]: i for i in listing["institutions"]}
    assert set(by_account) == {w.bank.address, w.guarantor.address}
    bank = by_account[w.bank.address]
    assert bank["kind"] == "bank"
    agreements = {a["id"]: a for a in bank["agreements"]}
    assert set(agreements) == {w.agreement, sw.penalty_agreement}
    assert agreements[w.agreement]["category_names"] == ["registration", "tax"]
    assert agreements[w.agreement]["purpose_names"] == ["credit_assessment"]
    assert agreements[sw.penalty_agreement]["categories"] == str(PENALTY)
    assert not agreements[w.agreement]["commitment_breached"]
    assert by_account[w.guarantor.address]["agreements"] == []

    sw.operator.act(SuspendMessage, agreement_id=sw.penalty_agreement)  # no longer active
    bank = next(i for i in sw.ent.institutions()["institutions"] if i["account"] == w.bank.address)
    assert [a["id"] for a in bank["agreements"]] == [w.agreement]


def test_grants_with_status_and_revocation(sw: SelfWorld, advance_time: Callable[[int], None]) -> None:
    w = sw.w
    live = w.grant(w.bank, TAX)
    revoked = w.grant(w.bank, TAX | REGISTRATION, raw=TAX)
    short = w.grant(w.guarantor, TAX, seconds=60)
    sw.ent.act(RevokeMessage, grant_id=revoked)
    advance_time(120)

    listing = sw.ent.grants()
    status = {g["id"]: g["status"] for g in listing["grants"]}
    assert status == {live: "live", revoked: "revoked", short: "expired"}
    detail = next(g for g in listing["grants"] if g["id"] == revoked)
    assert detail["category_names"] == ["registration", "tax"] and detail["raw_categories"] == str(TAX)
    assert detail["raw_category_names"] == ["tax"]
    assert detail["institution"] == w.bank.address and detail["agreement_id"] == 0

    w.release()  # the live grant covers the bank
    sw.ent.act(RevokeMessage, grant_id=live)  # effective from the next block
    assert {g["status"] for g in sw.ent.grants()["grants"]} == {"revoked", "expired"}
    error = refused(w.release, 403, "release_refused")
    assert "no_covering_grant" in error.message

    assert len(sw.operator.grants(SUBJECT)["grants"]) == 3
    assert sw.sdk(sw.other).grants()["grants"] == []  # its own: none
    refused(lambda: sw.sdk(sw.other).grants(SUBJECT), 403, "not_authorized")
    refused(lambda: sw.sdk(w.bank).grants(), 403, "not_authorized")
    assert sw.sdk(sw.other).grants(OTHER_SUBJECT)["grants"] == []


def test_the_portal_listing_reads_at_one_block_in_batches_what_one_call_each_reads(sw: SelfWorld) -> None:
    w = sw.w
    first = w.grant(w.bank, TAX)
    w.grant(w.guarantor, TAX, seconds=60)
    sw.ent.act(RevokeMessage, grant_id=first)
    contracts = w.platform.contracts
    b = w.platform.chain.block_number()
    members = contracts.membership.members(b)
    assert members == [contracts.membership.member_of(m.account, b) for m in members]
    assert {w.bank.address, w.guarantor.address, w.enterprise.address} <= {m.account for m in members}
    agreement_ids = list(range(1, contracts.agreements.agreement_count(b) + 2))  # one past the last: None
    agreements = contracts.agreements.agreements(agreement_ids, b)
    assert (
        agreements == [contracts.agreements.agreement(i, b) for i in agreement_ids] and agreements[-1] is None
    )
    commitment_ids = [*sorted({a.terms.commitment_id for a in agreements if a is not None}), 10_000]
    commitments = contracts.agreements.commitments(commitment_ids, b)
    assert commitments == [contracts.agreements.commitment(i, b) for i in commitment_ids]
    assert commitments[-1] is None
    grant_ids = contracts.consents.grants_of(uscc_hash(SUBJECT), b)
    grants = contracts.consents.grants([*grant_ids, 10_000], b)
    assert grants == [contracts.consents.get_grant(i, b) for i in [*grant_ids, 10_000]] and grants[-1] is None

    service = selfservice(w.platform, records=records_service(w.platform))
    enterprise = contracts.membership.member_of(w.enterprise.address)
    view, institutions, shown = service.consents.listing(w.enterprise.address, enterprise)
    assert view.block >= b
    assert [g.id for g in shown] == contracts.consents.grants_of(uscc_hash(SUBJECT), view.block)
    assert {g.id: g.status for g in shown}[first] == "revoked"
    assert (view, institutions) == service.consents.institutions(view)
    with pytest.raises(NotAuthorized):  # grants are listed for the enterprise itself
        service.consents.listing(w.bank.address, contracts.membership.member_of(w.bank.address))
