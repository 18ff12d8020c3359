"""The release response assembled from per-record canonical JSON is the canonical JSON of the whole."""

from __future__ import annotations

from typing import Any

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from ledger.bounded_cache import BoundedCache
from ledger.logs.canonical_json import canonical_json
from ledger.release.service import released_json
from tests.unit.test_logs_leaves import json_values

records = st.lists(st.dictionaries(st.text(max_size=8), json_values, max_size=6), max_size=4)


@given(subject=st.text(max_size=20), block=st.integers(0, 2**53 - 1), records=records)
def test_property_assembled_response_is_rfc8785_of_the_whole(
    subject: str, block: int, records: list[dict[str, Any]]
) -> None:
    try:
        whole = rfc8785.dumps({"subject": subject, "block": block, "records": records})
    except rfc8785.CanonicalizationError:
        return  # e.g. an unpaired surrogate: canonical_json refuses it too, for each record
    assert released_json(subject, block, [canonical_json(r) for r in records]) == whole


def test_assembled_response_of_realistic_records() -> None:
    masked = {"办税人员姓名": "王*娜", "amount": "100万-500万"}
    raw = {"罚款金额（元）": 30000, "rate": 0.5}
    released = [
        {"record_id": "R-2", "version": 1, "category": "tax", "event_date": "2026-04-01",
         "severity": None, "detail": "masked", "disputed": False, "fields": masked},
        {"record_id": "R-1", "version": 3, "category": "administrative_penalty", "event_date": "2026-10-22",
         "severity": "一般", "detail": "raw", "disputed": True, "fields": raw},
    ]  # fmt: skip
    subject = "91410100MA44TL7G2F"
    assembled = released_json(subject, 25, [canonical_json(r) for r in released])
    assert assembled == canonical_json({"subject": subject, "block": 25, "records": released})
    assert released_json(subject, 7, []) == b'{"block":7,"records":[],"subject":"91410100MA44TL7G2F"}'


def test_bounded_cache_drops_the_least_recently_used() -> None:
    cache: BoundedCache[str, int] = BoundedCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "a" is now the most recently used
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c"), len(cache)) == (1, None, 3, 2)
    cache.put("a", 10)  # replacing keeps the size
    assert (cache.get("a"), len(cache)) == (10, 2)
    with pytest.raises(ValueError, match="at least 1"):
        BoundedCache(0)
