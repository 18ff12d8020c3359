"""Records as the evaluation reads them: plain data, whatever store they came from.

`RecordView` is the shape of `ledger.release.reader.CurrentRecord` (the current version
of a record, opened, with its dispute and repair flags), so the release path can hand
its records over unchanged; `PlainRecord` is the same shape for generated data, tests
and files. Conduct facts (`facts.py`) travel in the same shape, their kind as category.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from ledger.evaluation.errors import PortraitError

__all__ = ["PlainRecord", "RecordView", "record_from_json", "record_to_json"]


class RecordView(Protocol):
    """The current version of one record (or fact), its fields opened."""

    @property
    def record_id(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def category(self) -> str: ...
    @property
    def event_date(self) -> date: ...
    @property
    def severity(self) -> str | None: ...
    @property
    def disputed(self) -> bool: ...  # an objection is open: released with the flag
    @property
    def repaired(self) -> bool: ...  # credit repair approved: never shared again
    @property
    def fields(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True, slots=True)
class PlainRecord:
    record_id: str
    category: str
    event_date: date
    fields: Mapping[str, Any] = field(default_factory=dict)
    version: int = 1
    severity: str | None = None
    disputed: bool = False
    repaired: bool = False


def record_to_json(r: RecordView) -> dict[str, Any]:
    return {
        "record_id": r.record_id,
        "version": r.version,
        "category": r.category,
        "event_date": r.event_date.isoformat(),
        "severity": r.severity,
        "disputed": r.disputed,
        "repaired": r.repaired,
        "fields": dict(r.fields),
    }


def record_from_json(data: Mapping[str, Any]) -> PlainRecord:
    """A record from its JSON form (as `record_to_json` writes it); malformed input is named."""
    try:
        record_id, category, fields = data["record_id"], data["category"], data.get("fields", {})
        when = date.fromisoformat(data["event_date"])
        version = data.get("version", 1)
        severity = data.get("severity")
        disputed, repaired = data.get("disputed", False), data.get("repaired", False)
    except (KeyError, TypeError, ValueError) as e:
        raise PortraitError(f"record: {type(e).__name__}: {e}") from e
    checks = (
        ("record_id", isinstance(record_id, str)),
        ("category", isinstance(category, str)),
        ("fields", isinstance(fields, dict)),
        ("version", isinstance(version, int) and not isinstance(version, bool)),
        ("severity", severity is None or isinstance(severity, str)),
        ("disputed", isinstance(disputed, bool)),
        ("repaired", isinstance(repaired, bool)),
    )
    for name, ok in checks:
        if not ok:
            raise PortraitError(f"record {data.get('record_id')!r}: {name} has the wrong type")
    return PlainRecord(record_id, category, when, fields, version, severity, disputed, repaired)
