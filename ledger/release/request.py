"""The institution's signed data request (EIP-712), shared by the SDK, the API and the auditor.

The request names everything the release depends on (subject, categories, purpose,
agreement, detail wanted) and carries a random nonce and a deadline. Its domain binds
chain id and the Consents contract, whose `authorize` decides it, so a request cannot
be replayed on another deployment. The signed request is kept verbatim in the access
trail: an auditor can show that the institution asked for exactly what was released.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any, ClassVar

from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from ledger.chain.eip712 import recover_typed_data
from ledger.chain.membership import Signed, _Message, sign
from ledger.errors import InvalidInput
from ledger.request_auth import Unauthenticated

DOMAIN_NAME = "credit-ledger DataRequest"
DOMAIN_VERSION = "1"
DEFAULT_VALIDITY_SECONDS = 120


def request_domain(chain_id: int, consents_address: str) -> dict[str, Any]:
    return {
        "name": DOMAIN_NAME,
        "version": DOMAIN_VERSION,
        "chainId": chain_id,
        "verifyingContract": to_checksum_address(consents_address),
    }


@dataclass(frozen=True)
class DataRequestMessage(_Message):
    PRIMARY_TYPE: ClassVar[str] = "DataRequest"
    EIP712_TYPES: ClassVar[tuple[str, ...]] = (
        "address", "string", "uint256", "uint256", "uint256", "bool", "bytes32", "uint256",
    )  # fmt: skip

    institution: str
    subject: str  # the enterprise's 统一社会信用代码 (public information)
    categories: int  # bit mask of catalogue categories
    purpose: int  # exactly one purpose bit
    agreement_id: int
    raw: bool  # ask for unmasked values where the grant allows them
    nonce: bytes  # 32 random bytes, never reused
    deadline: int  # unix seconds


def sign_data_request(
    institution: LocalAccount,
    domain: dict[str, Any],
    *,
    subject: str,
    categories: int,
    purpose: int,
    agreement_id: int,
    raw: bool = False,
    validity_seconds: int = DEFAULT_VALIDITY_SECONDS,
) -> Signed[DataRequestMessage]:
    message = DataRequestMessage(
        institution.address, subject, categories, purpose, agreement_id, raw,
        secrets.token_bytes(32), int(time.time()) + validity_seconds,
    )  # fmt: skip
    return sign(institution, domain, message)


def request_to_json(signed: Signed[DataRequestMessage]) -> dict[str, Any]:
    """The wire (and trail) form: message fields with hex bytes, plus the signature."""
    m = signed.message
    return {
        "institution": m.institution,
        "subject": m.subject,
        "categories": str(m.categories),
        "purpose": str(m.purpose),
        "agreement_id": m.agreement_id,
        "raw": m.raw,
        "nonce": "0x" + m.nonce.hex(),
        "deadline": m.deadline,
        "signature": "0x" + signed.signature.hex(),
    }


def request_from_json(data: dict[str, Any]) -> Signed[DataRequestMessage]:
    """Parse the wire form; raises `InvalidInput` naming the field."""
    try:
        nonce = bytes.fromhex(str(data["nonce"]).removeprefix("0x"))
        signature = bytes.fromhex(str(data["signature"]).removeprefix("0x"))
        message = DataRequestMessage(
            to_checksum_address(str(data["institution"])),
            str(data["subject"]),
            int(data["categories"]),
            int(data["purpose"]),
            int(data["agreement_id"]),
            bool(data["raw"]),
            nonce,
            int(data["deadline"]),
        )
    except KeyError as exc:
        raise InvalidInput(f"request: missing field {exc.args[0]}") from None
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"request: malformed field: {exc}") from None
    if len(nonce) != 32:
        raise InvalidInput(f"request.nonce must be 32 bytes, got {len(nonce)}")
    if len(signature) != 65:
        raise InvalidInput(f"request.signature must be 65 bytes, got {len(signature)}")
    return Signed(message, signature)


def verify_data_request(signed: Signed[DataRequestMessage], domain: dict[str, Any], *, now: float) -> None:
    """Signature by the named institution and deadline not passed; raises otherwise."""
    m = signed.message
    try:
        signer = recover_typed_data(domain, m.types(), m.PRIMARY_TYPE, m.message(), signed.signature)
    except Exception:
        raise Unauthenticated("data request signature cannot be recovered") from None
    if signer != m.institution:
        raise Unauthenticated(f"data request is signed by {signer}, not by the institution {m.institution}")
    if now > m.deadline:
        raise Unauthenticated(f"data request deadline {m.deadline} has passed (now {int(now)})")
