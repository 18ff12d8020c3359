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

__all__ = ["CatalogueChange", "CatalogueDraft", "CatalogueProblem", "catalogue_changes", "catalogue_draft"]

#: the most validation errors a refused upload lists
MAX_PROBLEMS = 20


@dataclass(frozen=True)
class CatalogueChange:
    """One addition: `kind` is category, field or purpose; `category` names the field's category."""

    kind: str
    name: str
    name_zh: str
    name_en: str
    category: str = ""


@dataclass(frozen=True)
class CatalogueProblem:
    """Why the platform would refuse the upload: `code` (the template says it in words) and where.

    Codes: not_json, invalid (the model's own check, `where` its path), version_not_above,
    category_removed, field_removed, purpose_removed, category_changed (bit, public
    disclosure or dishonesty policy), field_changed (type, level, masking …),
    purpose_changed, masking_changed, bit_reused (a new item on a bit published for another).
    """

    code: str
    where: str
    detail: str = ""


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


def catalogue_changes(old: Catalogue, new: Catalogue) -> tuple[list[CatalogueChange], list[CatalogueProblem]]:
    """What `new` adds to `old`, and every way it does more than add (each a refusal)."""
    changes: list[CatalogueChange] = []
    problems: list[CatalogueProblem] = []
    if new.masking != old.masking:
        problems.append(CatalogueProblem("masking_changed", "masking"))
    old_categories = {c.name: c for c in old.categories}
    new_categories = {c.name: c for c in new.categories}
    for name, before in old_categories.items():
        after = new_categories.get(name)
        if after is None:
            problems.append(CatalogueProblem("category_removed", name))
            continue
        if (after.bit, after.public_disclosure, after.dishonesty) != (
            before.bit,
            before.public_disclosure,
            before.dishonesty,
        ):
            problems.append(CatalogueProblem("category_changed", name))
        kept = {f.name: f for f in after.fields}
        for f in before.fields:
            if f.name not in kept:
                problems.append(CatalogueProblem("field_removed", f"{name}.{f.name}"))
            elif kept[f.name] != f:
                problems.append(CatalogueProblem("field_changed", f"{name}.{f.name}"))
        known = {f.name for f in before.fields}
        changes.extend(
            CatalogueChange("field", f.name, f.name_zh, f.name, name)
            for f in after.fields
            if f.name not in known
        )
    old_bits = {c.bit: c.name for c in old.categories}
    for name, added in new_categories.items():
        if name in old_categories:
            continue
        if added.bit in old_bits:
            problems.append(CatalogueProblem("bit_reused", name, f"{added.bit} ({old_bits[added.bit]})"))
        changes.append(CatalogueChange("category", name, added.name_zh, added.name_en))
    old_purposes = {p.name: p for p in old.purposes}
    new_purposes = {p.name: p for p in new.purposes}
    purpose_bits = {p.bit: p.name for p in old.purposes}
    for name, before_purpose in old_purposes.items():
        after_purpose = new_purposes.get(name)
        if after_purpose is None:
            problems.append(CatalogueProblem("purpose_removed", name))
        elif after_purpose.bit != before_purpose.bit:
            problems.append(CatalogueProblem("purpose_changed", name))
    for name, added_purpose in new_purposes.items():
        if name in old_purposes:
            continue
        if added_purpose.bit in purpose_bits:
            problems.append(
                CatalogueProblem(
                    "bit_reused", name, f"{added_purpose.bit} ({purpose_bits[added_purpose.bit]})"
                )
            )
        changes.append(CatalogueChange("purpose", name, added_purpose.name_zh, added_purpose.name_en))
    return changes, problems


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
