"""The institution's signed evaluation request (EIP-712), shared by the SDK, the API and the auditor.

Like a data request (`ledger.release.request`) it names everything the evaluation depends
on - subject, model version, purpose, agreement - with a random nonce and a deadline,
under a domain bound to the chain and the `ModelRegistry` contract that governs the
model. It names no categories: the model's input categories, on chain with its version,
are what is authorized, at the masked detail level (a derived result never needs raw
values). The signed request is kept verbatim in the access trail.
"""

from __future__ import annotations

import functools
import secrets
import time
from dataclasses import dataclass
from typing import Any, ClassVar

from coincurve import PublicKey
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address

from ledger.chain.address import checksum_address
from ledger.chain.eip712 import Signed, TypedMessage, describe_verification, sign
from ledger.domain.identifiers import validate_uscc
from ledger.errors import InvalidInput
from ledger.release.request import (
    MAX_AGREEMENT_ID,
    RELEASE_NONCE_PREFIX,
    check_signature_form,
    domain_separator,
    parse_signed_wire,
)
from ledger.request_auth import Unauthenticated

DOMAIN_NAME = "credit-ledger EvaluationRequest"
DOMAIN_VERSION = "1"
DEFAULT_VALIDITY_SECONDS = 120
#: the nonce's namespace in the request-nonce table: the data requests' own, so a nonce an
#: institution spent on either kind of request refuses the other (`release_nonce`)
NONCE_PREFIX = RELEASE_NONCE_PREFIX


def evaluation_domain(chain_id: int, model_registry_address: str) -> dict[str, Any]:
    return {
        "name": DOMAIN_NAME,
        "version": DOMAIN_VERSION,
        "chainId": chain_id,
        "verifyingContract": to_checksum_address(model_registry_address),
    }


@dataclass(frozen=True)
class EvaluationRequestMessage(TypedMessage):
    PRIMARY_TYPE: ClassVar[str] = "EvaluationRequest"
    EIP712_TYPES: ClassVar[tuple[str, ...]] = (
        "address", "string", "uint256", "uint256", "uint256", "bytes32", "uint256",
    )  # fmt: skip

    institution: str
    subject: str  # the enterprise's 统一社会信用代码
    model_version: int  # a version of the ModelRegistry
    purpose: int  # exactly one purpose bit
    agreement_id: int
    nonce: bytes  # 32 random bytes, never reused
    deadline: int  # unix seconds


def sign_evaluation_request(
    institution: LocalAccount,
    domain: dict[str, Any],
    *,
    subject: str,
    model_version: int,
    purpose: int,
    agreement_id: int,
    validity_seconds: int = DEFAULT_VALIDITY_SECONDS,
) -> Signed[EvaluationRequestMessage]:
    message = EvaluationRequestMessage(
        institution.address, subject, model_version, purpose, agreement_id,
        secrets.token_bytes(32), int(time.time()) + validity_seconds,
    )  # fmt: skip
    return sign(institution, domain, message)


def evaluation_request_to_json(signed: Signed[EvaluationRequestMessage]) -> dict[str, Any]:
    """The wire (and trail) form: message fields with hex bytes, plus the signature."""
    m = signed.message
    return {
        "institution": m.institution,
        "subject": m.subject,
        "model_version": m.model_version,
        "purpose": str(m.purpose),
        "agreement_id": m.agreement_id,
        "nonce": "0x" + m.nonce.hex(),
        "deadline": m.deadline,
        "signature": "0x" + signed.signature.hex(),
    }


def evaluation_request_from_json(data: dict[str, Any]) -> Signed[EvaluationRequestMessage]:
    """Parse the wire form; raises `InvalidInput` naming the field."""
    return parse_signed_wire(
        data,
        lambda nonce: EvaluationRequestMessage(
            checksum_address(str(data["institution"])),
            str(data["subject"]),
            int(data["model_version"]),
            int(data["purpose"]),
            int(data["agreement_id"]),
            nonce,
            int(data["deadline"]),
        ),
        ("model_version", "purpose", "agreement_id", "deadline"),
    )


_REQUEST_TYPEHASH = keccak(text=EvaluationRequestMessage.type_string())


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


@functools.lru_cache(maxsize=16)
def _separator(domain: tuple[tuple[str, Any], ...]) -> bytes:
    return domain_separator(dict(domain))


def evaluation_request_digest(separator: bytes, m: EvaluationRequestMessage) -> bytes:
    """The EIP-712 digest of an evaluation request, computed directly for this one type.

    Why by hand: eth_account's general `encode_typed_data` costs milliseconds of CPU per
    request, on the path of every evaluation; every member here is one 32-byte word (the
    subject string is encoded as its keccak256), so the struct encoding is a concatenation.
    A unit test holds it equal to eth_account's signature recovery.
    """
    struct = b"".join((
        _REQUEST_TYPEHASH,
        bytes(12) + bytes.fromhex(m.institution[2:]),
        keccak(text=m.subject),
        _word(m.model_version),
        _word(m.purpose),
        _word(m.agreement_id),
        m.nonce,
        _word(m.deadline),
    ))  # fmt: skip
    return keccak(b"\x19\x01" + separator + keccak(struct))


def recover_evaluation_request(signed: Signed[EvaluationRequestMessage], domain: dict[str, Any]) -> str:
    """Checksummed address that signed the request (raises on a malformed or non-canonical signature)."""
    signature = signed.signature
    check_signature_form(signature)
    digest = evaluation_request_digest(_separator(tuple(sorted(domain.items()))), signed.message)
    public = PublicKey.from_signature_and_message(
        signature[:64] + bytes([signature[64] - 27]), digest, hasher=None
    )
    return checksum_address(keccak(public.format(compressed=False)[1:])[-20:])


def verify_evaluation_request(
    signed: Signed[EvaluationRequestMessage], domain: dict[str, Any], *, now: float
) -> None:
    """Signature (one form: v 27/28, low s) by the named institution, deadline not passed."""
    m = signed.message
    try:
        signer = recover_evaluation_request(signed, domain)
    except ValueError as exc:
        raise Unauthenticated(f"evaluation request signature refused: {exc}") from None
    except Exception:
        raise Unauthenticated("evaluation request signature cannot be recovered") from None
    if checksum_address(signer) != m.institution:
        raise Unauthenticated(
            f"evaluation request is signed by {signer}, not by the institution {m.institution}: "
            + describe_verification(EvaluationRequestMessage.PRIMARY_TYPE, domain)
        )
    if now > m.deadline:
        raise Unauthenticated(f"evaluation request deadline {m.deadline} has passed (now {int(now)})")


def check_evaluation_fields(m: EvaluationRequestMessage, *, now: float, max_lifetime: int) -> None:
    """Ranges and canonical forms, refused by name (`InvalidInput`), as for a data request."""
    canonical = validate_uscc(m.subject, field="request.subject").code
    if canonical != m.subject:
        raise InvalidInput(
            f"request.subject must be the canonical 统一社会信用代码 {canonical!r} "
            "(18 upper-case ASCII characters, nothing around them)"
        )
    if m.deadline > now + max_lifetime:
        raise InvalidInput(
            f"request.deadline {m.deadline} lies more than {max_lifetime} s ahead (now {int(now)})"
        )
    if m.agreement_id > MAX_AGREEMENT_ID:
        raise InvalidInput(f"request.agreement_id {m.agreement_id} names no agreement (at most 2**48 - 1)")
    if m.model_version < 1:
        raise InvalidInput("request.model_version: model versions start at 1")
