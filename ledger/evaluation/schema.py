"""The fields an indicator may read: the catalogue's categories and the conduct facts.

The only module of the evaluation core that reads the catalogue: it turns a catalogue
version into the plain `category -> field -> (type, enum values)` map the indicator
check uses, and adds the conduct facts. A fact kind may not share a catalogue
category's name, or one name would mean two things.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path

from ledger.domain.catalogue import Catalogue, default_catalogue
from ledger.evaluation.errors import IndicatorFileError
from ledger.evaluation.facts import FACTS
from ledger.evaluation.indicators import FieldSpec, IndicatorFile, Schema, load_indicators

__all__ = ["default_indicators", "default_schema", "load_for", "schema_of"]


def schema_of(catalogue: Catalogue) -> Schema:
    """The catalogue's fields plus the conduct facts'."""
    schema: dict[str, Mapping[str, FieldSpec]] = {
        c.name: {f.name: FieldSpec(f.type.value, f.enum_values) for f in c.fields}
        for c in catalogue.categories
    }
    clash = sorted(set(schema) & set(FACTS))
    if clash:
        raise IndicatorFileError(
            f"catalogue v{catalogue.version} has categories named like conduct facts: {clash}"
        )
    schema.update(FACTS)
    return schema


@cache
def default_schema() -> Schema:
    return schema_of(default_catalogue())


def load_for(catalogue: Catalogue, path: str | Path | None = None) -> IndicatorFile:
    """An indicator file (None: the packaged one) checked against `catalogue`, version included."""
    indicators = load_indicators(path, schema_of(catalogue))
    if indicators.catalogue_version != catalogue.version:
        where, written, now = path or "indicator file", indicators.catalogue_version, catalogue.version
        raise IndicatorFileError(
            f"{where}: catalogue_version: written for catalogue v{written}, checked against v{now}"
        )
    return indicators


@cache
def default_indicators() -> IndicatorFile:
    """The packaged indicator file, checked against the packaged catalogue, loaded once."""
    return load_for(default_catalogue())
