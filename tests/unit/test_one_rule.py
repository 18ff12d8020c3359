"""One canonical form, one rule, both sides (issue 14, item 5).

The release path and the auditor are run over the same table of data requests: every
request the release path accepts, the auditor finds signed by its institution with a
canonical subject, and every request it refuses, the auditor would flag. A request that
one side accepted and the other flagged is either a leak the audit cannot see or a
legitimate release reported as a finding.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

import pytest
from eth_account import Account

from ledger.audit.examine import examine
from ledger.audit.request_sig import RequestDomain
from ledger.audit.subject import subject_problem
from ledger.chain.eip712 import Signed, sign
from ledger.errors import LedgerError
from ledger.logs.leaves import encode_leaf
from ledger.records.samples import sample_uscc
from ledger.release.request import (
    DEFAULT_MAX_LIFETIME_SECONDS,
    SECP256K1_HALF_ORDER,
    DataRequestMessage,
    check_request_fields,
    request_domain,
    request_to_json,
    verify_data_request,
)

INSTITUTION = Account.from_key("0x" + "11" * 32)  # a throwaway key of this test
CONSENTS = "0x" + "ab" * 20
DOMAIN = request_domain(31337, CONSENTS)
SUBJECT = sample_uscc(0)
N = 2 * SECP256K1_HALF_ORDER + 1  # the secp256k1 group order
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _signed(subject: str = SUBJECT) -> Signed[DataRequestMessage]:
    message = DataRequestMessage(
        INSTITUTION.address, subject, 4, 1, 1, False, secrets.token_bytes(32), int(time.time()) + 60
    )
    return sign(INSTITUTION, DOMAIN, message)


def _resigned(change: Callable[[bytes], bytes]) -> Callable[[], Signed[DataRequestMessage]]:
    def make() -> Signed[DataRequestMessage]:
        signed = _signed()
        return Signed(signed.message, change(signed.signature))

    return make


def _recovery_id(sig: bytes) -> bytes:
    """v as 0/1 instead of 27/28: the same key recovers, in a form OpenZeppelin refuses."""
    return sig[:64] + bytes([sig[64] - 27])


def _high_s(sig: bytes) -> bytes:
    """The malleable twin (n - s, the other v): the same key recovers."""
    s = int.from_bytes(sig[32:64], "big")
    return sig[:32] + (N - s).to_bytes(32, "big") + bytes([55 - sig[64]])


def _full_width(text: str) -> str:
    return text.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})


def _other_check_char(code: str) -> str:
    return code[:17] + ALPHABET[(ALPHABET.index(code[17]) + 1) % 31]


def _checked(body: str) -> str:
    """`body` (17 characters) with its right check character: only the rule under test is broken."""
    total = sum(ALPHABET.index(c) * pow(3, i, 31) for i, c in enumerate(body))
    return body + ALPHABET[(31 - total % 31) % 31]


def _by_another_key() -> Signed[DataRequestMessage]:
    message = _signed().message
    return Signed(message, sign(Account.create(), DOMAIN, message).signature)


CASES: list[tuple[str, Callable[[], Signed[DataRequestMessage]], bool]] = [
    ("canonical", _signed, True),
    ("lower-case subject", lambda: _signed(SUBJECT.lower()), False),
    ("full-width subject", lambda: _signed(_full_width(SUBJECT)), False),
    ("padded subject", lambda: _signed(f" {SUBJECT} "), False),
    ("subject with a wrong check character", lambda: _signed(_other_check_char(SUBJECT)), False),
    ("subject of 17 characters", lambda: _signed(SUBJECT[:17]), False),
    ("another valid code", lambda: _signed(_checked("92" + SUBJECT[2:17])), True),
    ("subject with an unknown authority", lambda: _signed(_checked("B" + SUBJECT[1:17])), False),
    ("subject with an undefined entity type", lambda: _signed(_checked("95" + SUBJECT[2:17])), False),
    (
        "subject with a letter in the region",
        lambda: _signed(_checked(SUBJECT[:2] + "A" + SUBJECT[3:17])),
        False,
    ),
    ("v as a recovery id 0/1", _resigned(_recovery_id), False),
    ("v = 29", _resigned(lambda sig: sig[:64] + bytes([29])), False),
    ("high s", _resigned(_high_s), False),
    ("r = 0", _resigned(lambda sig: bytes(32) + sig[32:]), False),
    ("another key's signature", _by_another_key, False),
]


def release_path_accepts(signed: Signed[DataRequestMessage]) -> bool:
    """What the release service checks of a request before asking the chain (`_check_request`)."""
    now = time.time()
    try:
        verify_data_request(signed, DOMAIN, now=now)
        check_request_fields(signed.message, now=now, max_lifetime=DEFAULT_MAX_LIFETIME_SECONDS)
    except LedgerError:
        return False
    return True


def auditor_accepts(signed: Signed[DataRequestMessage]) -> bool:
    """The auditor's steps 4.2 (subject) and 4.3 (signature) on the trail entry of this request."""
    payload = {
        "institution": signed.message.institution, "subject": signed.message.subject, "categories": "4",
        "purpose": "1", "agreement_id": 1, "grant_id": 1, "raw_categories": "0", "level": 2, "block": 1,
        "response_hash": "0x" + "00" * 32, "released_at": "2026-12-07T00:00:00+00:00", "record_count": 0,
        "request": request_to_json(signed),
    }  # fmt: skip
    [examined] = examine(RequestDomain(31337, CONSENTS).separator, [(0, encode_leaf("access", 0, payload))])
    assert examined.entry is not None, examined.payload_problem
    signed_by_it = examined.signer == bytes.fromhex(INSTITUTION.address[2:])
    return signed_by_it and subject_problem(examined.entry.request.subject) is None


@pytest.mark.parametrize(("name", "make", "valid"), CASES, ids=[c[0] for c in CASES])
def test_the_release_path_and_the_auditor_agree(
    name: str, make: Callable[[], Signed[DataRequestMessage]], valid: bool
) -> None:
    signed = make()
    assert release_path_accepts(signed) is valid, name
    assert auditor_accepts(signed) is valid, name
