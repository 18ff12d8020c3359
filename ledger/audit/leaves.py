"""The verifier's own reading of leaf bytes, written from the documented format.

Deliberately not `ledger.logs.leaves`: if the writing side ever accepts a malformed
leaf, the auditor must not accept it for the same reason. The documented format
(transparency-log.md, `ledger/logs/leaves.py` docstring):

* a leaf is the RFC 8785 canonical JSON of an object holding a string ``type`` tag, an
  integer ``seq`` (its index in the log) and the payload's keys;
* credit-record leaves (log ``credit-records``, type ``credit-record``) carry
  ``record_id``, ``version`` and ``commitment`` (0x + SHA-256(salt ‖ canonical record));
* access-trail leaves (log ``access-trail``, type ``access``) carry who asked, for
  what, under which agreement and grant, the block B of the authorization check, a hash
  of the response, the time, and the signed request itself (see `AccessEntry`).

Canonical form is checked by re-serialising: with ``json.dumps`` (sorted keys, no
spaces) when the text is in the subset where that is provably RFC 8785 (ASCII, so
UTF-16 and code-point key order agree; no floats; integers within ±(2^53 - 1)), else
with the `rfc8785` package itself.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import rfc8785
from eth_utils import to_checksum_address

__all__ = [
    "ACCESS_LEAF_TYPE",
    "ACCESS_TRAIL_LOG",
    "ALERT_LEAF_TYPE",
    "CREDIT_RECORDS_LOG",
    "EVALUATION_LEAF_TYPE",
    "LEAF_TYPES",
    "OTHER_LEAF_TYPES",
    "RECORD_LEAF_TYPE",
    "AccessEntry",
    "DecodedLeaf",
    "LeafProblem",
    "PayloadProblem",
    "RecordLeaf",
    "SignedRequest",
    "decode_leaf",
    "parse_access",
    "parse_alert_authorization",
    "parse_evaluation_authorization",
    "parse_record_leaf",
]

CREDIT_RECORDS_LOG = "credit-records"
ACCESS_TRAIL_LOG = "access-trail"
RECORD_LEAF_TYPE = "credit-record"
ACCESS_LEAF_TYPE = "access"
EVALUATION_LEAF_TYPE = "evaluation"
ALERT_LEAF_TYPE = "alert"
#: the type tag every leaf of a known log must carry
LEAF_TYPES = {CREDIT_RECORDS_LOG: RECORD_LEAF_TYPE, ACCESS_TRAIL_LOG: ACCESS_LEAF_TYPE}
#: other documented leaf types a log may hold besides its own: the state changes of the
#: enterprise self-service workflows in the credit-record log (`ledger/selfservice/leaves.py`).
#: They are part of the log (rebuilt into its roots) but are not record leaves.
OTHER_LEAF_TYPES = {
    CREDIT_RECORDS_LOG: frozenset(
        {
            "objection",
            "objection-forward",
            "objection-escalation",
            "objection-withdrawal",
            "objection-decision",
            "repair-application",
            "repair-escalation",
            "repair-decision",
            "self-declaration",
        }
    ),
    # evaluations (a score and portrait released as a derived result, `ledger/evaluation_release/`)
    # and alerts (a risk alert released to a watching institution, `ledger/alerts/authorize.py`)
    ACCESS_TRAIL_LOG: frozenset({EVALUATION_LEAF_TYPE, ALERT_LEAF_TYPE}),
}

_UINT256 = 2**256
_DECIMAL = re.compile(r"^(0|[1-9][0-9]{0,77})$")
_HEX_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_HEX32 = re.compile(r"^0x[0-9a-f]{64}$")
_HEX65 = re.compile(r"^0x[0-9a-f]{130}$")


class LeafProblem(ValueError):
    """Leaf bytes that are not a canonical leaf object."""


# The value classes here are plain (not frozen) slots dataclasses: a frozen dataclass's
# `__init__` pays an `object.__setattr__` per field, and a trail holds 100,000s of them.


@dataclass(slots=True)
class DecodedLeaf:
    type: str
    seq: int
    payload: dict[str, Any]


#: a number token that is a float or an integer of 16 digits or more, where RFC 8785 writes
#: (or refuses) something else than `json.dumps`; a match inside a string only costs the
#: slow path
_EXP = rb"(?:[eE][+-]?[0-9]+)"
_NOT_FAST = re.compile(
    rb"[:\[,]-?(?:[0-9]{16,}(?:\.[0-9]+)?"
    + _EXP
    + rb"?|[0-9]+\.[0-9]+"
    + _EXP
    + rb"?|[0-9]+"
    + _EXP
    + rb")[,}\]]"
)


class _NotFast(ValueError):
    """A float or a long integer: a number whose RFC 8785 form `json.dumps` does not write."""


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _float(text: str) -> Any:
    raise _NotFast(text)


def _int(text: str) -> int:
    if len(text) > 15:  # beyond ±(2^53 - 1) possibly
        raise _NotFast(text)
    return int(text)


#: decodes only texts whose numbers `json.dumps` writes as RFC 8785 does (`_NotFast` otherwise)
_FAST_DECODER = json.JSONDecoder(parse_constant=_no_constants, parse_float=_float, parse_int=_int)
_DECODER = json.JSONDecoder(parse_constant=_no_constants)
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


def _text_fast(data: bytes) -> bool:
    """ASCII text (so code-point key order is RFC 8785's UTF-16 order) of an object or
    array, without ``\\u`` escapes (RFC 8785 writes non-ASCII characters raw) and without
    DEL (which RFC 8785 writes raw and `json.dumps(ensure_ascii=True)` escapes)."""
    return data[:1] in (b"{", b"[") and data.isascii() and b"\\u" not in data and b"\x7f" not in data


def is_canonical(value: Any, data: bytes, *, numbers_fast: bool | None = None) -> bool:
    """Whether `data` is exactly the RFC 8785 serialisation of `value` (parsed from `data`).

    Fast path: where `json.dumps(sort_keys=True)` provably writes what RFC 8785 does —
    `_text_fast` text whose numbers are integers within ±(2^53 - 1) (`numbers_fast`, found
    by a scan of the text when not given) — the two are compared; text not canonical for
    another reason (spaces, key order, escapes) differs from that output. Anything else
    is decided by the `rfc8785` package itself.
    """
    if numbers_fast is None:
        numbers_fast = _NOT_FAST.search(data) is None
    if numbers_fast and _text_fast(data):
        return _ENCODER.encode(value).encode() == data
    try:
        return bool(rfc8785.dumps(value) == data)
    except Exception:  # values RFC 8785 cannot represent
        return False


def decode_leaf(data: bytes) -> DecodedLeaf:
    """The leaf's type, seq and payload; `LeafProblem` unless canonical and well-shaped."""
    numbers_fast = True
    try:
        text = data.decode("utf-8")
        try:
            value = _FAST_DECODER.decode(text)
        except _NotFast:
            numbers_fast = False
            value = _DECODER.decode(text)
    except (UnicodeDecodeError, ValueError):
        raise LeafProblem("leaf is not UTF-8 JSON") from None
    if not isinstance(value, dict):
        raise LeafProblem("leaf is not a JSON object")
    type_tag = value.get("type")
    seq = value.get("seq")
    if not isinstance(type_tag, str):
        raise LeafProblem("leaf has no string type tag")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise LeafProblem("leaf has no non-negative integer seq")
    if not is_canonical(value, data, numbers_fast=numbers_fast):
        raise LeafProblem("leaf bytes are not RFC 8785 canonical JSON")
    del value["type"], value["seq"]
    return DecodedLeaf(type_tag, seq, value)


# -- payloads -------------------------------------------------------------------------------


class PayloadProblem(ValueError):
    """A payload field is missing or of the wrong shape: `field`, what was expected, what was there."""

    def __init__(self, field: str, expected: str, got: object) -> None:
        shown = repr(got)
        super().__init__(f"{field}: expected {expected}, got {shown[:120]}")
        self.field = field
        self.expected = expected
        self.got = shown[:120]


_MISSING = object()
_checksums: dict[str, bool] = {}


def _get(payload: dict[str, Any], key: str, prefix: str) -> Any:
    value = payload.get(key, _MISSING)
    if value is _MISSING:
        raise PayloadProblem(prefix + key, "a value", "nothing")
    return value


def _nat(payload: dict[str, Any], key: str, prefix: str = "") -> int:
    value = _get(payload, key, prefix)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise PayloadProblem(prefix + key, "a non-negative integer", value)
    return value


def _uint256(payload: dict[str, Any], key: str, prefix: str = "") -> int:
    value = _get(payload, key, prefix)
    if not isinstance(value, str) or not _DECIMAL.match(value) or int(value) >= _UINT256:
        raise PayloadProblem(prefix + key, "a uint256 as a decimal string", value)
    return int(value)


def _text(payload: dict[str, Any], key: str, prefix: str = "") -> str:
    value = _get(payload, key, prefix)
    if not isinstance(value, str) or not value:
        raise PayloadProblem(prefix + key, "a non-empty string", value)
    return value


def _hex(payload: dict[str, Any], key: str, pattern: re.Pattern[str], what: str, prefix: str = "") -> bytes:
    value = _get(payload, key, prefix)
    if not isinstance(value, str) or not pattern.match(value):
        raise PayloadProblem(prefix + key, what, value)
    return bytes.fromhex(value[2:])


def _address(payload: dict[str, Any], key: str, prefix: str = "", *, checksummed: bool) -> str:
    value = _get(payload, key, prefix)
    if not isinstance(value, str) or not _HEX_ADDRESS.match(value):
        raise PayloadProblem(prefix + key, "a 0x-prefixed 20-byte address", value)
    if checksummed:
        ok = _checksums.get(value)
        if ok is None:
            ok = _checksums[value] = to_checksum_address(value) == value
        if not ok:
            raise PayloadProblem(prefix + key, "an EIP-55 checksummed address", value)
    return value


@dataclass(slots=True)
class SignedRequest:
    """The institution's EIP-712 `DataRequest`, as kept in the trail."""

    institution: str
    subject: str
    categories: int
    purpose: int
    agreement_id: int
    raw: bool
    nonce: bytes
    deadline: int
    signature: bytes


@dataclass(slots=True)
class AccessEntry:
    """One release as the access trail records it."""

    index: int
    institution: str
    subject: str
    categories: int
    purpose: int
    agreement_id: int
    grant_id: int
    raw_categories: int
    level: int
    block: int
    response_hash: bytes
    released_at: str
    #: `released_at` in whole unix seconds: the release's own time, at which the release
    #: path asked the chain (`at` of `authorize`) and at which expiries are judged
    at: int
    record_count: int
    request: SignedRequest


def _request(payload: dict[str, Any]) -> SignedRequest:
    value = _get(payload, "request", "")
    if not isinstance(value, dict):
        raise PayloadProblem("request", "an object", value)
    p = "request."
    raw = _get(value, "raw", p)
    if not isinstance(raw, bool):
        raise PayloadProblem(p + "raw", "true or false", raw)
    return SignedRequest(
        institution=_address(value, "institution", p, checksummed=False),
        subject=_text(value, "subject", p),
        categories=_uint256(value, "categories", p),
        purpose=_uint256(value, "purpose", p),
        agreement_id=_nat(value, "agreement_id", p),
        raw=raw,
        nonce=_hex(value, "nonce", _HEX32, "0x + 32 bytes of lower-case hex", p),
        deadline=_nat(value, "deadline", p),
        signature=_hex(value, "signature", _HEX65, "0x + 65 bytes of lower-case hex", p),
    )


def _moment(payload: dict[str, Any]) -> tuple[str, int]:
    """`released_at` and it in whole unix seconds."""
    released_at = _text(payload, "released_at")
    try:
        moment = datetime.fromisoformat(released_at.replace("Z", "+00:00"))
    except ValueError:
        raise PayloadProblem("released_at", "an ISO 8601 time", released_at) from None
    if moment.tzinfo is None:
        raise PayloadProblem("released_at", "an ISO 8601 time with its UTC offset", released_at)
    return released_at, int(moment.timestamp())


def parse_access(index: int, payload: dict[str, Any]) -> AccessEntry:
    """The access entry at `index`; `PayloadProblem` names the first bad field."""
    released_at, at = _moment(payload)
    return AccessEntry(
        index=index,
        institution=_address(payload, "institution", checksummed=True),
        subject=_text(payload, "subject"),
        categories=_uint256(payload, "categories"),
        purpose=_uint256(payload, "purpose"),
        agreement_id=_nat(payload, "agreement_id"),
        grant_id=_nat(payload, "grant_id"),
        raw_categories=_uint256(payload, "raw_categories"),
        level=_nat(payload, "level"),
        block=_nat(payload, "block"),
        response_hash=_hex(payload, "response_hash", _HEX32, "0x + a 32-byte SHA-256 in lower-case hex"),
        released_at=released_at,
        at=at,
        record_count=_nat(payload, "record_count"),
        request=_request(payload),
    )


def _evaluation_request(payload: dict[str, Any], categories: int) -> SignedRequest:
    """The signed `EvaluationRequest` in the fields of a `DataRequest`: it asks for no
    categories itself (the model's inputs, `categories`, are what is authorized) and
    never for raw data."""
    value = _get(payload, "request", "")
    if not isinstance(value, dict):
        raise PayloadProblem("request", "an object", value)
    p = "request."
    return SignedRequest(
        institution=_address(value, "institution", p, checksummed=False),
        subject=_text(value, "subject", p),
        categories=categories,
        purpose=_uint256(value, "purpose", p),
        agreement_id=_nat(value, "agreement_id", p),
        raw=False,
        nonce=_hex(value, "nonce", _HEX32, "0x + 32 bytes of lower-case hex", p),
        deadline=_nat(value, "deadline", p),
        signature=_hex(value, "signature", _HEX65, "0x + 65 bytes of lower-case hex", p),
    )


def parse_evaluation_authorization(index: int, payload: dict[str, Any]) -> AccessEntry:
    """What an evaluation entry at `index` says was authorized, as an access entry.

    An evaluation is a release of a derived result: authorized like a release for the
    model's input categories (the entry's ``categories``) at the masked detail level,
    nothing raw. Its records are the entry's ``inputs``. The request's signature is
    under the evaluation domain and is checked in step 6.4, not here.
    """
    released_at, at = _moment(payload)
    categories = _uint256(payload, "categories")
    inputs = _get(payload, "inputs", "")
    if not isinstance(inputs, list):
        raise PayloadProblem("inputs", "a list", inputs)
    return AccessEntry(
        index=index,
        institution=_address(payload, "institution", checksummed=True),
        subject=_text(payload, "subject"),
        categories=categories,
        purpose=_uint256(payload, "purpose"),
        agreement_id=_nat(payload, "agreement_id"),
        grant_id=_nat(payload, "grant_id"),
        raw_categories=0,
        level=_nat(payload, "level"),
        block=_nat(payload, "block"),
        response_hash=_hex(payload, "response_hash", _HEX32, "0x + a 32-byte SHA-256 in lower-case hex"),
        released_at=released_at,
        at=at,
        record_count=len(inputs),
        request=_evaluation_request(payload, categories),
    )


@dataclass(frozen=True, slots=True)
class RecordLeaf:
    index: int
    record_id: str
    version: int
    commitment: bytes


def parse_alert_authorization(index: int, payload: dict[str, Any]) -> AccessEntry:
    """What an alert entry at `index` says was authorized, as an access entry.

    An alert is a release of a derived result to an institution that watches the subject:
    authorized like a masked release of the alert's ``categories`` for the watch's purpose
    and agreement, nothing raw, at block B. It has no signed request of its own (the
    institution's signed request created the watch, and the alert is pushed): the request
    fields are the entry's own, with no nonce and no signature, and the steps that check a
    request (4.2-4.4) and its deadline (4.5) pass alerts by; 4.5's freshness, 4.6 and 4.8
    hold them as any release.
    """
    released_at, at = _moment(payload)
    institution = _address(payload, "institution", checksummed=True)
    subject = _text(payload, "subject")
    categories = _uint256(payload, "categories")
    purpose = _uint256(payload, "purpose")
    agreement_id = _nat(payload, "agreement_id")
    _text(payload, "alert_id")
    _text(payload, "event")
    if _uint256(payload, "raw_categories") != 0:
        raise PayloadProblem("raw_categories", "0: an alert releases nothing raw", payload["raw_categories"])
    return AccessEntry(
        index=index,
        institution=institution,
        subject=subject,
        categories=categories,
        purpose=purpose,
        agreement_id=agreement_id,
        grant_id=_nat(payload, "grant_id"),
        raw_categories=0,
        level=_nat(payload, "level"),
        block=_nat(payload, "block"),
        response_hash=_hex(payload, "response_hash", _HEX32, "0x + a 32-byte SHA-256 in lower-case hex"),
        released_at=released_at,
        at=at,
        record_count=0,
        request=SignedRequest(institution, subject, categories, purpose, agreement_id, False, b"", at, b""),
    )


def parse_record_leaf(index: int, payload: dict[str, Any]) -> RecordLeaf:
    return RecordLeaf(
        index=index,
        record_id=_text(payload, "record_id"),
        version=_nat(payload, "version"),
        commitment=_hex(payload, "commitment", _HEX32, "0x + a 32-byte SHA-256 in lower-case hex"),
    )
