"""The verifier's own leaf decoder: canonical RFC 8785 or refused, payloads typed."""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any

import pytest
import rfc8785
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ledger.audit.leaves import (
    LeafProblem,
    PayloadProblem,
    RecordLeaf,
    decode_leaf,
    is_canonical,
    parse_access,
    parse_record_leaf,
)
from ledger.logs.leaves import encode_leaf

ADDRESS = "0xf77Ce799114122f109DB9ce27146c9F6D2E33Da7"
PAYLOAD: dict[str, Any] = {
    "institution": ADDRESS,
    "subject": "91350200776049653A",
    "categories": "64",
    "purpose": "1",
    "agreement_id": 1,
    "grant_id": 3,
    "raw_categories": "0",
    "level": 2,
    "block": 123,
    "response_hash": "0x" + "ab" * 32,
    "released_at": "2025-01-01T00:00:00.123456+00:00",
    "record_count": 3,
    "request": {
        "institution": ADDRESS,
        "subject": "91350200776049653A",
        "categories": "64",
        "purpose": "1",
        "agreement_id": 1,
        "raw": False,
        "nonce": "0x" + "01" * 32,
        "deadline": 1_900_000_000,
        "signature": "0x" + "02" * 65,
    },
}

# Under mutation testing (`scripts/mutation`) each property runs once per mutant: a tenth of
# the examples there, the explicit ones always.
_FEWER = 10 if os.environ.get("LEDGER_MUTATION") else 1

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)


def _variants(value: Any) -> list[bytes]:
    """Serialisations of `value` that may or may not be canonical."""
    out = []
    for kwargs in (
        {"sort_keys": True, "separators": (",", ":"), "ensure_ascii": False},
        {"sort_keys": True, "separators": (",", ":")},
        {"sort_keys": False, "separators": (",", ":"), "ensure_ascii": False},
        {"sort_keys": True},
    ):
        with contextlib.suppress(UnicodeEncodeError, ValueError):
            out.append(json.dumps(value, **kwargs).encode("utf-8"))
    with contextlib.suppress(Exception):
        out.append(rfc8785.dumps(value))
    return out


@settings(max_examples=400 // _FEWER, deadline=None)
@given(value=json_values)
@example(value=["\x7f"])  # DEL: raw in RFC 8785, escaped by json.dumps(ensure_ascii=True)
@example(value=0.0)
@example(value={"a": 10**16, "b": 2**53 - 1})
@example(value={"\ue000": 1, "\U0001f600": 2})  # UTF-16 order differs from code-point order
@example(value={"a": '\u2028\x1f"\\/'})
def test_is_canonical_agrees_with_rfc8785(value: Any) -> None:
    for data in _variants(value):
        parsed = json.loads(data)
        try:
            expected = rfc8785.dumps(parsed) == data
        except Exception:
            expected = False
        assert is_canonical(parsed, data) == expected, data


def test_decodes_what_the_writing_side_encodes() -> None:
    leaf = decode_leaf(encode_leaf("access", 7, PAYLOAD))
    assert (leaf.type, leaf.seq, leaf.payload) == ("access", 7, PAYLOAD)
    entry = parse_access(7, leaf.payload)
    assert entry.request.nonce == b"\x01" * 32 and entry.categories == 64 and entry.block == 123


@pytest.mark.parametrize(
    "data",
    [
        b'{"seq":1, "type":"access"}',  # a space
        b'{"type":"access","seq":1}',  # key order
        b'{"seq":1,"type":"\\u0061ccess"}',  # needless escape
        b'{"seq":1.0,"type":"access"}',  # float seq
        b'{"seq":1,"type":"access","x":NaN}',
        b'{"seq":1,"seq":1,"type":"access"}',  # duplicate key
        b"[1,2]",
        b'{"seq":-1,"type":"access"}',
        b"\xff",
    ],
)
def test_refuses_non_canonical_or_malformed_leaves(data: bytes) -> None:
    with pytest.raises(LeafProblem):
        decode_leaf(data)


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda p: p.pop("grant_id"), "grant_id"),
        (lambda p: p.update(categories=64), "categories"),
        (lambda p: p.update(categories="064"), "categories"),
        (lambda p: p.update(categories=str(2**256)), "categories"),
        (lambda p: p.update(level=True), "level"),
        (lambda p: p.update(institution=ADDRESS.lower()), "institution"),
        (lambda p: p.update(released_at="yesterday"), "released_at"),
        (lambda p: p.update(released_at="2025-01-01T00:00:00"), "released_at"),
        (lambda p: p["request"].update(raw="no"), "request.raw"),
        (lambda p: p["request"].update(nonce="0x01"), "request.nonce"),
        (lambda p: p["request"].update(signature="0x" + "AB" * 65), "request.signature"),
        (lambda p: p.update(request=[]), "request"),
    ],
)
def test_names_the_bad_payload_field(change, field) -> None:  # type: ignore[no-untyped-def]
    payload = json.loads(json.dumps(PAYLOAD))
    change(payload)
    with pytest.raises(PayloadProblem) as info:
        parse_access(0, payload)
    assert info.value.field == field


@settings(max_examples=300 // _FEWER, deadline=None)
@given(
    value=st.dictionaries(
        st.sampled_from(["type", "seq", "a", "b", "é", "\U0001f600"]), json_values, max_size=5
    )
)
def test_decode_leaf_accepts_exactly_canonical_objects(value: dict[str, Any]) -> None:
    value = {**value, "type": "t", "seq": 1}
    for data in _variants(value):
        try:
            canonical = rfc8785.dumps(json.loads(data)) == data
        except Exception:
            canonical = False
        try:
            decode_leaf(data)
            accepted = True
        except LeafProblem:
            accepted = False
        assert accepted == canonical, data


def test_a_payload_problem_names_the_field_and_shows_at_most_120_characters_of_the_value() -> None:
    problem = PayloadProblem("request.subject", "a non-empty string", "x" * 300)
    assert (problem.field, problem.expected) == ("request.subject", "a non-empty string")
    assert problem.got == "'" + "x" * 119
    assert str(problem) == "request.subject: expected a non-empty string, got '" + "x" * 119


RECORD = {"record_id": "r-1", "version": 2, "commitment": "0x" + "cd" * 32}


def test_a_record_leaf_is_parsed_with_the_index_it_is_served_at() -> None:
    assert parse_record_leaf(9, dict(RECORD)) == RecordLeaf(9, "r-1", 2, b"\xcd" * 32)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("record_id", "", "a non-empty string"),
        ("version", -1, "a non-negative integer"),
        ("commitment", "0x" + "CD" * 32, "0x + a 32-byte SHA-256 in lower-case hex"),
        ("commitment", "0x" + "cd" * 31, "0x + a 32-byte SHA-256 in lower-case hex"),
    ],
)
def test_a_bad_record_leaf_field_is_named_with_what_was_expected(
    key: str, value: object, expected: str
) -> None:
    with pytest.raises(PayloadProblem) as info:
        parse_record_leaf(0, {**RECORD, key: value})
    assert (info.value.field, info.value.expected, info.value.got) == (key, expected, repr(value))


def test_an_integer_beyond_2_53_is_not_canonical_however_many_digits_it_has() -> None:
    """RFC 8785 has no form for an integer beyond ±(2^53 - 1), which `json.dumps` writes all
    the same: the fast path must not decide on one (16 digits here, as 2^53 itself has)."""
    for n in (2**53, 9_999_999_999_999_999, -(2**53), 10**16):
        with pytest.raises(LeafProblem, match=r"^leaf bytes are not RFC 8785 canonical JSON$"):
            decode_leaf(b'{"n":%d,"seq":1,"type":"t"}' % n)
    for n in (2**53 - 1, 10**15, 999_999_999_999_999, -(2**53 - 1)):
        assert decode_leaf(b'{"n":%d,"seq":1,"type":"t"}' % n).payload == {"n": n}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff", "leaf is not UTF-8 JSON"),
        (b'{"seq":1,"type":"t"', "leaf is not UTF-8 JSON"),
        (b'{"n":NaN,"seq":1,"type":"t"}', "leaf is not UTF-8 JSON"),
        (b'["seq",1]', "leaf is not a JSON object"),
        (b'"leaf"', "leaf is not a JSON object"),
        (b'{"seq":1}', "leaf has no string type tag"),
        (b'{"seq":1,"type":7}', "leaf has no string type tag"),
        (b'{"seq":1,"type":null}', "leaf has no string type tag"),
        (b'{"type":"t"}', "leaf has no non-negative integer seq"),
        (b'{"seq":"1","type":"t"}', "leaf has no non-negative integer seq"),
        (b'{"seq":true,"type":"t"}', "leaf has no non-negative integer seq"),
        (b'{"seq":false,"type":"t"}', "leaf has no non-negative integer seq"),
        (b'{"seq":-1,"type":"t"}', "leaf has no non-negative integer seq"),
        (b'{"seq":1.5,"type":"t"}', "leaf has no non-negative integer seq"),
        (b'{"seq":1,"type":"t","n":1}', "leaf bytes are not RFC 8785 canonical JSON"),
        # a float RFC 8785 writes otherwise than `json.dumps` (1, not 1.0)
        (b'{"n":1.0,"seq":1,"type":"t"}', "leaf bytes are not RFC 8785 canonical JSON"),
        (b'{"n":1E+21,"seq":1,"type":"t"}', "leaf bytes are not RFC 8785 canonical JSON"),
    ],
)
def test_each_refused_leaf_is_refused_with_its_reason(data: bytes, message: str) -> None:
    with pytest.raises(LeafProblem) as info:
        decode_leaf(data)
    assert str(info.value) == message


def test_floats_in_their_rfc_8785_form_are_canonical() -> None:
    for text, value in ((b"1.5", 1.5), (b"1e+21", 1e21), (b"-0.25", -0.25), (b"1", 1)):
        assert decode_leaf(b'{"n":%s,"seq":0,"type":"t"}' % text).payload == {"n": value}
