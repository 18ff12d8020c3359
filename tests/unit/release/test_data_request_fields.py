"""The data request's own rules: how one is signed, parsed and checked, and how each
refusal names the problem (the message a 4xx carries), at the edges of every range."""

from __future__ import annotations

import time
from typing import Any

import pytest
from eth_account import Account

from ledger.chain.eip712 import Signed, sign
from ledger.errors import InvalidInput
from ledger.records.samples import sample_uscc
from ledger.release.request import (
    DEFAULT_VALIDITY_SECONDS,
    MAX_AGREEMENT_ID,
    SECP256K1_HALF_ORDER,
    DataRequestMessage,
    check_request_fields,
    release_nonce,
    request_domain,
    request_from_json,
    request_to_json,
    sign_data_request,
    verify_data_request,
)
from ledger.request_auth import Unauthenticated

KEY = Account.from_key(b"\x21" * 32)
DOMAIN = request_domain(31337, "0x" + "22" * 20)
ACME = sample_uscc(0)
NOW = 1_800_000_000
LIFETIME = 3600
MALLEABLE = "data request signature refused: malleable signature: s is in the upper half of the curve order"


def message(**changes: Any) -> DataRequestMessage:
    fields: dict[str, Any] = {
        "institution": KEY.address,
        "subject": ACME,
        "categories": 64,
        "purpose": 1,
        "agreement_id": 1,
        "raw": False,
        "nonce": bytes(range(32)),
        "deadline": NOW + 60,
    }
    return DataRequestMessage(**{**fields, **changes})


def wire(**changes: Any) -> dict[str, Any]:
    """The wire form of a validly signed request, with `changes` applied."""
    return {**request_to_json(sign(KEY, DOMAIN, message())), **changes}


def test_sign_data_request_signs_exactly_the_terms_with_a_fresh_nonce_and_a_near_deadline() -> None:
    before = int(time.time())
    signed = sign_data_request(KEY, DOMAIN, subject=ACME, categories=64, purpose=2, agreement_id=5)
    again = sign_data_request(KEY, DOMAIN, subject=ACME, categories=64, purpose=2, agreement_id=5, raw=True)
    m = signed.message
    assert (m.institution, m.subject, m.categories, m.purpose, m.agreement_id, m.raw) == (
        KEY.address,
        ACME,
        64,
        2,
        5,
        False,
    )
    assert again.message.raw is True
    assert len(m.nonce) == 32 and m.nonce != again.message.nonce
    assert before + DEFAULT_VALIDITY_SECONDS <= m.deadline <= int(time.time()) + DEFAULT_VALIDITY_SECONDS
    verify_data_request(signed, DOMAIN, now=time.time())  # signed by the institution for this domain
    verify_data_request(again, DOMAIN, now=time.time())


def test_the_wire_form_parses_back_to_the_signed_request() -> None:
    signed = sign(KEY, DOMAIN, message(categories=0, purpose=0, agreement_id=0, deadline=0))
    assert request_from_json(request_to_json(signed)) == signed  # zero fits a uint256


@pytest.mark.parametrize("field", ["categories", "purpose", "agreement_id", "deadline"])
def test_a_negative_number_is_named(field: str) -> None:
    with pytest.raises(InvalidInput) as refusal:
        request_from_json(wire(**{field: -1}))
    assert refusal.value.message == f"request.{field} must fit a uint256"


def test_a_missing_field_is_named() -> None:
    data = wire()
    del data["nonce"]
    with pytest.raises(InvalidInput) as refusal:
        request_from_json(data)
    assert refusal.value.message == "request: missing field nonce"


def test_a_malformed_field_is_refused_with_the_reason() -> None:
    with pytest.raises(InvalidInput) as refusal:
        request_from_json(wire(categories="many"))
    assert refusal.value.message == "request: malformed field: invalid literal for int() with base 10: 'many'"


def test_nonce_and_signature_of_the_wrong_length_are_named() -> None:
    with pytest.raises(InvalidInput) as refusal:
        request_from_json(wire(nonce="0x" + "00" * 31))
    assert refusal.value.message == "request.nonce must be 32 bytes, got 31"
    with pytest.raises(InvalidInput) as refusal:
        request_from_json(wire(signature="0x" + "00" * 64))
    assert refusal.value.message == "request.signature must be 65 bytes, got 64"


def test_a_signature_of_the_wrong_form_is_refused_naming_why() -> None:
    signed = sign(KEY, DOMAIN, message())
    bad_v = Signed(signed.message, signed.signature[:64] + bytes([29]))
    with pytest.raises(Unauthenticated) as refusal:
        verify_data_request(bad_v, DOMAIN, now=NOW)
    assert refusal.value.message == "data request signature refused: signature v is 29, not 27 or 28"


def test_a_request_that_cannot_be_encoded_is_refused_as_unauthenticated() -> None:
    signed = sign(KEY, DOMAIN, message())
    out_of_range = Signed(message(categories=-1), signed.signature)  # never parsed from the wire
    with pytest.raises(Unauthenticated) as refusal:
        verify_data_request(out_of_range, DOMAIN, now=NOW)
    assert refusal.value.message == "data request signature cannot be recovered"


def test_a_request_is_good_up_to_and_including_its_deadline() -> None:
    signed = sign(KEY, DOMAIN, message(deadline=NOW))
    verify_data_request(signed, DOMAIN, now=NOW)
    with pytest.raises(Unauthenticated, match="deadline"):
        verify_data_request(signed, DOMAIN, now=NOW + 0.5)


def test_a_subject_not_a_uscc_is_named() -> None:
    with pytest.raises(InvalidInput) as refusal:
        check_request_fields(message(subject="abc"), now=NOW, max_lifetime=LIFETIME)
    assert refusal.value.message.startswith("request.subject: ")


def test_a_subject_in_another_spelling_is_refused_naming_the_canonical_one() -> None:
    with pytest.raises(InvalidInput) as refusal:
        check_request_fields(message(subject=ACME.lower()), now=NOW, max_lifetime=LIFETIME)
    assert refusal.value.message == (
        f"request.subject must be the canonical 统一社会信用代码 {ACME!r} "
        "(18 upper-case ASCII characters, nothing around them)"
    )


def test_a_deadline_may_lie_exactly_the_lifetime_ahead_and_no_further() -> None:
    check_request_fields(message(deadline=NOW + LIFETIME), now=NOW, max_lifetime=LIFETIME)
    with pytest.raises(InvalidInput) as refusal:
        check_request_fields(message(deadline=NOW + LIFETIME + 1), now=NOW + 0.5, max_lifetime=LIFETIME)
    assert (
        refusal.value.message
        == f"request.deadline {NOW + LIFETIME + 1} lies more than {LIFETIME} s ahead (now {NOW})"
    )


def test_the_largest_agreement_id_is_accepted_and_one_more_named() -> None:
    check_request_fields(message(agreement_id=MAX_AGREEMENT_ID), now=NOW, max_lifetime=LIFETIME)
    with pytest.raises(InvalidInput) as refusal:
        check_request_fields(message(agreement_id=MAX_AGREEMENT_ID + 1), now=NOW, max_lifetime=LIFETIME)
    assert refusal.value.message == (
        f"request.agreement_id {MAX_AGREEMENT_ID + 1} names no agreement (at most 2**48 - 1)"
    )


def test_a_signature_of_the_wrong_length_is_refused_naming_its_length() -> None:
    signed = sign(KEY, DOMAIN, message())
    with pytest.raises(Unauthenticated) as refusal:
        verify_data_request(Signed(signed.message, signed.signature[:64]), DOMAIN, now=NOW)
    assert refusal.value.message == "data request signature refused: signature has 64 bytes, not 65"


def test_only_an_s_above_half_the_curve_order_is_refused_as_malleable() -> None:
    signed = sign(KEY, DOMAIN, message())
    r, v = signed.signature[:32], signed.signature[64:]
    for s, malleable in ((SECP256K1_HALF_ORDER, False), (SECP256K1_HALF_ORDER + 1, True)):
        forged = Signed(signed.message, r + s.to_bytes(32, "big") + v)
        with pytest.raises(Unauthenticated) as refusal:  # not the institution's signature either way
            verify_data_request(forged, DOMAIN, now=NOW)
        said = refusal.value.message
        assert (said == MALLEABLE) is malleable
        assert said.startswith("data request is signed by ") is not malleable


def test_a_release_nonce_is_kept_as_data_and_its_hex() -> None:
    """The request-nonce table keeps a signed release request's nonce as "data:0x" and its
    32 bytes in lower-case hex, the key a data request and an evaluation request share (a nonce
    an institution spent on one refuses the other)."""
    nonce = bytes(range(0xE0, 0x100))
    assert release_nonce(nonce) == "data:0x" + "".join(f"{b:02x}" for b in range(0xE0, 0x100))
    assert release_nonce(b"\x00" * 32) == "data:0x" + "00" * 32
