"""What one catalogue version does to the one before: what it adds, and every way it does more.

Each version only adds to the one before: a category, field or purpose once published stays
as it is (same bit, same definition) and the masking policy with it, so that a grant or an
agreement signed under an earlier version never covers other data and records of every
version read the same under the newest (README "Catalogue"). `catalogue_changes` says both
what a version adds (the portal shows it in words before the operator signs) and what it
would break (the portal and `POST /catalogue/versions` refuse it).
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.domain.catalogue import Catalogue

__all__ = ["CatalogueChange", "CatalogueProblem", "catalogue_changes"]


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
