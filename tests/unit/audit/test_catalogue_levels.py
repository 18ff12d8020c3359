"""The level of a release, on a catalogue small enough to read: raw, public, masked and never fields."""

from __future__ import annotations

import hashlib
from types import MappingProxyType

import rfc8785

from ledger.audit.catalogue import content_hash, release_level

DOCUMENT = {
    "masking": {"masked_levels": {"mobile": 2, "redacted": 1}},
    "categories": [
        {"bit": 0, "fields": [{"level": 1, "masking": "public"}]},
        {"bit": "2", "fields": [{"level": 4, "masking": "never"}, {"level": 3, "masking": "mobile"}]},
        {"bit": 3, "fields": [{"level": "3", "masking": "public"}]},
        {"bit": 5, "fields": [{"level": 5, "masking": "redacted"}, {"level": 2, "masking": "mobile"}]},
    ],
}


def test_masked_fields_count_at_the_lower_of_their_level_and_the_rules() -> None:
    assert release_level(DOCUMENT, 1 << 2, False) == 2
    assert release_level(DOCUMENT, 1 << 5, False) == 2
    assert release_level(DOCUMENT, 1 << 5 | 1, False) == 2


def test_raw_fields_and_public_ones_count_at_their_own_level() -> None:
    assert release_level(DOCUMENT, 1 << 2, True) == 3  # the never field is not released, even raw
    assert release_level(DOCUMENT, 1 << 5, True) == 5
    assert release_level(DOCUMENT, 1 << 3, False) == 3
    assert release_level(DOCUMENT, 1 << 3 | 1 << 2, False) == 3


def test_nothing_released_is_level_one_and_an_unknown_bit_has_no_level() -> None:
    assert release_level(DOCUMENT, 0, False) == 1
    assert release_level(DOCUMENT, 1, True) == 1
    assert release_level(DOCUMENT, 1 << 1, False) is None
    assert release_level(DOCUMENT, 1 << 5 | 1 << 6, True) is None


def test_the_content_hash_is_sha256_of_the_rfc8785_form_of_any_mapping() -> None:
    expected = hashlib.sha256(rfc8785.dumps(DOCUMENT)).digest()
    assert content_hash(DOCUMENT) == expected == content_hash(MappingProxyType(DOCUMENT))
