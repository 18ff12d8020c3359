"""The verifier's own EIP-712 digest of a data request, and signer recovery."""

from __future__ import annotations

import os

import pytest
from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.audit.examine import Examination
from ledger.audit.leaves import SignedRequest
from ledger.audit.request_sig import (
    DATA_REQUEST_TYPE,
    RequestDomain,
    SignatureProblem,
    recover_signer,
    request_digest,
)
from ledger.chain.eip712 import Signed, sign_typed_data
from ledger.logs.leaves import encode_leaf
from ledger.release.request import DataRequestMessage, request_domain, request_to_json
from tests.unit.audit.test_leaves import PAYLOAD

CONSENTS = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
ACCOUNT = Account.from_key(b"\x01" * 32)
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

uint256 = st.integers(min_value=0, max_value=2**256 - 1)
requests = st.builds(
    DataRequestMessage,
    institution=st.just(ACCOUNT.address),
    subject=st.text(min_size=1, max_size=30),
    categories=uint256,
    purpose=uint256,
    agreement_id=uint256,
    raw=st.booleans(),
    nonce=st.binary(min_size=32, max_size=32),
    deadline=uint256,
)


def _mine(m: DataRequestMessage, signature: bytes = b"") -> SignedRequest:
    return SignedRequest(
        m.institution,
        m.subject,
        m.categories,
        m.purpose,
        m.agreement_id,
        m.raw,
        m.nonce,
        m.deadline,
        signature,
    )


def test_the_type_string_is_the_writing_sides() -> None:
    assert DataRequestMessage.type_string() == DATA_REQUEST_TYPE


@settings(max_examples=60, deadline=None)
@given(message=requests, chain_id=st.integers(min_value=1, max_value=2**64))
def test_digest_equals_eth_accounts_typed_data_hash(message: DataRequestMessage, chain_id: int) -> None:
    domain = request_domain(chain_id, CONSENTS)
    full = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            **message.types(),
        },
        "domain": domain,
        "primaryType": "DataRequest",
        "message": message.message(),
    }
    expected = _hash_eip191_message(encode_typed_data(full_message=full))
    assert request_digest(RequestDomain(chain_id, CONSENTS).separator, _mine(message)) == expected


def _signed(message: DataRequestMessage) -> tuple[bytes, bytes]:
    domain = request_domain(31337, CONSENTS)
    signature = sign_typed_data(ACCOUNT.key, domain, message.types(), "DataRequest", message.message())
    return request_digest(RequestDomain(31337, CONSENTS).separator, _mine(message)), signature


MESSAGE = DataRequestMessage(ACCOUNT.address, "91350200776049653A", 64, 1, 1, False, b"\x05" * 32, 10**10)


def test_recovers_the_signer() -> None:
    digest, signature = _signed(MESSAGE)
    assert recover_signer(digest, signature) == bytes.fromhex(ACCOUNT.address[2:])


@pytest.mark.parametrize(
    "mangle, why",
    [
        (lambda s: s[:64], "65"),
        (lambda s: s[:64] + bytes((s[64] - 27,)), "not 27 or 28"),
        (
            lambda s: (
                s[:32] + (N - int.from_bytes(s[32:64], "big")).to_bytes(32, "big") + bytes((55 - s[64],))
            ),
            "high s",
        ),
        (lambda s: bytes(32) + s[32:], "out of range"),
    ],
)
def test_refuses_malformed_and_malleable_signatures(mangle, why) -> None:  # type: ignore[no-untyped-def]
    digest, signature = _signed(MESSAGE)
    with pytest.raises(SignatureProblem, match=why):
        recover_signer(digest, mangle(signature))


def test_the_twin_signature_really_is_the_same_signers() -> None:
    """Why high s is refused: without the rule the altered signature would pass."""
    digest, signature = _signed(MESSAGE)
    twin = (
        signature[:32]
        + (N - int.from_bytes(signature[32:64], "big")).to_bytes(32, "big")
        + bytes((55 - signature[64],))
    )
    assert Account._recover_hash(digest, signature=twin) == ACCOUNT.address


def test_parallel_examination_equals_inline() -> None:
    separator = RequestDomain(31337, CONSENTS).separator
    items = []
    for i in range(4_500):
        m = DataRequestMessage(ACCOUNT.address, "X", i, 1, 1, False, os.urandom(32), 10**10)
        digest = request_digest(separator, _mine(m))
        signature = bytes(Account._sign_hash(digest, ACCOUNT.key).signature) if i % 500 else b"\x00" * 65
        payload = {**PAYLOAD, "request": {**PAYLOAD["request"], **request_to_json(Signed(m, signature))}}
        items.append((i, encode_leaf("access", i, payload)))
    items.append((4_500, b"not json"))
    inline = Examination(items, separator, workers=1).results()
    parallel = Examination(items, separator, workers=2).results()
    assert inline == parallel
    assert sum(isinstance(x.signer, str) for x in inline) == 9
    assert sum(x.signer == bytes.fromhex(ACCOUNT.address[2:]) for x in inline) == 4_491
    assert inline[-1].leaf_problem == "leaf is not UTF-8 JSON"
