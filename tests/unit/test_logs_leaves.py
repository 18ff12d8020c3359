"""Leaf bytes: canonical JSON with a type tag and the sequence number."""

from __future__ import annotations

from typing import Any

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import InvalidInput
from ledger.logs.canonical_json import canonical_json
from ledger.logs.leaves import LeafError, check_log_name, decode_leaf, encode_leaf


def test_leaf_is_rfc8785_with_type_and_seq() -> None:
    leaf = encode_leaf("credit-record", 7, {"version": 1, "record_id": "r", "commitment": "0xab"})
    assert leaf == b'{"commitment":"0xab","record_id":"r","seq":7,"type":"credit-record","version":1}'
    decoded = decode_leaf(leaf)
    assert (decoded.type, decoded.seq, decoded.payload) == (
        "credit-record",
        7,
        {"commitment": "0xab", "record_id": "r", "version": 1},
    )


@pytest.mark.parametrize(
    "data",
    [
        b'{"seq":7, "type":"t"}',  # not canonical (space)
        b'{"type":"t","seq":7}',  # keys not sorted
        b'{"seq":"7","type":"t"}',
        b'{"seq":7}',
        b"[1]",
        b"\xff",
    ],
)
def test_non_canonical_or_malformed_leaves_are_refused(data: bytes) -> None:
    with pytest.raises(LeafError):
        decode_leaf(data)


def test_payload_cannot_override_type_or_seq() -> None:
    with pytest.raises(LeafError):
        encode_leaf("t", 1, {"seq": 2})
    with pytest.raises(LeafError):
        encode_leaf("Bad Type", 1, {})
    with pytest.raises(LeafError):
        encode_leaf("t", -1, {})


def test_log_names() -> None:
    assert check_log_name("access-trail") == "access-trail"
    for bad in ("", "Credit", "a/b", "x" * 65, "1log"):
        with pytest.raises(InvalidInput):
            check_log_name(bad)


@given(
    seq=st.integers(0, 2**53 - 1),
    payload=st.dictionaries(
        st.text(min_size=1, max_size=8).filter(lambda k: k not in ("type", "seq")),
        st.one_of(st.text(max_size=20), st.integers(-(2**53) + 1, 2**53 - 1), st.booleans(), st.none()),
        max_size=5,
    ),
)
def test_property_round_trip(seq: int, payload: dict[str, object]) -> None:
    leaf = decode_leaf(encode_leaf("entry", seq, payload))
    assert (leaf.seq, leaf.payload) == (seq, payload)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)


@given(value=json_values)
def test_property_fast_canonical_json_is_rfc8785(value: Any) -> None:
    try:
        expected = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        with pytest.raises(rfc8785.CanonicalizationError):
            canonical_json(value)
        return
    assert canonical_json(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        {"b": '\u2028\u2029\x7f\x00\x1f"\\/', "a": [1, True, None], "é": 1},
        {"z": "😀", "a": {"y": "𝄞", "x": ""}},
        {"n": -(2**53) + 1, "f": 1e21, "g": 0.1, "h": 100.0},
    ],
)
def test_fast_canonical_json_edge_cases(value: Any) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)
