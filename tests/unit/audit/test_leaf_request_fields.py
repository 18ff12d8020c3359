"""The signed request inside an access or evaluation entry, field by field: each bad value is
named with its `request.` prefix, what was expected and what was there; each good value is
read into its own field.

A finding in step 4.1 shows the reader the field, the expected form and the value found
(`examine` turns a `PayloadProblem` into that finding), so all three are compared exactly,
for every field of the data request and of the evaluation request."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ledger.audit.leaves import (
    PayloadProblem,
    SignedRequest,
    parse_access,
    parse_evaluation_authorization,
)
from tests.unit.audit.test_leaves import ADDRESS, PAYLOAD

NATURAL = "a non-negative integer"
UINT256 = "a uint256 as a decimal string"
ADDRESS_FORM = "a 0x-prefixed 20-byte address"
TEXT = "a non-empty string"
NONCE = "0x + 32 bytes of lower-case hex"
SIGNATURE = "0x + 65 bytes of lower-case hex"

#: (request field, bad value, expected) shared by the data request and the evaluation request
COMMON: list[tuple[str, object, str]] = [
    ("institution", "0x" + "ab" * 19, ADDRESS_FORM),
    ("institution", ADDRESS + "00", ADDRESS_FORM),
    ("institution", 1, ADDRESS_FORM),
    ("subject", "", TEXT),
    ("subject", 7, TEXT),
    ("purpose", "01", UINT256),
    ("purpose", 1, UINT256),
    ("purpose", str(2**256), UINT256),
    ("agreement_id", -1, NATURAL),
    ("agreement_id", True, NATURAL),
    ("agreement_id", "1", NATURAL),
    ("nonce", "0x01", NONCE),
    ("nonce", "0x" + "AB" * 32, NONCE),
    ("nonce", 1, NONCE),
    ("deadline", -1, NATURAL),
    ("deadline", False, NATURAL),
    ("deadline", 1.5, NATURAL),
    ("signature", "0x" + "AB" * 65, SIGNATURE),
    ("signature", "0x" + "ab" * 64, SIGNATURE),
    ("signature", None, SIGNATURE),
]
#: the data request's own fields: the categories it asks for and whether raw
DATA_ONLY: list[tuple[str, object, str]] = [
    ("categories", "064", UINT256),
    ("categories", 64, UINT256),
    ("categories", str(2**256), UINT256),
    ("raw", "no", "true or false"),
    ("raw", 0, "true or false"),
    ("raw", None, "true or false"),
]
DATA_FIELDS = [
    "institution",
    "subject",
    "categories",
    "purpose",
    "agreement_id",
    "raw",
    "nonce",
    "deadline",
    "signature",
]
EVALUATION_FIELDS = ["institution", "subject", "purpose", "agreement_id", "nonce", "deadline", "signature"]


def access(**request: Any) -> dict[str, Any]:
    payload = copy.deepcopy(PAYLOAD)
    payload["request"].update(request)
    return payload


def evaluation(**request: Any) -> dict[str, Any]:
    """An evaluation entry's payload (after the leaf's type and seq)."""
    payload = {k: v for k, v in copy.deepcopy(PAYLOAD).items() if k not in ("raw_categories", "record_count")}
    payload["request"] = {k: v for k, v in payload["request"].items() if k not in ("categories", "raw")} | {
        "model_version": 1
    }
    payload["inputs"] = [{"record_id": "r1", "version": 1, "disputed": False}]
    payload["request"].update(request)
    return payload


def refusal(parse: Any, payload: dict[str, Any]) -> tuple[str, str, str, str]:
    with pytest.raises(PayloadProblem) as info:
        parse(0, payload)
    p = info.value
    return p.field, p.expected, p.got, str(p)


@pytest.mark.parametrize(("field", "value", "expected"), COMMON + DATA_ONLY)
def test_a_bad_data_request_field_is_named_with_its_prefix_and_what_was_expected(
    field: str, value: object, expected: str
) -> None:
    got = repr(value)[:120]  # a long value is shown cut
    assert refusal(parse_access, access(**{field: value})) == (
        f"request.{field}",
        expected,
        got,
        f"request.{field}: expected {expected}, got {got}",
    )


@pytest.mark.parametrize(("field", "value", "expected"), COMMON)
def test_a_bad_evaluation_request_field_is_named_with_its_prefix_and_what_was_expected(
    field: str, value: object, expected: str
) -> None:
    got = repr(value)[:120]  # a long value is shown cut
    assert refusal(parse_evaluation_authorization, evaluation(**{field: value})) == (
        f"request.{field}",
        expected,
        got,
        f"request.{field}: expected {expected}, got {got}",
    )


@pytest.mark.parametrize(
    ("parse", "payload", "field"),
    [(parse_access, access, f) for f in DATA_FIELDS]
    + [(parse_evaluation_authorization, evaluation, f) for f in EVALUATION_FIELDS],
)
def test_a_missing_request_field_is_named_with_its_prefix(parse: Any, payload: Any, field: str) -> None:
    body = payload()
    del body["request"][field]
    assert refusal(parse, body) == (
        f"request.{field}",
        "a value",
        "'nothing'",
        f"request.{field}: expected a value, got 'nothing'",
    )


@pytest.mark.parametrize(
    "parse, payload", [(parse_access, access), (parse_evaluation_authorization, evaluation)]
)
def test_a_missing_or_malformed_request_is_named_request(parse: Any, payload: Any) -> None:
    body = payload()
    del body["request"]
    assert refusal(parse, body) == (
        "request",
        "a value",
        "'nothing'",
        "request: expected a value, got 'nothing'",
    )
    for bad in ([], "request", None):
        body["request"] = bad
        assert refusal(parse, body) == (
            "request",
            "an object",
            repr(bad),
            f"request: expected an object, got {bad!r}",
        )


def test_each_data_request_field_is_read_into_its_own_place() -> None:
    lower = ADDRESS.lower()  # the request as signed: its address need not be checksummed
    request = access(
        institution=lower,
        subject="S",
        categories=str(2**256 - 1),
        purpose="0",
        agreement_id=0,
        raw=True,
        nonce="0x" + "0f" * 32,
        deadline=0,
        signature="0x" + "e1" * 65,
    )
    assert parse_access(3, request).request == SignedRequest(
        lower, "S", 2**256 - 1, 0, 0, True, b"\x0f" * 32, 0, b"\xe1" * 65
    )
    assert parse_access(
        3, access(raw=False, purpose="8", categories="5", agreement_id=9, deadline=77)
    ).request == (SignedRequest(ADDRESS, PAYLOAD["subject"], 5, 8, 9, False, b"\x01" * 32, 77, b"\x02" * 65))


def test_each_evaluation_request_field_is_read_into_its_own_place() -> None:
    lower = ADDRESS.lower()
    payload = evaluation(
        institution=lower,
        subject="S",
        purpose=str(2**256 - 1),
        agreement_id=0,
        nonce="0x" + "0f" * 32,
        deadline=0,
        signature="0x" + "e1" * 65,
    )
    payload["categories"] = "96"
    entry = parse_evaluation_authorization(4, payload)
    # no categories of its own (the model's inputs are what is authorized), never raw
    assert entry.request == SignedRequest(lower, "S", 96, 2**256 - 1, 0, False, b"\x0f" * 32, 0, b"\xe1" * 65)
    assert (entry.index, entry.categories, entry.raw_categories, entry.record_count) == (4, 96, 0, 1)
    payload = evaluation(agreement_id=9, deadline=77, purpose="8")
    assert parse_evaluation_authorization(4, payload).request == SignedRequest(
        ADDRESS, PAYLOAD["subject"], 64, 8, 9, False, b"\x01" * 32, 77, b"\x02" * 65
    )


#: (evaluation entry field, bad value, expected): the entry's own terms besides its request
EVALUATION_ENTRY: list[tuple[str, object, str]] = [
    ("institution", "0x12", ADDRESS_FORM),
    ("subject", "", TEXT),
    ("categories", 64, UINT256),
    ("purpose", "1.0", UINT256),
    ("agreement_id", -1, NATURAL),
    ("grant_id", "3", NATURAL),
    ("level", None, NATURAL),
    ("block", -5, NATURAL),
    ("response_hash", "0x" + "AB" * 32, "0x + a 32-byte SHA-256 in lower-case hex"),
    ("response_hash", "0x" + "ab" * 31, "0x + a 32-byte SHA-256 in lower-case hex"),
    ("released_at", "", TEXT),
    ("released_at", "yesterday", "an ISO 8601 time"),
    ("released_at", "2025-01-01T00:00:00", "an ISO 8601 time with its UTC offset"),
    ("inputs", {"record_id": "r1"}, "a list"),
    ("inputs", "r1", "a list"),
]


@pytest.mark.parametrize(("field", "value", "expected"), EVALUATION_ENTRY)
def test_a_bad_evaluation_entry_field_is_named_with_what_was_expected(
    field: str, value: object, expected: str
) -> None:
    payload = evaluation()
    payload[field] = value
    got = repr(value)
    assert refusal(parse_evaluation_authorization, payload) == (
        field,
        expected,
        got,
        f"{field}: expected {expected}, got {got}",
    )
    del payload[field]
    assert refusal(parse_evaluation_authorization, payload) == (
        field,
        "a value",
        "'nothing'",
        f"{field}: expected a value, got 'nothing'",
    )


def test_an_evaluation_entry_is_read_as_the_masked_release_of_its_inputs() -> None:
    payload = evaluation()
    # the entry's institution is written checksummed, as a release's is
    payload["institution"] = ADDRESS.lower()
    assert refusal(parse_evaluation_authorization, payload)[:2] == (
        "institution",
        "an EIP-55 checksummed address",
    )
    payload["institution"] = ADDRESS
    payload["inputs"] = [{"record_id": f"r{i}", "version": 1, "disputed": False} for i in range(3)]
    payload |= {"grant_id": 8, "level": 4, "block": 99, "agreement_id": 6, "purpose": "2", "categories": "96"}
    payload["response_hash"] = "0x" + "cd" * 32
    entry = parse_evaluation_authorization(11, payload)
    assert (entry.index, entry.institution, entry.subject) == (11, ADDRESS, PAYLOAD["subject"])
    assert (entry.categories, entry.purpose, entry.agreement_id, entry.grant_id) == (96, 2, 6, 8)
    assert (entry.raw_categories, entry.level, entry.block, entry.record_count) == (0, 4, 99, 3)
    assert entry.response_hash == b"\xcd" * 32
    assert (entry.released_at, entry.at) == (PAYLOAD["released_at"], 1_735_689_600)


#: (access entry field, bad value, expected): the release's own terms besides its request
ACCESS_ENTRY: list[tuple[str, object, str]] = [
    ("institution", ADDRESS.lower(), "an EIP-55 checksummed address"),  # as the trail writes it
    ("institution", "0x12", ADDRESS_FORM),
    ("subject", 5, TEXT),
    ("categories", "-1", UINT256),
    ("purpose", None, UINT256),
    ("agreement_id", 1.0, NATURAL),
    ("grant_id", -3, NATURAL),
    ("raw_categories", "0x40", UINT256),
    ("level", True, NATURAL),
    ("block", "123", NATURAL),
    ("response_hash", "0x" + "AB" * 32, "0x + a 32-byte SHA-256 in lower-case hex"),
    ("response_hash", "ab" * 32, "0x + a 32-byte SHA-256 in lower-case hex"),
    ("released_at", 0, TEXT),
    ("released_at", "2025-13-01T00:00:00+00:00", "an ISO 8601 time"),
    ("released_at", "2025-01-01", "an ISO 8601 time with its UTC offset"),
    ("record_count", -1, NATURAL),
]


@pytest.mark.parametrize(("field", "value", "expected"), ACCESS_ENTRY)
def test_a_bad_access_entry_field_is_named_with_what_was_expected(
    field: str, value: object, expected: str
) -> None:
    payload = access()
    payload[field] = value
    got = repr(value)
    assert refusal(parse_access, payload) == (
        field,
        expected,
        got,
        f"{field}: expected {expected}, got {got}",
    )
    del payload[field]
    assert refusal(parse_access, payload) == (
        field,
        "a value",
        "'nothing'",
        f"{field}: expected a value, got 'nothing'",
    )


@pytest.mark.parametrize(
    "parse, payload", [(parse_access, access), (parse_evaluation_authorization, evaluation)]
)
def test_a_release_time_in_utc_may_be_written_with_z_but_not_with_a_lower_case_z(
    parse: Any, payload: Any
) -> None:
    body = payload()
    body["released_at"] = "2025-01-01T00:00:01Z"
    entry = parse(0, body)
    assert (entry.released_at, entry.at) == ("2025-01-01T00:00:01Z", 1_735_689_601)
    body["released_at"] = "2025-01-01T00:00:01z"
    assert refusal(parse, body)[:3] == ("released_at", "an ISO 8601 time", "'2025-01-01T00:00:01z'")
