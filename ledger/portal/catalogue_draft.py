"""A catalogue version as an operator uploads it on the catalogue page, checked before it is signed.

`catalogue_draft` reads the uploaded JSON, validates it as `Catalogue` (the very model
`POST /catalogue/versions` validates with) and compares it with the version in force:
what it adds (categories, fields, purposes), in words the page shows, or why it would be
refused. Each version only adds to the one before: a category, field or purpose of the
version in force must stay as it is (same bit, same definition), so that a grant or an
agreement signed under an earlier version never covers other data, and records of every
version read the same under the newest (README "Catalogue"). A draft that passes is
answered in its RFC 8785 form, which the browser hashes itself, signs (`PublishCatalogue`)
and sends to the API, where it is checked again and anchored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import rfc8785
from pydantic import ValidationError

from ledger.domain.catalogue import Catalogue
from ledger.domain.catalogue_versions import CatalogueChange, CatalogueProblem, catalogue_changes

__all__ = ["CatalogueChange", "CatalogueDraft", "CatalogueProblem", "catalogue_changes", "catalogue_draft"]

#: the most validation errors a refused upload lists
MAX_PROBLEMS = 20


@dataclass(frozen=True)
class CatalogueDraft:
    """The upload checked against the version in force: what it adds, or what refuses it."""

    current_version: int
    catalogue: Catalogue | None = None
    canonical: str = ""
    public_mask: int = 0
    changes: list[CatalogueChange] = field(default_factory=list)
    problems: list[CatalogueProblem] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        return bool(self.problems) or self.catalogue is None


def _parse(text: str) -> Catalogue | list[CatalogueProblem]:
    try:
        document = json.loads(text)
    except ValueError as exc:
        return [CatalogueProblem("not_json", "", str(exc))]
    if not isinstance(document, dict):
        return [CatalogueProblem("not_json", "", "the file holds no JSON object")]
    try:
        return Catalogue.model_validate(document)
    except ValidationError as exc:
        return [
            CatalogueProblem("invalid", ".".join(map(str, e["loc"])) or "catalogue", e["msg"])
            for e in exc.errors()[:MAX_PROBLEMS]
        ]


def catalogue_draft(text: str, current: Catalogue) -> CatalogueDraft:
    """The uploaded catalogue `text` checked against `current`, the version in force."""
    parsed = _parse(text)
    if isinstance(parsed, list):
        return CatalogueDraft(current.version, problems=parsed)
    problems: list[CatalogueProblem] = []
    if parsed.version <= current.version:
        problems.append(
            CatalogueProblem("version_not_above", "version", f"{parsed.version} ≤ {current.version}")
        )
    changes, incompatible = catalogue_changes(current, parsed)
    problems.extend(incompatible)
    canonical = rfc8785.dumps(parsed.model_dump(mode="json")).decode()
    return CatalogueDraft(current.version, parsed, canonical, parsed.public_mask(), changes, problems)
