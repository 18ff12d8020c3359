"""The fields an indicator may read: the catalogue's categories and the conduct facts.

The only module of the evaluation core that reads the catalogue: it turns a catalogue
version into the plain `category -> field -> (type, enum values)` map the indicator
check uses, and adds the conduct facts. An indicator file is checked against the shipped
catalogue version it names (`catalogue_version`: v1 reads catalogue v1, v2 reads v2), so
several indicator files live side by side (`indicator_files()`). A fact kind may not share
a catalogue category's name, or one name would mean two things.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path

from ledger.domain.catalogue import Catalogue, default_catalogue, packaged_catalogues
from ledger.evaluation.errors import IndicatorFileError
from ledger.evaluation.facts import FACTS
from ledger.evaluation.indicator_files import PACKAGED_INDICATORS, IndicatorFiles
from ledger.evaluation.indicators import (
    DEFAULT_INDICATORS,
    FieldSpec,
    IndicatorFile,
    Schema,
    check_against,
    load_indicators,
)

__all__ = [
    "default_indicators",
    "default_schema",
    "indicator_files",
    "load_for",
    "schema_of",
    "shipped_catalogue",
]


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


def shipped_catalogue(version: int) -> Catalogue:
    """The packaged catalogue of `version`: the one an indicator file naming it is checked against."""
    for catalogue in packaged_catalogues():
        if catalogue.version == version:
            return catalogue
    shipped = [c.version for c in packaged_catalogues()]
    raise IndicatorFileError(f"catalogue_version: v{version} is not a shipped catalogue version {shipped}")


def load_for(
    catalogue: Catalogue | None = None, path: str | Path | None = None, *, packaged: str = DEFAULT_INDICATORS
) -> IndicatorFile:
    """An indicator file (None: the packaged file `packaged`) checked against the catalogue
    version it names (`catalogue_version`), or against `catalogue` when given, which must be
    that version."""
    where = str(path) if path is not None else packaged
    indicators = load_indicators(path, packaged=packaged)
    if catalogue is None:
        catalogue = shipped_catalogue(indicators.catalogue_version)
    elif indicators.catalogue_version != catalogue.version:
        written, now = indicators.catalogue_version, catalogue.version
        raise IndicatorFileError(
            f"{where}: catalogue_version: written for catalogue v{written}, checked against v{now}"
        )
    problems = check_against(indicators, schema_of(catalogue))
    if problems:
        raise IndicatorFileError(f"{where}: " + "; ".join(problems))
    return indicators


@cache
def indicator_files() -> IndicatorFiles:
    """Every packaged indicator file, each checked against the catalogue version it names: the
    platform's set, from which a model's document picks its file by hash. Loaded once."""
    return IndicatorFiles(
        default_indicators() if name == DEFAULT_INDICATORS else load_for(packaged=name)
        for name in PACKAGED_INDICATORS
    )


@cache
def default_indicators() -> IndicatorFile:
    """Indicator file v1, checked against catalogue v1, loaded once."""
    return load_for()
