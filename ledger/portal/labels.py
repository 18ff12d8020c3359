"""Names, not bitmasks: categories and purposes in the reader's language.

The chain and the access trail hold categories and purposes as bit masks; a person
reads names. The catalogue gives each category and purpose a Chinese and an English
name (`name_zh`, `name_en`), so the words come from the catalogue in force, never from
a table of our own. A bit the catalogue does not name is shown as such ("#5"), not
hidden: a mask that names unknown data is itself worth seeing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from ledger.domain.catalogue import Catalogue, CatalogueError

__all__ = [
    "Choice",
    "Kind",
    "Named",
    "field_labels",
    "is_chinese",
    "join_labels",
    "localized",
    "mask_choices",
    "mask_labels",
    "named_labels",
]

Kind = Literal["categories", "purposes"]


class Named(Protocol):
    """A catalogue category or purpose (or the catalogue itself): its names in both languages."""

    @property
    def name_zh(self) -> str: ...
    @property
    def name_en(self) -> str: ...


class BitNamed(Named, Protocol):
    @property
    def name(self) -> str: ...
    @property
    def bit(self) -> int: ...


class CatalogueNames(Protocol):
    @property
    def categories(self) -> Sequence[BitNamed]: ...
    @property
    def purposes(self) -> Sequence[BitNamed]: ...


@dataclass(frozen=True)
class Choice:
    """One category or purpose offered in a form: its catalogue name, bit and label."""

    name: str
    bit: int
    label: str

    @property
    def mask(self) -> int:
        return 1 << self.bit


def is_chinese(locale: str) -> bool:
    """Whether `locale` (as the portal negotiates it: "zh-CN", "zh", "en" …) reads Chinese."""
    return locale.lower().startswith("zh")


def localized(item: Named, locale: str) -> str:
    """The catalogue's own name of `item` in `locale`'s language."""
    return item.name_zh if is_chinese(locale) else item.name_en


def _items(catalogue: CatalogueNames, kind: Kind) -> Sequence[BitNamed]:
    return catalogue.categories if kind == "categories" else catalogue.purposes


def mask_labels(catalogue: CatalogueNames, mask: int, kind: Kind, locale: str) -> list[str]:
    """The names of the bits set in `mask`, lowest bit first; an unnamed bit as "#bit"."""
    by_bit = {item.bit: localized(item, locale) for item in _items(catalogue, kind)}
    return [by_bit.get(bit, f"#{bit}") for bit in range(mask.bit_length()) if mask >> bit & 1]


def named_labels(catalogue: CatalogueNames, names: Iterable[str], kind: Kind, locale: str) -> list[str]:
    """Labels of catalogue names (as alerts carry them); an unknown name is shown as it is."""
    by_name = {item.name: localized(item, locale) for item in _items(catalogue, kind)}
    return [by_name.get(name, name) for name in names]


def mask_choices(catalogue: CatalogueNames, mask: int, kind: Kind, locale: str) -> list[Choice]:
    """The catalogue's categories or purposes whose bits `mask` sets, as form choices."""
    return [
        Choice(item.name, item.bit, localized(item, locale))
        for item in sorted(_items(catalogue, kind), key=lambda i: i.bit)
        if mask >> item.bit & 1
    ]


def field_labels(
    catalogue: Catalogue, category: str, fields: Mapping[str, Any], locale: str
) -> list[tuple[str, Any]]:
    """A record's fields as (label, value): the catalogue's Chinese field name in Chinese, the
    field's own name otherwise (the catalogue gives fields no English name)."""
    try:
        known = {f.name: f.name_zh for f in catalogue.category(category).fields}
    except CatalogueError:
        known = {}
    chinese = is_chinese(locale)
    return [(known.get(name, name) if chinese else name, value) for name, value in fields.items()]


def join_labels(labels: Sequence[str], locale: str) -> str:
    """Labels as one phrase: "、" between Chinese names, ", " between English ones; "—" for none."""
    if not labels:
        return "—"
    return ("、" if is_chinese(locale) else ", ").join(labels)
