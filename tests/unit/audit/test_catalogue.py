"""The verifier's own sensitivity levels agree with the catalogue's, and its content hash."""

from __future__ import annotations

from ledger.audit.catalogue import content_hash, release_level
from ledger.domain.catalogue import default_catalogue


def test_levels_and_hash_agree_with_the_domain_catalogue() -> None:
    catalogue = default_catalogue()
    document = catalogue.model_dump(mode="json")
    assert content_hash(document) == catalogue.content_hash()
    for mask in range(1, 1 << 18, 13):
        for raw in (False, True):
            expected = catalogue.max_level(catalogue.categories_in_mask(mask), raw)
            assert release_level(document, mask, raw) == expected, (mask, raw)


def test_a_bit_of_no_category_has_no_level() -> None:
    document = default_catalogue().model_dump(mode="json")
    assert release_level(document, 1 << 40, False) is None
    assert release_level(document, 0, True) == 1
