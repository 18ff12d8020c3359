"""The verifier's own sensitivity levels agree with the catalogue's, and its content hash."""

from __future__ import annotations

import os

from ledger.audit.catalogue import content_hash, release_level
from ledger.domain.catalogue import default_catalogue

# Every single category, then a spread of masks: about 20,000 of the 2^18 in the full run,
# about 330 under mutation testing (`scripts/mutation`), where it runs once per mutant.
_STEP = 797 if os.environ.get("LEDGER_MUTATION") else 13
_MASKS = [*(1 << bit for bit in range(18)), *range(1, 1 << 18, _STEP)]


def test_levels_and_hash_agree_with_the_domain_catalogue() -> None:
    catalogue = default_catalogue()
    document = catalogue.model_dump(mode="json")
    assert content_hash(document) == catalogue.content_hash()
    for mask in _MASKS:
        for raw in (False, True):
            expected = catalogue.max_level(catalogue.categories_in_mask(mask), raw)
            assert release_level(document, mask, raw) == expected, (mask, raw)


def test_a_bit_of_no_category_has_no_level() -> None:
    document = default_catalogue().model_dump(mode="json")
    assert release_level(document, 1 << 40, False) is None
    assert release_level(document, 0, True) == 1
