"""The institution's views: agreements named, the request form, a release's receipt checked."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import pytest

from ledger.alerts.rules import default_rules
from ledger.chain.agreements import Agreement, AgreementStatus, AgreementTerms, Commitment, CommitmentKind
from ledger.domain.catalogue import newest_catalogue
from ledger.domain.log_names import ACCESS_LEAF_TYPE
from ledger.logs.canonical_json import canonical_json
from ledger.logs.leaves import encode_leaf
from ledger.logs.verify import ProofVerificationError
from ledger.merkle.rfc9162 import hash_leaf
from ledger.portal.institution import (
    MalformedRelease,
    agreements_of,
    alert_views,
    check_release,
    commitments_of,
    request_form,
)
from ledger.portal.labels import chinese_field_name

CATALOGUE = newest_catalogue()
BANK = "0x" + "aa" * 20
OTHER = "0x" + "bb" * 20
NOW = 1_800_000_000


def _terms(categories: int, purposes: int, until: int) -> AgreementTerms:
    return AgreementTerms(categories, purposes, 3, NOW - 100, until, b"\x01" * 32, 1)


class FakeAgreements:
    def __init__(self) -> None:
        self.agreements = {
            1: Agreement(1, BANK, AgreementStatus.ACTIVE, _terms(0b101, 0b1, NOW + 1000)),
            2: Agreement(2, OTHER, AgreementStatus.ACTIVE, _terms(0b1, 0b1, NOW + 1000)),
            3: Agreement(3, BANK, AgreementStatus.ACTIVE, _terms(0b1, 0b10, NOW - 1)),  # expired
            4: Agreement(4, BANK, AgreementStatus.PROPOSED, _terms(0b1, 0b1, NOW + 1000)),
        }
        self.commitments = {
            1: Commitment(1, BANK, CommitmentKind.INSTITUTION_USAGE, False, b"\x02" * 32, bytes(32)),
            2: Commitment(2, OTHER, CommitmentKind.ENTERPRISE_TRUTHFULNESS, True, b"\x03" * 32, b"\x04" * 32),
        }

    def agreement_count(self) -> int:
        return len(self.agreements)

    def agreement(self, agreement_id: int) -> Agreement | None:
        return self.agreements.get(agreement_id)

    def commitment_count(self) -> int:
        return len(self.commitments)

    def commitment(self, commitment_id: int) -> Commitment | None:
        return self.commitments.get(commitment_id)


def test_agreements_are_the_institutions_own_newest_first_with_names_and_derived_status() -> None:
    views = agreements_of(
        FakeAgreements(), BANK.upper().replace("0X", "0x"), now=NOW, catalogue=CATALOGUE, locale="zh-CN"
    )
    assert [v.id for v in views] == [4, 3, 1]
    assert [v.status for v in views] == ["proposed", "expired", "active"]
    first = views[-1]
    assert [c.label for c in first.categories] == [
        CATALOGUE.categories[0].name_zh,
        CATALOGUE.categories[2].name_zh,
    ]
    assert [p.label for p in first.purposes] == [CATALOGUE.purposes[0].name_zh]
    english = agreements_of(FakeAgreements(), BANK, now=NOW, catalogue=CATALOGUE, locale="en")
    assert english[-1].purposes[0].label == CATALOGUE.purposes[0].name_en


def test_commitments_are_the_members_own() -> None:
    views = commitments_of(FakeAgreements(), BANK)
    assert [(c.id, c.kind, c.breached) for c in views] == [(1, "institution_usage", False)]


def test_the_request_form_offers_active_agreements_only_with_a_deadline_inside_the_maximum() -> None:
    agreements = agreements_of(FakeAgreements(), BANK, now=NOW, catalogue=CATALOGUE, locale="en")
    form = request_form(BANK, {"name": "credit-ledger DataRequest"}, agreements, max_lifetime=600)
    assert [a.id for a in form.agreements] == [1]
    assert form.lifetime_seconds == 300
    assert request_form(BANK, {}, agreements, max_lifetime=40).lifetime_seconds == 30


# -- a release's receipt ----------------------------------------------------------------------

NONCE = "0x" + "33" * 32
DATA = {
    "records": [{"category": CATALOGUE.categories[0].name, "fields": {"enterprise_name": "样例", "x": 1}}],
    "subject": "91350200776049653A",
}


class FakeTrail:
    def __init__(self, leaves: dict[int, bytes], bundle: Mapping[str, Any] | None = None) -> None:
        self.leaves = leaves
        self.bundle = bundle

    def leaf(self, index: int) -> bytes | None:
        return self.leaves.get(index)

    def anchored_proof(self, index: int) -> Mapping[str, Any] | None:
        return self.bundle


def _release(
    *, nonce: str = NONCE, institution: str = BANK, data: dict[str, Any] = DATA
) -> tuple[bytes, FakeTrail, bytes]:
    data_bytes = canonical_json(data)
    digest = "0x" + hashlib.sha256(data_bytes).hexdigest()
    payload = {
        "institution": institution,
        "subject": data["subject"],
        "block": 42,
        "response_hash": digest,
        "request": {"nonce": nonce},
    }
    leaf = encode_leaf(ACCESS_LEAF_TYPE, 7, payload)
    receipt = {
        "log": "access_trail",
        "index": 7,
        "leaf_hash": "0x" + hash_leaf(leaf).hex(),
        "block": 42,
        "response_hash": digest,
    }
    body = b'{"data":' + data_bytes + b',"receipt":' + json.dumps(receipt).encode() + b"}"
    return body, FakeTrail({7: leaf}), leaf


def _check(
    body: bytes, trail: FakeTrail, verify: Any = lambda bundle: None, nonce: str = NONCE
) -> dict[str, bool | None]:
    result = check_release(
        body,
        institution=BANK,
        nonce=nonce,
        trail=trail,
        verify_proof=verify,
        catalogue=CATALOGUE,
        locale="zh-CN",
        field_name=chinese_field_name,
    )
    return {c.step: c.passed for c in result.checks}


def test_an_honest_release_passes_and_waits_for_its_anchor() -> None:
    body, trail, _ = _release()
    result = check_release(
        body,
        institution=BANK,
        nonce=NONCE,
        trail=trail,
        verify_proof=lambda b: None,
        catalogue=CATALOGUE,
        locale="zh-CN",
        field_name=chinese_field_name,
    )
    assert {c.step: c.passed for c in result.checks} == {
        "response_hash": True,
        "entry": True,
        "leaf_hash": True,
        "anchored": None,
    }
    assert result.ok
    assert result.records[0]["label"] == CATALOGUE.categories[0].name_zh
    named = CATALOGUE.categories[0].field("enterprise_name").name_zh
    assert result.records[0]["fields"] == [(named, "样例"), ("x", 1)]  # an unknown field keeps its name


def test_an_anchored_release_is_checked_against_its_proof() -> None:
    body, trail, _ = _release()
    trail.bundle = {"anchor": {"block": 50}}
    assert _check(body, trail)["anchored"] is True

    def refuse(bundle: Mapping[str, Any]) -> None:
        raise ProofVerificationError("root: expected 0x01, got 0x02")

    assert _check(body, trail, refuse)["anchored"] is False


def test_data_changed_on_the_way_fails_the_response_hash() -> None:
    body, trail, _ = _release()
    tampered = body.replace(b'"x":1', b'"x":2')
    assert tampered != body
    checks = _check(tampered, trail)
    assert checks["response_hash"] is False
    assert checks["entry"] is True


def test_another_requests_entry_fails_the_entry_check() -> None:
    body, trail, _ = _release()
    checks = _check(body, trail, nonce="0x" + "44" * 32)
    assert checks["entry"] is False
    assert checks["anchored"] is False


def test_another_institutions_entry_fails_the_entry_check() -> None:
    body, trail, _ = _release(institution=OTHER)
    assert _check(body, trail)["entry"] is False


def test_a_leaf_hash_that_is_not_the_entrys_fails() -> None:
    body, trail, _ = _release()
    forged = body.replace(b'"leaf_hash": "0x', b'"leaf_hash": "0x00')
    assert _check(forged, trail)["leaf_hash"] is False


def test_a_missing_entry_fails_every_trail_check() -> None:
    body, _, _ = _release()
    assert _check(body, FakeTrail({})) == {
        "response_hash": True,
        "entry": False,
        "leaf_hash": False,
        "anchored": False,
    }


@pytest.mark.parametrize("body", [b"", b"{}", b'{"detail":"refused"}', b'{"data":{},"receipt":[1]}'])
def test_what_is_not_a_release_answer_is_refused(body: bytes) -> None:
    with pytest.raises(MalformedRelease):
        check_release(
            body, institution=BANK, nonce=NONCE, trail=FakeTrail({}), verify_proof=lambda b: None,
            catalogue=CATALOGUE, locale="en", field_name=chinese_field_name,
        )  # fmt: skip


class Item:
    def __init__(self, payload: dict[str, Any]) -> None:
        self.alert_id, self.state, self.attempts, self.payload = "a1", "delivered", 1, payload


def test_alerts_name_their_categories() -> None:
    category = CATALOGUE.categories[2]
    message = {
        "type": "risk.administrative_penalty",
        "timestamp": "2026-12-01T00:00:00Z",
        "data": {
            "subject": "91350200776049653A",
            "categories": [category.name, "unknown"],
            "severity": "high",
            "trail_index": 3,
        },
    }
    (view,) = alert_views([Item(message)], catalogue=CATALOGUE, rules=default_rules(), locale="en")
    assert view.event == "risk.administrative_penalty"
    assert view.event_text == default_rules().rule("administrative.penalty").text.en  # the rule's words
    (chinese,) = alert_views([Item(message)], catalogue=CATALOGUE, rules=default_rules(), locale="zh-CN")
    assert chinese.event_text == "新增或更正的行政处罚记录"
    unknown = {**message, "type": "risk.unheard_of"}
    (other,) = alert_views([Item(unknown)], catalogue=CATALOGUE, rules=default_rules(), locale="en")
    assert other.event_text == "risk.unheard_of"  # an event no rule names is shown as it is
    assert view.categories == [category.name_en, "unknown"]
    assert view.trail_index == 3
