"""Cohort files: portraits (and labels) of many enterprises, one JSON object per line.

The first line describes the cohort (`{"kind": "cohort", ...}`; for a generated one,
`"synthetic": true`, the generator, its version and seed); every other line is one
enterprise: `{"kind": "enterprise", "subject", "values", "insufficient", "default"}`,
`default` being absent when the outcome is unknown, and `records` present when asked
for. `credit-ledger model synth` writes them; `train` and `monitor` read them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ledger.evaluation.errors import PortraitError
from ledger.evaluation.records import record_to_json
from ledger.evaluation.synthetic import Labelled

__all__ = ["CohortEntry", "CohortFile", "read_cohort", "write_cohort"]


@dataclass(frozen=True, slots=True)
class CohortEntry:
    subject: str
    values: dict[str, float | None]
    insufficient: tuple[str, ...]
    default: int | None


@dataclass(frozen=True)
class CohortFile:
    header: dict[str, Any]
    entries: tuple[CohortEntry, ...]

    @property
    def synthetic(self) -> bool:
        return self.header.get("synthetic") is True


def write_cohort(
    out: IO[str], header: dict[str, Any], entries: Iterable[Labelled], *, records: bool = False
) -> int:
    """Write the header and one line per enterprise (with its records if asked); the count."""
    out.write(json.dumps({"kind": "cohort", **header}, ensure_ascii=False) + "\n")
    n = 0
    for labelled in entries:
        line: dict[str, Any] = {
            "kind": "enterprise",
            "subject": labelled.subject,
            "values": dict(labelled.portrait.values),
            "insufficient": list(labelled.portrait.insufficient),
            "default": labelled.default,
        }
        if records:
            line["records"] = [record_to_json(r) for r in labelled.enterprise.records]
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
        n += 1
    return n


def _lines(path: Path) -> Iterator[tuple[int, Any]]:
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    yield number, json.loads(line)
                except ValueError as e:
                    raise PortraitError(f"{path}:{number}: not JSON: {e}") from e


def read_cohort(path: str | Path) -> CohortFile:
    """Read a cohort file; a malformed line is refused with its number and field."""
    path = Path(path)
    header: dict[str, Any] | None = None
    entries: list[CohortEntry] = []
    try:
        lines = _lines(path)
        for number, item in lines:
            where = f"{path}:{number}"
            if not isinstance(item, dict):
                raise PortraitError(f"{where}: not a JSON object")
            if header is None:
                if item.get("kind") != "cohort":
                    raise PortraitError(
                        f'{where}: the first line must be the cohort header ("kind": "cohort")'
                    )
                header = item
                continue
            entries.append(_entry(item, where))
    except OSError as e:
        raise PortraitError(f"{path}: {e}") from e
    if header is None:
        raise PortraitError(f"{path}: empty")
    return CohortFile(header, tuple(entries))


def _entry(item: dict[str, Any], where: str) -> CohortEntry:
    if item.get("kind") != "enterprise":
        raise PortraitError(f'{where}.kind: expected "enterprise"')
    subject, values = item.get("subject"), item.get("values")
    insufficient, default = item.get("insufficient", []), item.get("default")
    if not isinstance(subject, str):
        raise PortraitError(f"{where}.subject: expected a string")
    if not isinstance(values, dict):
        raise PortraitError(f"{where}.values: expected an object of indicator values")
    for key, value in values.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise PortraitError(f"{where}.values.{key}: expected a number or null")
    if not isinstance(insufficient, list) or not all(isinstance(d, str) for d in insufficient):
        raise PortraitError(f"{where}.insufficient: expected a list of dimension ids")
    if default not in (None, 0, 1) or isinstance(default, bool):
        raise PortraitError(f"{where}.default: expected 0, 1 or absent")
    return CohortEntry(
        subject,
        {k: None if v is None else float(v) for k, v in values.items()},
        tuple(insufficient),
        default,
    )
