"""API request signatures: one accepted form (v 27 or 28, low s), refused otherwise by name."""

from __future__ import annotations

import pytest
from eth_account import Account

from ledger.request_auth import (
    HEADER_SIGNATURE,
    SECP256K1_N,
    SignatureForm,
    Unauthenticated,
    api_domain,
    check_signature_form,
    sign_request,
    verify_request,
)

DOMAIN = api_domain(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
ACCOUNT = Account.from_key("0x" + "42" * 32)


def _signed(path: str = "/audit/header", body: bytes = b"") -> dict[str, str]:
    return sign_request(ACCOUNT.key, DOMAIN, "GET", path, body, timestamp=1_000)


def _verify(headers: dict[str, str], path: str = "/audit/header") -> str:
    return verify_request(headers, DOMAIN, "GET", path, b"", now=1_000, max_age_seconds=60).signer


def _with_signature(headers: dict[str, str], signature: bytes) -> dict[str, str]:
    return {**headers, HEADER_SIGNATURE: "0x" + signature.hex()}


def test_the_signed_form_is_accepted() -> None:
    headers = _signed()
    signature = bytes.fromhex(headers[HEADER_SIGNATURE][2:])
    assert signature[64] in (27, 28)
    assert int.from_bytes(signature[32:64], "big") <= SECP256K1_N // 2
    assert _verify(headers) == ACCOUNT.address


def test_the_high_s_twin_is_refused_by_name() -> None:
    headers = _signed()
    signature = bytes.fromhex(headers[HEADER_SIGNATURE][2:])
    s = int.from_bytes(signature[32:64], "big")
    twin = signature[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - signature[64]])
    with pytest.raises(SignatureForm, match="high"):
        _verify(_with_signature(headers, twin))


@pytest.mark.parametrize("v", [0, 1])
def test_v_0_or_1_is_refused_by_name(v: int) -> None:
    headers = _signed()
    signature = bytes.fromhex(headers[HEADER_SIGNATURE][2:])
    with pytest.raises(SignatureForm, match=f"v is {v}: only 27 or 28"):
        _verify(_with_signature(headers, signature[:64] + bytes([v])))


def test_other_v_is_refused() -> None:
    headers = _signed()
    signature = bytes.fromhex(headers[HEADER_SIGNATURE][2:])
    with pytest.raises(SignatureForm, match="v is 29"):
        _verify(_with_signature(headers, signature[:64] + bytes([29])))


def test_the_signature_covers_the_path_as_sent() -> None:
    headers = _signed("/members/0x%41b")
    assert _verify(headers, "/members/0x%41b") == ACCOUNT.address
    with pytest.raises(Unauthenticated):
        _verify(headers, "/members/0xAb")  # the decoded form is another path


R = (1).to_bytes(32, "big")


def _form(s: int, v: int = 27) -> bytes:
    return R + s.to_bytes(32, "big") + bytes([v])


@pytest.mark.parametrize(
    ("v", "message"),
    [
        (0, "signature v is 0: only 27 or 28 is accepted (add 27)"),
        (1, "signature v is 1: only 27 or 28 is accepted (add 27)"),
        (2, "signature v is 2: only 27 or 28 is accepted"),
        (26, "signature v is 26: only 27 or 28 is accepted"),
        (29, "signature v is 29: only 27 or 28 is accepted"),
    ],
)
def test_each_refused_v_is_named_with_the_fix_where_there_is_one(v: int, message: str) -> None:
    with pytest.raises(SignatureForm) as refused:
        check_signature_form(_form(1, v))
    assert refused.value.message == message


def test_s_up_to_half_the_order_is_the_low_form_and_one_more_is_refused() -> None:
    for v in (27, 28):
        check_signature_form(_form(SECP256K1_N // 2, v))
        check_signature_form(_form(1, v))
    for s in (SECP256K1_N // 2 + 1, SECP256K1_N - 1):
        with pytest.raises(SignatureForm) as refused:
            check_signature_form(_form(s))
        assert refused.value.message == "signature s is high (above n/2): only the low-s form is accepted"
