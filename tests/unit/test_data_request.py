"""The data request's hand-computed EIP-712 digest agrees with eth_account's general one."""

from __future__ import annotations

import pytest
from eth_account import Account
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.chain.eip712 import Signed, recover_typed_data, sign
from ledger.errors import InvalidInput
from ledger.release.request import (
    DataRequestMessage,
    recover_data_request,
    request_domain,
    request_from_json,
    request_to_json,
    verify_data_request,
)
from ledger.request_auth import Unauthenticated

KEY = Account.create()
DOMAIN = request_domain(31337, "0x" + "22" * 20)


@settings(max_examples=60, deadline=None)
@given(
    subject=st.text(min_size=1, max_size=30),
    categories=st.integers(0, 2**256 - 1),
    purpose=st.integers(0, 2**256 - 1),
    agreement=st.integers(0, 2**256 - 1),
    raw=st.booleans(),
    nonce=st.binary(min_size=32, max_size=32),
    deadline=st.integers(0, 2**256 - 1),
    chain_id=st.integers(1, 2**64),
)
def test_digest_matches_eth_account(
    subject: str,
    categories: int,
    purpose: int,
    agreement: int,
    raw: bool,
    nonce: bytes,
    deadline: int,
    chain_id: int,
) -> None:
    domain = request_domain(chain_id, "0x" + "33" * 20)
    message = DataRequestMessage(KEY.address, subject, categories, purpose, agreement, raw, nonce, deadline)
    signed = sign(KEY, domain, message)
    general = recover_typed_data(
        domain, message.types(), message.PRIMARY_TYPE, message.message(), signed.signature
    )
    assert general == KEY.address
    from ledger.release.request import domain_separator

    assert recover_data_request(signed, domain_separator(domain)) == KEY.address


def _signed(**changes: object) -> Signed[DataRequestMessage]:
    message = DataRequestMessage(KEY.address, "91350200776049653A", 64, 1, 1, False, bytes(32), 10**10)
    signed = sign(KEY, DOMAIN, message)
    return request_from_json({**request_to_json(signed), **changes})


def test_a_changed_field_breaks_the_signature() -> None:
    verify_data_request(_signed(), DOMAIN, now=0)
    for change in (
        {"categories": "65"},
        {"raw": True},
        {"subject": "91110000600037341L"},
        {"agreement_id": 2},
    ):
        with pytest.raises(Unauthenticated, match="not by the institution"):
            verify_data_request(_signed(**change), DOMAIN, now=0)


def test_another_deployment_refuses_the_request() -> None:
    with pytest.raises(Unauthenticated):
        verify_data_request(_signed(), request_domain(31337, "0x" + "44" * 20), now=0)


def test_passed_deadline() -> None:
    with pytest.raises(Unauthenticated, match="deadline"):
        verify_data_request(_signed(), DOMAIN, now=10**10 + 1)


def test_a_malleable_high_s_signature_is_refused() -> None:
    signed = _signed()
    order = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    s = int.from_bytes(signed.signature[32:64], "big")
    v = signed.signature[64]
    flipped = signed.signature[:32] + (order - s).to_bytes(32, "big") + bytes([55 - v])  # same signer, high s
    with pytest.raises(Unauthenticated):
        verify_data_request(Signed(signed.message, flipped), DOMAIN, now=0)


@pytest.mark.parametrize("field", ["categories", "purpose", "agreement_id", "deadline"])
def test_a_number_beyond_uint256_is_named(field: str) -> None:
    with pytest.raises(InvalidInput, match=f"request.{field} must fit a uint256"):
        _signed(**{field: str(2**256) if field in ("categories", "purpose") else 2**256})
