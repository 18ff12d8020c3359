"""Signed API requests: every member request carries an EIP-712 signature.

The signature covers method, path (with query, exactly as sent: percent-encoding
included), a hash of the exact body, a timestamp
and a random nonce, under a domain bound to the chain and the Membership contract, so a
request cannot be replayed, altered, moved to another deployment or kept for later.
Pure functions here; the HTTP layer and the SDK both use them.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from eth_utils import keccak, to_checksum_address

from ledger.chain.eip712 import describe_verification, recover_typed_data, sign_typed_data
from ledger.errors import InvalidInput, NotAuthorized

HEADER_SIGNER = "X-Ledger-Signer"
HEADER_TIMESTAMP = "X-Ledger-Timestamp"
HEADER_NONCE = "X-Ledger-Nonce"
HEADER_SIGNATURE = "X-Ledger-Signature"

API_REQUEST_TYPES = {
    "ApiRequest": [
        {"name": "method", "type": "string"},
        {"name": "path", "type": "string"},
        {"name": "bodyHash", "type": "bytes32"},
        {"name": "timestamp", "type": "uint256"},
        {"name": "nonce", "type": "bytes32"},
    ]
}


#: order of the secp256k1 group; a signature's s above half of it is the malleable twin
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


class Unauthenticated(NotAuthorized):
    """The request's signature headers are missing, stale, forged or replayed (HTTP 401)."""

    code = "unauthenticated"


class SignatureForm(Unauthenticated):
    """The signature is not in its one accepted form: v 27 or 28, s in the lower half (HTTP 401)."""

    code = "signature_form"


def check_signature_form(signature: bytes) -> None:
    """Refuse every form but one (r, s, v) with v 27 or 28 and low s, naming the rule broken.

    An ECDSA signature has a twin (r, n - s) with the other v that recovers the same key;
    accepting one form only makes the signature bytes, and so a request, unique.
    """
    v = signature[64]
    if v in (0, 1):
        raise SignatureForm(f"signature v is {v}: only 27 or 28 is accepted (add 27)")
    if v not in (27, 28):
        raise SignatureForm(f"signature v is {v}: only 27 or 28 is accepted")
    s = int.from_bytes(signature[32:64], "big")
    if s > SECP256K1_N // 2:
        raise SignatureForm("signature s is high (above n/2): only the low-s form is accepted")


def api_domain(chain_id: int, membership_address: str) -> dict[str, Any]:
    return {
        "name": "credit-ledger API",
        "version": "1",
        "chainId": chain_id,
        "verifyingContract": to_checksum_address(membership_address),
    }


def _message(method: str, path: str, body: bytes, timestamp: int, nonce: bytes) -> dict[str, Any]:
    return {
        "method": method.upper(),
        "path": path,
        "bodyHash": keccak(body),
        "timestamp": timestamp,
        "nonce": nonce,
    }


def sign_request(
    private_key: str | bytes,
    domain: dict[str, Any],
    method: str,
    path: str,
    body: bytes,
    *,
    timestamp: int | None = None,
    nonce: bytes | None = None,
) -> dict[str, str]:
    """Headers that authenticate one request by the holder of `private_key`."""
    from eth_account import Account

    timestamp = int(time.time()) if timestamp is None else timestamp
    nonce = secrets.token_bytes(32) if nonce is None else nonce
    signature = sign_typed_data(
        private_key, domain, API_REQUEST_TYPES, "ApiRequest", _message(method, path, body, timestamp, nonce)
    )
    return {
        HEADER_SIGNER: Account.from_key(private_key).address,
        HEADER_TIMESTAMP: str(timestamp),
        HEADER_NONCE: "0x" + nonce.hex(),
        HEADER_SIGNATURE: "0x" + signature.hex(),
    }


@dataclass(frozen=True)
class VerifiedRequest:
    signer: str
    nonce: str
    timestamp: int


def _hex(value: str, name: str, length: int) -> bytes:
    try:
        raw = bytes.fromhex(value.removeprefix("0x"))
    except ValueError:
        raise InvalidInput(f"header {name} is not hex") from None
    if len(raw) != length:
        raise InvalidInput(f"header {name} must be {length} bytes, got {len(raw)}")
    return raw


def verify_request(
    headers: dict[str, str],
    domain: dict[str, Any],
    method: str,
    path: str,
    body: bytes,
    *,
    now: float,
    max_age_seconds: int,
) -> VerifiedRequest:
    """Check the signature headers of a request; the caller then checks nonce and membership."""
    lowered = {k.lower(): v for k, v in headers.items()}
    missing = [
        h
        for h in (HEADER_SIGNER, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE)
        if h.lower() not in lowered
    ]
    if missing:
        raise Unauthenticated(f"unsigned request: missing header(s) {', '.join(missing)}")
    try:
        signer = to_checksum_address(lowered[HEADER_SIGNER.lower()])
    except ValueError:
        raise InvalidInput(f"header {HEADER_SIGNER} is not an address") from None
    try:
        timestamp = int(lowered[HEADER_TIMESTAMP.lower()])
    except ValueError:
        raise InvalidInput(f"header {HEADER_TIMESTAMP} is not an integer (unix seconds)") from None
    nonce = _hex(lowered[HEADER_NONCE.lower()], HEADER_NONCE, 32)
    signature = _hex(lowered[HEADER_SIGNATURE.lower()], HEADER_SIGNATURE, 65)
    if abs(now - timestamp) > max_age_seconds:
        raise Unauthenticated(
            f"stale request: timestamp {timestamp} is more than {max_age_seconds} s "
            f"from server time {int(now)}"
        )
    check_signature_form(signature)
    try:
        recovered = recover_typed_data(
            domain, API_REQUEST_TYPES, "ApiRequest", _message(method, path, body, timestamp, nonce), signature
        )
    except Exception:
        raise Unauthenticated("signature cannot be recovered") from None
    if recovered != signer:
        raise Unauthenticated(
            f"signature is by {recovered}, not by the claimed signer {signer}: "
            + describe_verification("ApiRequest", domain)
        )
    return VerifiedRequest(signer=signer, nonce="0x" + nonce.hex(), timestamp=timestamp)
