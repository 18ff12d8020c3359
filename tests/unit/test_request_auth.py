"""Signed API requests: signature, signer and freshness, checked without a server."""

from __future__ import annotations

import time

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from ledger.errors import InvalidInput
from ledger.request_auth import (
    API_REQUEST_TYPES,
    HEADER_NONCE,
    HEADER_SIGNATURE,
    HEADER_SIGNER,
    HEADER_TIMESTAMP,
    Unauthenticated,
    api_domain,
    sign_request,
    verify_request,
)

KEY = b"\x21" * 32
SIGNER = Account.from_key(KEY).address
DOMAIN = api_domain(31337, "0x" + "4d" * 20)
NOW = 1_800_000_000
MAX_AGE = 60
BODY = b'{"x":1}'


def signed_at(timestamp: int, body: bytes = BODY) -> dict[str, str]:
    return sign_request(KEY, DOMAIN, "POST", "/v1/records?x=1", body, timestamp=timestamp)


def verify(headers: dict[str, str], *, body: bytes = BODY, path: str = "/v1/records?x=1") -> str:
    return verify_request(headers, DOMAIN, "post", path, body, now=NOW, max_age_seconds=MAX_AGE).signer


@pytest.mark.parametrize("skew", [-MAX_AGE, 0, MAX_AGE])
def test_a_request_within_the_window_either_side_of_server_time_is_accepted(skew: int) -> None:
    assert verify(signed_at(NOW + skew)) == SIGNER


@pytest.mark.parametrize("skew", [-MAX_AGE - 1, MAX_AGE + 1, 10**6])
def test_a_request_timestamped_outside_the_window_is_stale_in_the_past_and_in_the_future(skew: int) -> None:
    """A timestamp in the future would otherwise let a captured request be kept and used later."""
    with pytest.raises(Unauthenticated, match="stale request"):
        verify(signed_at(NOW + skew))


def test_an_altered_body_path_or_claimed_signer_is_refused() -> None:
    headers = signed_at(NOW)
    with pytest.raises(Unauthenticated, match="not by the claimed signer"):
        verify(headers, body=b'{"x":2}')
    with pytest.raises(Unauthenticated, match="not by the claimed signer"):
        verify(headers, path="/v1/records?x=2")
    other = Account.from_key(b"\x22" * 32).address
    with pytest.raises(Unauthenticated, match="not by the claimed signer"):
        verify({**headers, HEADER_SIGNER: other})


def test_missing_or_malformed_headers_are_named() -> None:
    headers = signed_at(NOW)
    with pytest.raises(Unauthenticated, match=f"missing header\\(s\\) {HEADER_NONCE}"):
        verify({k: v for k, v in headers.items() if k != HEADER_NONCE})
    with pytest.raises(InvalidInput, match=HEADER_TIMESTAMP):
        verify({**headers, HEADER_TIMESTAMP: "soon"})
    with pytest.raises(InvalidInput, match=f"{HEADER_SIGNATURE} must be 65 bytes"):
        verify({**headers, HEADER_SIGNATURE: "0x00"})
    with pytest.raises(InvalidInput, match=f"{HEADER_NONCE} is not hex"):
        verify({**headers, HEADER_NONCE: "zz"})
    with pytest.raises(InvalidInput, match=f"{HEADER_SIGNER} is not an address"):
        verify({**headers, HEADER_SIGNER: "nobody"})


def test_the_domain_is_the_one_clients_sign_against() -> None:
    assert api_domain(5, "0x" + "4d" * 20) == {
        "name": "credit-ledger API",
        "version": "1",
        "chainId": 5,
        "verifyingContract": "0x4D4d4D4d4d4D4D4d4D4D4D4d4d4d4d4D4D4d4d4D",  # checksummed (EIP-55)
    }


def test_the_signature_is_over_the_typed_request_as_an_independent_signer_would_encode_it() -> None:
    nonce = bytes(range(32))
    headers = sign_request(KEY, DOMAIN, "post", "/v1/records?x=1", BODY, timestamp=NOW, nonce=nonce)
    typed = encode_typed_data(
        full_message={
            "types": {
                "EIP712Domain": [
                    {"name": "name", "type": "string"},
                    {"name": "version", "type": "string"},
                    {"name": "chainId", "type": "uint256"},
                    {"name": "verifyingContract", "type": "address"},
                ],
                **API_REQUEST_TYPES,
            },
            "primaryType": "ApiRequest",
            "domain": DOMAIN,
            "message": {
                "method": "POST",
                "path": "/v1/records?x=1",
                "bodyHash": keccak(BODY),
                "timestamp": NOW,
                "nonce": nonce,
            },
        }
    )
    signature = bytes.fromhex(headers[HEADER_SIGNATURE].removeprefix("0x"))
    assert Account.recover_message(typed, signature=signature) == SIGNER
    assert headers[HEADER_SIGNER] == SIGNER
    assert (headers[HEADER_TIMESTAMP], headers[HEADER_NONCE]) == (str(NOW), "0x" + nonce.hex())
    verified = verify_request(
        headers, DOMAIN, "POST", "/v1/records?x=1", BODY, now=NOW, max_age_seconds=MAX_AGE
    )
    assert (verified.signer, verified.nonce, verified.timestamp) == (SIGNER, "0x" + nonce.hex(), NOW)


def test_unless_given_the_timestamp_is_now_and_the_nonce_fresh() -> None:
    before = int(time.time())
    first, second = (sign_request(KEY, DOMAIN, "GET", "/v1/x", b"") for _ in range(2))
    assert before <= int(first[HEADER_TIMESTAMP]) <= int(time.time())
    assert len(bytes.fromhex(first[HEADER_NONCE][2:])) == 32 and first[HEADER_NONCE] != second[HEADER_NONCE]
    verify_request(first, DOMAIN, "GET", "/v1/x", b"", now=time.time(), max_age_seconds=MAX_AGE)


def test_every_missing_header_is_named_and_an_unrecoverable_signature_is_refused() -> None:
    headers = signed_at(NOW)
    with pytest.raises(Unauthenticated) as missing:
        verify({HEADER_SIGNER: headers[HEADER_SIGNER], HEADER_TIMESTAMP: headers[HEADER_TIMESTAMP]})
    assert missing.value.message == f"unsigned request: missing header(s) {HEADER_NONCE}, {HEADER_SIGNATURE}"
    with pytest.raises(Unauthenticated) as garbled:
        verify({**headers, HEADER_SIGNATURE: "0x" + "00" * 32 + "00" * 31 + "01" + "1b"})  # r = 0
    assert garbled.value.message == "signature cannot be recovered"
