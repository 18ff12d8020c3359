"""Names, not bitmasks: categories, purposes and fields in the reader's language.

The chain and the access trail hold categories and purposes as bit masks; a person
reads names. The catalogue gives each category and purpose a Chinese and an English
name (`name_zh`, `name_en`), so the words come from the catalogue in force, never from
a table of our own; a mask's names come from `Catalogue.names_in_mask` (with a locale).
A field has only its Chinese name in the catalogue; its English name is the portal's
translation (`api.portal.i18n.field_name`), handed in as `FieldName`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ledger.domain.catalogue import (
    Catalogue,
    CatalogueError,
    Category,
    Field,
    Purpose,
    is_chinese,
    localized_name,
)

__all__ = [
    "Choice",
    "FieldName",
    "FieldValue",
    "Kind",
    "chinese_field_name",
    "field_labels",
    "join_labels",
    "mask_choices",
    "named_labels",
]

Kind = Literal["categories", "purposes"]
#: a catalogue field's name in the reader's language
FieldName = Callable[[Field], str]
#: a value of a catalogue field (of a category, by name) as the reader reads it
FieldValue = Callable[[str, Field, Any], Any]


@dataclass(frozen=True)
class Choice:
    """One category or purpose offered in a form: its catalogue name, bit and label."""

    name: str
    bit: int
    label: str

    @property
    def mask(self) -> int:
        return 1 << self.bit


def _items(catalogue: Catalogue, kind: Kind) -> Sequence[Category | Purpose]:
    return catalogue.categories if kind == "categories" else catalogue.purposes


def named_labels(catalogue: Catalogue, names: Iterable[str], kind: Kind, locale: str) -> list[str]:
    """Labels of catalogue names (as alerts carry them); an unknown name is shown as it is."""
    by_name = {item.name: localized_name(item, locale) for item in _items(catalogue, kind)}
    return [by_name.get(name, name) for name in names]


def mask_choices(catalogue: Catalogue, mask: int, kind: Kind, locale: str) -> list[Choice]:
    """The catalogue's categories or purposes whose bits `mask` sets, as form choices."""
    return [
        Choice(item.name, item.bit, localized_name(item, locale))
        for item in sorted(_items(catalogue, kind), key=lambda i: i.bit)
        if mask >> item.bit & 1
    ]


def chinese_field_name(field: Field) -> str:
    """A field's name as the catalogue gives it (in Chinese)."""
    return field.name_zh


def field_labels(
    catalogue: Catalogue,
    category: str,
    fields: Mapping[str, Any],
    field_name: FieldName,
    field_value: FieldValue | None = None,
) -> list[tuple[str, Any]]:
    """A record's fields as (label, value), each named by `field_name` and its value said by
    `field_value` (as it is without one); a field the category does not define is kept as it is."""
    try:
        known = {f.name: f for f in catalogue.category(category).fields}
    except CatalogueError:
        known = {}
    said = field_value or (lambda _category, _field, value: value)
    return [
        (field_name(known[name]), said(category, known[name], value)) if name in known else (name, value)
        for name, value in fields.items()
    ]


def join_labels(labels: Sequence[str], locale: str) -> str:
    """Labels as one phrase: "、" between Chinese names, ", " between English ones; "—" for none."""
    if not labels:
        return "—"
    return ("、" if is_chinese(locale) else ", ").join(labels)
