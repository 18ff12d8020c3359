"""How the release service refuses: malformed requests named in a 4xx message, a defect or a
dependency that misbehaves refusing what it touches and nothing more, never an unanswered
caller, every refusal audited; and what a granted release carries in its query and receipt."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from importlib import resources

import pytest

from ledger.chain.consents import Reason
from ledger.chain.membership import uscc_hash
from ledger.domain.catalogue import DEFAULT_CATALOGUE, Catalogue
from ledger.domain.log_names import ACCESS_TRAIL_LOG
from ledger.errors import InvalidInput, Unavailable
from ledger.records.samples import sample_uscc
from ledger.release.service import ReleaseRefused, response_hash
from ledger.release.trail import ReplayedDataRequest
from tests.unit.release.fakes import (
    NOW,
    OTHER_INSTITUTION,
    World,
    decision,
    leaf_hash,
    record,
    refused,
    request,
    world,
)

ACME = sample_uscc(0)
BETA = sample_uscc(1)
REGISTRATION, TAX = 1 << 0, 1 << 6
TAX_FIELDS = {"tax_year": 2025, "credit_grade": "A", "payment_account": "6222021234567890123"}
#: a stored record the service cannot render (no event date): a defect, met only in building
BROKEN = record(BETA, "tax", TAX_FIELDS, record_id="tax-broken", event_date=None)  # type: ignore[arg-type]


@pytest.fixture
def w() -> Iterator[World]:
    made = world([record(ACME, "tax", TAX_FIELDS), BROKEN])
    made.chain.decisions[1] = decision()
    yield made
    made.service.close()


def audited_for(w: World, institution: str) -> list[str]:
    """The details of the refusals audited for `institution`."""
    return [a.detail for a in w.db.audited if a.actor == institution]


@pytest.mark.parametrize("purpose", [0, 0b11, 1 << 40])
def test_a_purpose_that_is_not_one_known_bit_is_refused_as_invalid_input(w: World, purpose: int) -> None:
    asked = request(categories=TAX, purpose=purpose)
    [future] = w.release_together([asked])
    with pytest.raises(InvalidInput) as refusal:
        future.result()
    assert refusal.value.message == "request.purpose: exactly one purpose of the catalogue, as a one-bit mask"
    assert all(q.requester != asked.message.institution for q in w.chain.queries)
    [detail] = audited_for(w, asked.message.institution)
    assert detail.startswith("invalid_input: request.purpose: ")


def test_a_request_naming_no_category_is_refused_as_invalid_input(w: World) -> None:
    [future] = w.release_together([request(categories=0)])
    with pytest.raises(InvalidInput) as refusal:
        future.result()
    assert refusal.value.message == "request.categories: name at least one category"


def test_a_request_naming_an_unknown_category_is_refused_as_invalid_input(w: World) -> None:
    [future] = w.release_together([request(categories=TAX | 1 << 60)])
    with pytest.raises(InvalidInput) as refusal:
        future.result()
    assert refusal.value.message == f"request.categories: mask {TAX | 1 << 60:#x} sets bits no category uses"


def test_the_chain_is_asked_for_exactly_the_request_at_its_detail_level(w: World) -> None:
    asked = request(categories=REGISTRATION | TAX, purpose=2, raw=True)
    [future] = w.release_together([asked])
    future.result()
    [query] = [q for q in w.chain.queries if q.requester == asked.message.institution]
    level = w.service.catalogue.max_level(["registration", "tax"], raw=True)
    assert level > w.service.catalogue.max_level(["registration", "tax"], raw=False)
    assert (query.uscc_hash, query.categories, query.purpose, query.agreement_id) == (
        uscc_hash(ACME),
        REGISTRATION | TAX,
        2,
        1,
    )
    assert (query.level, query.at) == (level, NOW)
    entry = w.trail.entry_of(asked)
    assert entry is not None and entry.payload["level"] == level


def test_the_receipt_names_the_access_trail_entry_and_the_hash_of_the_bytes_sent(w: World) -> None:
    first, second = request(categories=TAX), request(categories=TAX)
    releases = [f.result() for f in w.release_together([first, second])]
    for seq, release in enumerate(releases):
        assert release.receipt.log == ACCESS_TRAIL_LOG
        assert (release.receipt.index, release.receipt.leaf_hash) == (seq, leaf_hash(seq))
        assert release.receipt.response_hash == response_hash(release.data)
        assert release.receipt.response_hash == hashlib.sha256(release.data_json).digest()


def test_the_records_are_read_in_the_access_trails_transaction(w: World) -> None:
    [future] = w.release_together([request(categories=TAX)])
    future.result()
    assert w.reader.sessions and w.reader.sessions == w.trail.sessions


def test_a_defect_while_building_one_release_refuses_it_alone(w: World) -> None:
    broken = request(subject=BETA, categories=TAX)
    fine = request(institution=OTHER_INSTITUTION, categories=TAX)
    f_broken, f_fine = w.release_together([broken, fine])
    with pytest.raises(Unavailable) as refusal:
        f_broken.result()
    assert refusal.value.message.startswith("release failed: AttributeError(")
    assert w.trail.entry_of(broken) is None
    assert f_fine.result().data["subject"] == ACME
    [detail] = audited_for(w, broken.message.institution)
    assert detail.startswith("unavailable: release failed: AttributeError(")


def test_a_defect_in_the_chain_call_refuses_the_batch_as_unavailable(w: World) -> None:
    w.chain.fail = RuntimeError("boom")
    asked = [request(categories=TAX), request(institution=OTHER_INSTITUTION, categories=TAX)]
    for future in w.release_together(asked):
        with pytest.raises(Unavailable) as refusal:
            future.result()
        assert refusal.value.message == "release failed: RuntimeError('boom')"
    assert not any(c.entries or c.spent for c in w.trail.committed)
    assert len(audited_for(w, OTHER_INSTITUTION.address)) == 1


def test_a_failed_commit_keeps_each_replay_refused_as_a_replay_and_audits_each_refusal_once(w: World) -> None:
    first = request(categories=TAX)
    [done] = w.release_together([first])
    done.result()
    w.trail.commit_fails = RuntimeError("disk full")
    again, other = request(categories=TAX, nonce=first.message.nonce), request(categories=TAX)
    f_again, f_other = w.release_together([again, other])
    with pytest.raises(ReplayedDataRequest):
        f_again.result()
    with pytest.raises(Unavailable, match="access trail append failed"):
        f_other.result()
    assert len(audited_for(w, first.message.institution)) == 2


@pytest.mark.parametrize("short", ["nonces", "entries"])
def test_a_store_answering_one_short_leaves_no_caller_unanswered_and_nothing_released(
    w: World, short: str
) -> None:
    w.trail.one_short.add(short)
    first, last = w.release_together([request(categories=TAX), request(categories=TAX)])
    with pytest.raises(Unavailable):  # no nonce answer, or no entry: never released
        last.result()
    if short == "nonces":  # refused before anything was built
        with pytest.raises(Unavailable):
            first.result()


def test_refusals_are_answered_with_their_reason_when_the_audit_database_is_down(w: World) -> None:
    w.chain.decisions[2] = refused(Reason.NO_COVERING_GRANT)
    w.db.fail = Unavailable("database down")
    [future] = w.release_together([request(categories=TAX, agreement_id=2)])
    with pytest.raises(ReleaseRefused) as refusal:
        future.result()
    assert refusal.value.reason is Reason.NO_COVERING_GRANT


def test_a_defect_in_auditing_refusals_still_answers_every_refused_caller_as_unavailable(w: World) -> None:
    w.chain.decisions[2] = refused(Reason.NO_COVERING_GRANT)
    w.db.fail = RuntimeError("defect")
    refused_one, granted = request(categories=TAX, agreement_id=2), request(categories=TAX)
    f_refused, f_granted = w.release_together([refused_one, granted])
    with pytest.raises(Unavailable) as refusal:
        f_refused.result()
    assert refusal.value.message == "release failed, nothing released: RuntimeError('defect')"
    assert f_granted.result().data["subject"] == ACME  # answered before the audit, after its commit


def test_records_are_masked_by_the_services_own_catalogue() -> None:
    """A catalogue that never releases the tax payment account: the service masks by it."""
    data = json.loads(resources.files("ledger").joinpath("catalogue", DEFAULT_CATALOGUE).read_text("utf-8"))
    [tax] = [c for c in data["categories"] if c["name"] == "tax"]
    [account] = [f for f in tax["fields"] if f["name"] == "payment_account"]
    account["masking"] = "never"
    made = world([record(ACME, "tax", TAX_FIELDS)], catalogue=Catalogue.model_validate(data))
    made.chain.decisions[1] = decision()
    try:
        [future] = made.release_together([request(categories=TAX)])
        [released] = future.result().data["records"]
        assert released["fields"] == {"tax_year": 2025, "credit_grade": "A"}
    finally:
        made.service.close()
