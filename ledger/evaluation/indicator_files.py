"""Several indicator files at once, each known by its hash: the one a model names is the one read.

The platform ships every indicator file version (`indicators-v1.json`, `indicators-v2.json`
beside this module) and keeps them all: a model document names the version and the
SHA-256 of the file it was trained on (`ModelDocument.indicator_file`), that document's
hash is anchored on chain in the `ModelRegistry` with the version number, so an approved
model fixes its indicator file, and a v1 model keeps being evaluated, and recomputed by the
auditor, under v1 after v2 ships.

Like catalogue versions, each version only adds: version n+1 keeps every dimension and
indicator of version n exactly as it was (so a portrait's v1 indicators have the same values
under v2) and reads a catalogue version no older. `IndicatorFiles` refuses a set that breaks
this, and an unknown hash with the hashes it holds named.

This module checks no catalogue: `schema.indicator_files()` builds the platform's set with
each file checked against the catalogue version it names; the auditor builds its own with
`packaged()` and holds each to the hash the model names.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import pairwise

from ledger.evaluation.errors import IndicatorFileError
from ledger.evaluation.indicators import IndicatorFile, load_indicators

__all__ = ["PACKAGED_INDICATORS", "IndicatorFiles", "UnknownIndicatorFile", "additions"]

#: every indicator file version shipped, oldest first
PACKAGED_INDICATORS = ("indicators-v1.json", "indicators-v2.json")


class UnknownIndicatorFile(IndicatorFileError):
    """A hash (or version) naming no indicator file held here."""

    code = "indicator_file_unknown"


def additions(older: IndicatorFile, newer: IndicatorFile) -> list[str]:
    """Every way `newer` does more than add to `older` (empty: it only adds)."""
    problems: list[str] = []
    if newer.version != older.version + 1:
        problems.append(f"version: v{newer.version} does not follow v{older.version}")
    if newer.catalogue_version < older.catalogue_version:
        problems.append(
            f"catalogue_version: v{newer.version} reads catalogue v{newer.catalogue_version}, "
            f"older than v{older.version}'s v{older.catalogue_version}"
        )
    for what, old, new in (
        ("dimension", {d.id: d for d in older.dimensions}, {d.id: d for d in newer.dimensions}),
        ("indicator", {i.id: i for i in older.indicators}, {i.id: i for i in newer.indicators}),
    ):
        for key, item in old.items():
            if key not in new:
                problems.append(f"{what} {key}: in v{older.version}, dropped in v{newer.version}")
            elif new[key] != item:
                problems.append(f"{what} {key}: changed from v{older.version} to v{newer.version}")
    return problems


class IndicatorFiles:
    """Indicator files by SHA-256 (hex); versions consecutive from 1, each only adding."""

    def __init__(self, files: Iterable[IndicatorFile]) -> None:
        ordered = sorted(files, key=lambda f: f.version)
        if not ordered:
            raise IndicatorFileError("no indicator file")
        if ordered[0].version != 1:
            raise IndicatorFileError(f"version: the first indicator file is v{ordered[0].version}, not v1")
        problems = [p for older, newer in pairwise(ordered) for p in additions(older, newer)]
        if problems:
            raise IndicatorFileError("indicator files: " + "; ".join(problems))
        self._by_version = {f.version: f for f in ordered}
        self._by_hash = {f.content_hash().hex(): f for f in ordered}

    @classmethod
    def packaged(cls) -> IndicatorFiles:
        """Every shipped version, validated on its own (no catalogue check: the auditor's set)."""
        return cls(load_indicators(packaged=name) for name in PACKAGED_INDICATORS)

    def __iter__(self) -> Iterator[IndicatorFile]:
        return iter(self._by_version.values())

    def __len__(self) -> int:
        return len(self._by_version)

    def held(self) -> str:
        """The versions and hashes held, for messages: `v1 e26000f7d029…, v2 …`."""
        return ", ".join(f"v{v} {f.content_hash().hex()[:12]}…" for v, f in self._by_version.items())

    def by_hash(self, sha256: str) -> IndicatorFile:
        """The file hashing to `sha256` (hex); `UnknownIndicatorFile` naming those held if none."""
        found = self._by_hash.get(sha256.lower().removeprefix("0x"))
        if found is None:
            raise UnknownIndicatorFile(
                f"indicator_file.sha256: no indicator file {sha256[:12]}… is held here (held: {self.held()})"
            )
        return found

    def named(self, version: int, sha256: str) -> IndicatorFile:
        """The file a model names by version and hash; both must agree."""
        found = self.by_hash(sha256)
        if found.version != version:
            raise UnknownIndicatorFile(
                f"indicator_file.version: {sha256[:12]}… is indicator file v{found.version}, not v{version}"
            )
        return found

    def version(self, version: int) -> IndicatorFile:
        found = self._by_version.get(version)
        if found is None:
            raise UnknownIndicatorFile(
                f"indicator_file.version: no v{version} is held here (held: {self.held()})"
            )
        return found

    def newest(self) -> IndicatorFile:
        return self._by_version[max(self._by_version)]

    def categories(self) -> frozenset[str]:
        """Every category some held file reads."""
        return frozenset(c for f in self for c in f.categories())
