"""The sign-in challenge (EIP-4361 form): written, signed with personal_sign, read back and checked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from ledger.errors import InvalidInput
from ledger.portal import signin
from ledger.request_auth import SECP256K1_N, SignatureForm, Unauthenticated

ORIGIN = "http://127.0.0.1:8000"
NOW = datetime(2026, 12, 7, 22, 0, tzinfo=UTC)
MEMBER = Account.from_key("0x" + "11" * 32)


def signed(text: str, account=MEMBER) -> str:  # type: ignore[no-untyped-def]
    return "0x" + account.sign_message(encode_defunct(text=text)).signature.hex().removeprefix("0x")


def test_a_challenge_reads_back_as_written_and_verifies() -> None:
    found = signin.challenge(ORIGIN, MEMBER.address.lower(), 31337, now=NOW)
    text = found.text
    assert text.startswith(
        "127.0.0.1:8000 wants you to sign in with your Ethereum account:\n" + MEMBER.address
    )
    assert "URI: http://127.0.0.1:8000/portal\nVersion: 1\nChain ID: 31337\nNonce: " in text
    assert "Issued At: 2026-12-07T22:00:00Z\nExpiration Time: 2026-12-07T22:05:00Z" in text
    assert signin.read(text) == found
    assert (
        signin.verify(text, signed(text), origin=ORIGIN, chain_id=31337, now=NOW + timedelta(minutes=4))
        == found
    )
    assert signin.challenge(ORIGIN, MEMBER.address, 31337, now=NOW).nonce != found.nonce


@pytest.mark.parametrize(
    ("origin", "chain_id", "after", "reason"),
    [
        ("http://evil.example:8000", 31337, timedelta(0), "names the site"),
        (ORIGIN, 1, timedelta(0), "names chain 31337, not 1"),
        (ORIGIN, 31337, timedelta(minutes=5), "expired at 2026-12-07T22:05:00Z"),
    ],
)
def test_a_challenge_for_another_site_chain_or_time_is_refused(
    origin: str, chain_id: int, after: timedelta, reason: str
) -> None:
    text = signin.challenge(ORIGIN, MEMBER.address, 31337, now=NOW).text
    with pytest.raises(Unauthenticated, match=reason):
        signin.verify(text, signed(text), origin=origin, chain_id=chain_id, now=NOW + after)


def test_a_signature_by_another_key_or_in_another_form_is_refused() -> None:
    text = signin.challenge(ORIGIN, MEMBER.address, 31337, now=NOW).text
    other = Account.from_key("0x" + "22" * 32)
    with pytest.raises(Unauthenticated, match=f"signed by {other.address}, not by {MEMBER.address}"):
        signin.verify(text, signed(text, other), origin=ORIGIN, chain_id=31337, now=NOW)
    raw = bytes.fromhex(signed(text)[2:])
    high_s = (
        raw[:32]
        + (SECP256K1_N - int.from_bytes(raw[32:64], "big")).to_bytes(32, "big")
        + bytes([55 - raw[64]])
    )
    with pytest.raises(SignatureForm, match="low-s"):
        signin.verify(text, "0x" + high_s.hex(), origin=ORIGIN, chain_id=31337, now=NOW)
    with pytest.raises(InvalidInput, match="130 hex digits"):
        signin.verify(text, "0x1234", origin=ORIGIN, chain_id=31337, now=NOW)


def test_a_message_of_another_form_is_not_a_challenge() -> None:
    text = signin.challenge(ORIGIN, MEMBER.address, 31337, now=NOW).text
    stretched = text.replace("Expiration Time: 2026-12-07T22:05:00Z", "Expiration Time: 2027-12-07T22:05:00Z")
    with pytest.raises(Unauthenticated, match="not ones this portal writes"):
        signin.verify(stretched, signed(stretched), origin=ORIGIN, chain_id=31337, now=NOW)
    for forged in (text.replace("This signs no act", "This signs every act"), text + "\nResources: x", ""):
        with pytest.raises(InvalidInput, match="not a sign-in challenge"):
            signin.read(forged)
    with pytest.raises(InvalidInput, match="is not an address"):
        signin.challenge(ORIGIN, "0x12", 31337, now=NOW)
