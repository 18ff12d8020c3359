"""The catalogue as data: its on-chain identity, and the sensitivity level of a release.

The authorization check is asked at a sensitivity level (`authorize(..., level)`), which
the release path derives from the catalogue: the highest level among the fields of the
requested categories, as released (raw, or masked per the catalogue's masking rules;
fields never released do not count). A platform that understated the level could pass
an agreement's maximum with data above it, so the verifier recomputes it (step 4.8)
from the catalogue in force at block B, identified by the content hash its
`CataloguePublished` event anchored: SHA-256 of the RFC 8785 form of the catalogue
document. Re-stated from domain-rules.md and the catalogue's field documentation, not
imported from `ledger.domain`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import rfc8785

__all__ = ["content_hash", "release_level"]

_PUBLIC = "public"
_NEVER = "never"


def content_hash(document: Mapping[str, Any]) -> bytes:
    """SHA-256 of the RFC 8785 canonical JSON of the whole catalogue document."""
    return hashlib.sha256(rfc8785.dumps(dict(document))).digest()


def release_level(document: Mapping[str, Any], categories: int, raw: bool) -> int | None:
    """The level a release of `categories` exposes (1 for none); None if a bit names no category.

    A field's value carries its own level when released raw or when its masking rule is
    `public`; masked, it carries the lower of its level and the rule's `masked_levels`.
    Fields whose rule is `never` are not released.
    """
    masked_levels: Mapping[str, int] = document["masking"]["masked_levels"]
    by_bit = {int(c["bit"]): c for c in document["categories"]}
    level = 1
    bit = 0
    while categories >> bit:
        if categories >> bit & 1:
            category = by_bit.get(bit)
            if category is None:
                return None
            for f in category["fields"]:
                rule = f["masking"]
                if rule == _NEVER:
                    continue
                own = int(f["level"])
                level = max(level, own if raw or rule == _PUBLIC else min(own, int(masked_levels[rule])))
        bit += 1
    return level
