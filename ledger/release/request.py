"""The institution's signed data request (EIP-712), shared by the SDK, the API and the auditor.

The request names everything the release depends on (subject, categories, purpose,
agreement, detail wanted) and carries a random nonce and a deadline. Its domain binds
chain id and the Consents contract, whose `authorize` decides it, so a request cannot
be replayed on another deployment. The signed request is kept verbatim in the access
trail: an auditor can show that the institution asked for exactly what was released.
"""

from __future__ import annotations

import functools
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from coincurve import PublicKey
from eth_abi import encode
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address

from ledger.chain.address import checksum_address
from ledger.chain.eip712 import Signed, TypedMessage, describe_verification, sign
from ledger.chain.membership import uscc_hash
from ledger.domain.identifiers import validate_uscc
from ledger.errors import InvalidInput
from ledger.request_auth import Unauthenticated

M = TypeVar("M", bound=TypedMessage)

DOMAIN_NAME = "credit-ledger DataRequest"
DOMAIN_VERSION = "1"
DEFAULT_VALIDITY_SECONDS = 120
#: a deadline may lie at most this far ahead (`LEDGER_REQUEST_MAX_LIFETIME_SECONDS`)
DEFAULT_MAX_LIFETIME_SECONDS = 3600
#: agreement ids are stored as uint48 on chain: a larger one names no agreement
MAX_AGREEMENT_ID = 2**48 - 1
#: signatures with s above this are refused (EIP-2), as OpenZeppelin's ECDSA does
SECP256K1_HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
#: the one namespace, in the request-nonce table, of the nonces an institution signs into
#: the requests that release its subjects' data or a result derived from it (data
#: requests and evaluation requests alike): a nonce spent by either refuses the other, as
#: the auditor holds nonces unique across the access trail (step 4.4)
RELEASE_NONCE_PREFIX = "data:"


def release_nonce(nonce: bytes) -> str:
    """A signed release request's nonce as the request-nonce table keeps it (with its signer)."""
    return RELEASE_NONCE_PREFIX + "0x" + nonce.hex()


def request_domain(chain_id: int, consents_address: str) -> dict[str, Any]:
    return {
        "name": DOMAIN_NAME,
        "version": DOMAIN_VERSION,
        "chainId": chain_id,
        "verifyingContract": to_checksum_address(consents_address),
    }


@dataclass(frozen=True)
class DataRequestMessage(TypedMessage):
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
    return parse_signed_wire(
        data,
        lambda nonce: DataRequestMessage(
            checksum_address(str(data["institution"])),
            str(data["subject"]),
            int(data["categories"]),
            int(data["purpose"]),
            int(data["agreement_id"]),
            bool(data["raw"]),
            nonce,
            int(data["deadline"]),
        ),
        ("categories", "purpose", "agreement_id", "deadline"),
    )


def parse_signed_wire(
    data: dict[str, Any], build: Callable[[bytes], M], uint_fields: tuple[str, ...]
) -> Signed[M]:
    """The wire form of any signed request (data, evaluation): `build` makes the message from
    the body and its nonce; the named fields must fit a uint256, the nonce is 32 bytes and the
    signature 65. Raises `InvalidInput` naming the field."""
    try:
        nonce = bytes.fromhex(str(data["nonce"]).removeprefix("0x"))
        signature = bytes.fromhex(str(data["signature"]).removeprefix("0x"))
        message = build(nonce)
    except KeyError as exc:
        raise InvalidInput(f"request: missing field {exc.args[0]}") from None
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"request: malformed field: {exc}") from None
    for name in uint_fields:
        if not 0 <= getattr(message, name) < 2**256:
            raise InvalidInput(f"request.{name} must fit a uint256")
    if len(nonce) != 32:
        raise InvalidInput(f"request.nonce must be 32 bytes, got {len(nonce)}")
    if len(signature) != 65:
        raise InvalidInput(f"request.signature must be 65 bytes, got {len(signature)}")
    return Signed(message, signature)


_DOMAIN_TYPEHASH = keccak(
    text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
_REQUEST_TYPEHASH = keccak(text=DataRequestMessage.type_string())


def domain_separator(domain: dict[str, Any]) -> bytes:
    return keccak(
        encode(
            ("bytes32", "bytes32", "bytes32", "uint256", "address"),
            (
                _DOMAIN_TYPEHASH,
                keccak(text=domain["name"]),
                keccak(text=domain["version"]),
                domain["chainId"],
                domain["verifyingContract"],
            ),
        )
    )


@functools.lru_cache(maxsize=16)
def _separator(domain: tuple[tuple[str, Any], ...]) -> bytes:
    return domain_separator(dict(domain))


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def data_request_digest(separator: bytes, m: DataRequestMessage) -> bytes:
    """The EIP-712 digest of a data request, computed directly for this one type.

    Why by hand: the release path verifies one request per release, and eth_account's
    general `encode_typed_data` (type parsing, validation, ABI encoding) costs about
    1.5 ms of CPU per call on this machine; every member here is one static 32-byte word,
    so the struct encoding is a concatenation. Tested to equal eth_account's digest.
    """
    struct = b"".join((
        _REQUEST_TYPEHASH,
        bytes(12) + bytes.fromhex(m.institution[2:]),
        uscc_hash(m.subject),  # EIP-712 encodes a string as its keccak256: the subject's on-chain key
        _word(m.categories),
        _word(m.purpose),
        _word(m.agreement_id),
        _word(1 if m.raw else 0),
        m.nonce,
        _word(m.deadline),
    ))  # fmt: skip
    return keccak(b"\x19\x01" + separator + keccak(struct))


def check_signature_form(signature: bytes) -> None:
    """The one accepted form of a signature, as OpenZeppelin's ECDSA and the auditor demand.

    65 bytes r ‖ s ‖ v with v 27 or 28 and s in the lower half of the curve order (EIP-2):
    each signed message then has exactly one accepted signature per key, so a release and
    its audit agree on which requests are signed. Raises `ValueError` naming the problem.
    """
    if len(signature) != 65:
        raise ValueError(f"signature has {len(signature)} bytes, not 65")
    if signature[64] not in (27, 28):
        raise ValueError(f"signature v is {signature[64]}, not 27 or 28")
    if int.from_bytes(signature[32:64], "big") > SECP256K1_HALF_ORDER:
        raise ValueError("malleable signature: s is in the upper half of the curve order")


def recover_data_request(signed: Signed[DataRequestMessage], separator: bytes) -> str:
    """Checksummed address that signed the request (raises on a malformed or non-canonical signature)."""
    signature = signed.signature
    check_signature_form(signature)
    digest = data_request_digest(separator, signed.message)
    recoverable = signature[:64] + bytes([signature[64] - 27])
    public = PublicKey.from_signature_and_message(recoverable, digest, hasher=None)
    return checksum_address(keccak(public.format(compressed=False)[1:])[-20:])


def verify_data_request(signed: Signed[DataRequestMessage], domain: dict[str, Any], *, now: float) -> None:
    """Signature by the named institution and deadline not passed; raises otherwise."""
    m = signed.message
    try:
        signer = recover_data_request(signed, _separator(tuple(sorted(domain.items()))))
    except ValueError as exc:
        raise Unauthenticated(f"data request signature refused: {exc}") from None
    except Exception:
        raise Unauthenticated("data request signature cannot be recovered") from None
    if signer != m.institution:
        raise Unauthenticated(
            f"data request is signed by {signer}, not by the institution {m.institution}: "
            + describe_verification(DataRequestMessage.PRIMARY_TYPE, domain)
        )
    if now > m.deadline:
        raise Unauthenticated(f"data request deadline {m.deadline} has passed (now {int(now)})")


def check_request_fields(m: DataRequestMessage, *, now: float, max_lifetime: int) -> None:
    """Each field of a data request within its range and in its one canonical form.

    Refused by name (`InvalidInput`, HTTP 422), never normalised: the subject is signed
    as sent and kept so in the access trail, so a request naming it in another form
    (lower case, full-width, padded) would be released under one spelling and audited
    under another. The deadline may lie at most `max_lifetime` seconds ahead: a request
    is meant to be used at once, and an unbounded deadline would not fit the trail's
    JSON numbers (RFC 8785 keeps integers within 2**53).
    """
    canonical = validate_uscc(m.subject, field="request.subject").code  # InvalidInput naming the rule
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
