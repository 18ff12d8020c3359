"""The release service with fakes for the chain, the access trail and the records.

Each test says what was released, in what form and when: masked unless the request asked
for raw detail and the grant allows it, category by category; only the request's own
subject and categories, even when a batch read more; and never before the access-trail
entry of the release has committed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest

from ledger.chain.consents import Reason
from ledger.chain.errors import ChainUnavailable
from ledger.domain.masking import mask_record
from ledger.errors import Unavailable
from ledger.records.samples import sample_uscc
from ledger.release.service import ReleaseRefused
from ledger.release.trail import ReplayedDataRequest
from ledger.request_auth import Unauthenticated
from tests.unit.release.fakes import (
    BLOCK,
    NOW,
    OTHER_INSTITUTION,
    World,
    decision,
    nonce_of,
    record,
    refused,
    request,
    world,
)

ACME, OTHER = sample_uscc(0), sample_uscc(1)
REGISTRATION, TAX, TRADING = 1 << 0, 1 << 6, 1 << 14

REGISTRATION_FIELDS = {
    "enterprise_name": "豫商贸易有限公司",
    "uscc": ACME,
    "legal_representative": "王伟",
    "legal_representative_id": "410105198001011234",
    "contact_mobile": "13812345678",
}
TAX_FIELDS = {"tax_year": 2025, "credit_grade": "A", "payment_account": "6222021234567890123"}
TRADING_FIELDS = {
    "trade_reference": "T-1",
    "asset_type": "bond",
    "settlement_account": "6222029876543210987",
    "authentication_data": "otp-secret-42",
}
RECORDS = [
    record(ACME, "registration", REGISTRATION_FIELDS),
    record(ACME, "tax", TAX_FIELDS),
    record(ACME, "financial_asset_trading", TRADING_FIELDS),
    record(OTHER, "registration", {**REGISTRATION_FIELDS, "uscc": OTHER, "enterprise_name": "另一家公司"}),
    record(OTHER, "tax", TAX_FIELDS),
]


@pytest.fixture
def w() -> Iterator[World]:
    made = world(RECORDS)
    yield made
    made.service.close()


def masked(category: str, fields: dict[str, object]) -> dict[str, object]:
    return mask_record(category, fields, raw=False)


def released(data: dict[str, object]) -> dict[str, tuple[str, dict[str, object]]]:
    """The released records by category: (detail, fields)."""
    records = data["records"]
    assert isinstance(records, list)
    return {r["category"]: (r["detail"], r["fields"]) for r in records}


def test_an_allowed_release_carries_the_masked_records_and_a_receipt_of_its_committed_entry(w: World) -> None:
    w.chain.decisions[1] = decision(grant_id=9)
    asked = request(categories=REGISTRATION | TAX)
    [future] = w.release_together([asked])
    release = future.result()
    data = release.data
    assert data["subject"] == ACME and data["block"] == BLOCK
    assert released(data) == {
        "registration": ("masked", masked("registration", REGISTRATION_FIELDS)),
        "tax": ("masked", masked("tax", TAX_FIELDS)),
    }
    assert released(data)["registration"][1]["legal_representative_id"] == "410***********1234"
    assert release.receipt.response_hash == hashlib.sha256(release.data_json).digest()
    assert release.receipt.block == BLOCK
    entry = w.trail.entry_of(asked)
    assert entry is not None
    assert entry.payload["grant_id"] == 9 and entry.payload["raw_categories"] == "0"
    assert entry.payload["record_count"] == 2 and entry.payload["block"] == BLOCK
    assert entry.payload["response_hash"] == "0x" + release.receipt.response_hash.hex()
    assert w.events.index(("commit", nonce_of(asked))) < w.events.index(("answered", nonce_of(asked)))


def test_raw_values_go_out_only_when_the_request_asks_for_them(w: World) -> None:
    """The grant allows raw for every category; a request for masked data still gets masked data."""
    w.chain.decisions[1] = decision(raw_categories=REGISTRATION | TAX)
    asked = request(categories=REGISTRATION | TAX, raw=False)
    [future] = w.release_together([asked])
    assert released(future.result().data) == {
        "registration": ("masked", masked("registration", REGISTRATION_FIELDS)),
        "tax": ("masked", masked("tax", TAX_FIELDS)),
    }
    entry = w.trail.entry_of(asked)
    assert entry is not None and entry.payload["raw_categories"] == "0"


def test_raw_detail_is_granted_category_by_category(w: World) -> None:
    """A grant raw for registration only: the tax record of the same release stays masked."""
    w.chain.decisions[1] = decision(raw_categories=REGISTRATION)
    asked = request(categories=REGISTRATION | TAX, raw=True)
    [future] = w.release_together([asked])
    assert released(future.result().data) == {
        "registration": ("raw", REGISTRATION_FIELDS),
        "tax": ("masked", masked("tax", TAX_FIELDS)),
    }
    entry = w.trail.entry_of(asked)
    assert entry is not None and entry.payload["raw_categories"] == str(REGISTRATION)


def test_never_fields_are_left_out_even_of_raw_records(w: World) -> None:
    w.chain.decisions[1] = decision(raw_categories=TRADING)
    [future] = w.release_together([request(categories=TRADING, raw=True)])
    detail, fields = released(future.result().data)["financial_asset_trading"]
    assert detail == "raw" and "authentication_data" not in fields
    assert fields["settlement_account"] == TRADING_FIELDS["settlement_account"]


def test_each_release_of_a_batch_carries_only_its_own_subject_and_categories(w: World) -> None:
    """The batch's one read covers every subject and category asked; each release is cut to its own."""
    for agreement in (1, 2, 3):
        w.chain.decisions[agreement] = decision(grant_id=agreement)
    a = request(categories=REGISTRATION, agreement_id=1)
    b = request(categories=TAX, agreement_id=2)
    c = request(subject=OTHER, categories=REGISTRATION | TAX, agreement_id=3, institution=OTHER_INSTITUTION)
    fa, fb, fc = w.release_together([a, b, c])
    assert released(fa.result().data) == {
        "registration": ("masked", masked("registration", REGISTRATION_FIELDS))
    }
    assert released(fb.result().data) == {"tax": ("masked", masked("tax", TAX_FIELDS))}
    data_c = fc.result().data
    assert data_c["subject"] == OTHER and set(released(data_c)) == {"registration", "tax"}
    assert released(data_c)["registration"][1]["enterprise_name"] == "另一家公司"
    for asked, count in ((a, 1), (b, 1), (c, 2)):
        entry = w.trail.entry_of(asked)
        assert entry is not None and entry.payload["record_count"] == count


def test_every_release_is_answered_only_after_the_commit_of_its_entry(w: World) -> None:
    w.chain.decisions[1] = decision()
    w.chain.decisions[2] = decision()
    asked = [request(agreement_id=1), request(categories=TAX, agreement_id=2)]
    futures = w.release_together(asked)
    assert all(f.exception() is None for f in futures)
    for r in asked:
        assert w.events.index(("commit", nonce_of(r))) < w.events.index(("answered", nonce_of(r)))


def test_a_failed_commit_releases_nothing(w: World) -> None:
    w.chain.decisions[1] = decision()
    w.chain.decisions[2] = decision()
    w.trail.commit_fails = OSError("disk full")
    futures = w.release_together([request(agreement_id=1), request(categories=TAX, agreement_id=2)])
    for future in futures:
        with pytest.raises(Unavailable, match="nothing released"):
            future.result()
    assert not any(c.entries for c in w.trail.committed)
    assert not [e for e in w.events if e[0] == "commit"]


def test_a_refusal_by_the_chain_releases_nothing_and_is_audited(w: World) -> None:
    w.chain.decisions[1] = refused(Reason.NO_COVERING_GRANT)
    w.chain.decisions[2] = decision()
    no, yes = request(agreement_id=1), request(agreement_id=2)
    f_no, f_yes = w.release_together([no, yes])
    with pytest.raises(ReleaseRefused) as refusal:
        f_no.result()
    assert refusal.value.reason is Reason.NO_COVERING_GRANT and refusal.value.block == BLOCK
    assert w.trail.entry_of(no) is None
    assert f_yes.result().data["subject"] == ACME  # refused alone
    [audited] = [a for a in w.db.audited if "agreement=1" in a.detail]
    assert (audited.actor, audited.event, audited.outcome) == (no.message.institution, "release", "refused")
    assert audited.detail.startswith("release_refused: ") and "no_covering_grant" in audited.detail


def test_a_chain_that_does_not_answer_refuses_the_whole_batch(w: World) -> None:
    w.chain.decisions[1] = decision()
    w.chain.fail = ChainUnavailable("node down")
    futures = w.release_together([request(agreement_id=1), request(agreement_id=1)])
    for future in futures:
        with pytest.raises(ChainUnavailable):
            future.result()
    assert not any(c.entries for c in w.trail.committed)


def test_a_replayed_request_is_refused_and_only_the_first_is_released(w: World) -> None:
    w.chain.decisions[1] = decision()
    first = request(agreement_id=1)
    again = request(agreement_id=1, nonce=first.message.nonce)
    f_first, f_again = w.release_together([first, again])
    assert f_first.result().data["subject"] == ACME
    with pytest.raises(ReplayedDataRequest):
        f_again.result()
    [later] = w.release_together([first])
    with pytest.raises(ReplayedDataRequest):
        later.result()
    assert sum(len(c.entries) for c in w.trail.committed) == 1


def test_a_request_past_its_deadline_never_reaches_the_chain(w: World) -> None:
    w.chain.decisions[1] = decision()
    late = request(agreement_id=1, deadline=NOW - 1)
    [future] = w.release_together([late])
    with pytest.raises(Unauthenticated, match="deadline"):
        future.result()
    assert all(q.agreement_id != 1 for q in w.chain.queries)


def test_repaired_records_are_never_released_again() -> None:
    repaired = record(ACME, "tax", TAX_FIELDS, record_id="tax-2", repaired=True)
    made = world([*RECORDS, repaired])
    try:
        made.chain.decisions[1] = decision()
        [future] = made.release_together([request(categories=TAX)])
        assert [r["record_id"] for r in future.result().data["records"]] == [RECORDS[1].record_id]
    finally:
        made.service.close()
