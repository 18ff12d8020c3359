"""Leaf bytes: RFC 8785 canonical JSON carrying a type tag and the sequence number.

Canonical JSON makes the bytes reproducible by any outside tool from the same values;
the type tag keeps leaves of different kinds (or logs) from being confused; the
sequence number inside the leaf binds each entry to its position, so an entry cannot be
replayed at another index and a gap or a duplicate is visible from the leaves alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ledger.errors import InvalidInput
from ledger.logs.canonical_json import canonical_json

__all__ = ["LOG_NAME", "Leaf", "LeafError", "check_log_name", "decode_leaf", "encode_leaf"]

#: log names and leaf type tags: short, lower case, stable
LOG_NAME = re.compile(r"^[a-z][a-z0-9-]{0,63}$")
_RESERVED = frozenset({"type", "seq"})


class LeafError(InvalidInput):
    """Leaf bytes that are not a canonical leaf of the expected shape."""

    code = "invalid_leaf"


def check_log_name(name: str) -> str:
    if not LOG_NAME.match(name):
        raise InvalidInput(f"log name {name!r} must match {LOG_NAME.pattern}")
    return name


@dataclass(frozen=True)
class Leaf:
    type: str
    seq: int
    payload: dict[str, Any]


def encode_leaf(type_tag: str, seq: int, payload: Mapping[str, Any]) -> bytes:
    """The canonical bytes of the leaf at `seq`; `payload` may not use the keys type or seq."""
    if not LOG_NAME.match(type_tag):
        raise LeafError(f"leaf type {type_tag!r} must match {LOG_NAME.pattern}")
    if seq < 0:
        raise LeafError(f"sequence number must be non-negative, got {seq}")
    clash = _RESERVED & payload.keys()
    if clash:
        raise LeafError(f"payload may not set {sorted(clash)}")
    return canonical_json({"type": type_tag, "seq": seq, **payload})


def decode_leaf(data: bytes) -> Leaf:
    """Parse leaf bytes, insisting that they are exactly the canonical encoding."""
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise LeafError(f"leaf is not JSON: {exc}") from None
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        raise LeafError("leaf must be a JSON object with a string type")
    seq = value.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool):
        raise LeafError("leaf must carry an integer seq")
    type_tag = value.pop("type")
    value.pop("seq")
    leaf = Leaf(type_tag, seq, value)
    if encode_leaf(leaf.type, leaf.seq, leaf.payload) != data:
        raise LeafError("leaf bytes are not in RFC 8785 canonical form")
    return leaf
