"""Checking a submission against the catalogue version in force, field by field.

Every error names the field and the rule (`unknown_category`, `required`, `type`,
`uscc.check_char`, `resident_id.birth_date`, `date`, `future_date` ...), all of them at
once, so a provider fixes a record in one round. Identifier fields are normalised
(full-width folded, upper case) so the same code is stored one way only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ledger.domain.catalogue import Catalogue, CatalogueError, FieldError, FieldType
from ledger.domain.identifiers import InvalidIdentifierError, validate_resident_id, validate_uscc
from ledger.records.submission import Submission

__all__ = ["EARLIEST_EVENT", "CheckedRecord", "check_submission"]

EARLIEST_EVENT = date(1900, 1, 1)


@dataclass(frozen=True)
class CheckedRecord:
    """A submission that passed every rule, normalised; warnings are kept with it."""

    category: str
    subject: str
    event_date: date
    severity: str | None
    source_ref: str
    fields: dict[str, Any]
    corrects: int | None
    warnings: tuple[FieldError, ...]

    @property
    def version(self) -> int:
        return 1 if self.corrects is None else self.corrects + 1


def _bad_text(value: Any) -> bool:
    """NUL and unpaired surrogates cannot be stored (PostgreSQL text) or canonicalised."""
    if not isinstance(value, str):
        return False
    if "\x00" in value:
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


#: RFC 8785 numbers are IEEE doubles: integers beyond 2^53 would not survive a round trip
MAX_SAFE_INTEGER = 2**53 - 1


def _outside_canonical_domain(value: Any) -> str | None:
    """Why a (validated, scalar) value has no RFC 8785 form; None when it has one."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return None
    if isinstance(value, int):
        return None if abs(value) <= MAX_SAFE_INTEGER else f"{value} is beyond ±2^53-1; send it as a string"
    if isinstance(value, float):
        return None if math.isfinite(value) else "not a finite number"
    return f"unsupported value of type {type(value).__name__}"


def _event_date(value: str, today: date, errors: list[FieldError]) -> date | None:
    if len(value) != 10 or value[4] != "-" or value[7] != "-":
        errors.append(FieldError("event_date", "type", "expected an ISO date YYYY-MM-DD"))
        return None
    try:
        when = date.fromisoformat(value)
    except ValueError:
        errors.append(FieldError("event_date", "date", f"{value} is not a calendar date"))
        return None
    if when > today + timedelta(days=1):
        errors.append(FieldError("event_date", "future_date", f"{value} is in the future"))
    elif when < EARLIEST_EVENT:
        errors.append(FieldError("event_date", "implausible_date", f"{value} is before {EARLIEST_EVENT}"))
    return when


def check_submission(sub: Submission, catalogue: Catalogue, today: date) -> CheckedRecord | list[FieldError]:
    """The normalised record, or every error in it."""
    errors: list[FieldError] = []
    warnings: list[FieldError] = []

    try:
        category = catalogue.category(sub.category)
    except CatalogueError:
        errors.append(
            FieldError(
                "category", "unknown_category", f"{sub.category!r} is not in catalogue v{catalogue.version}"
            )
        )
        category = None

    subject = sub.subject
    try:
        uscc = validate_uscc(sub.subject, field="subject")
    except InvalidIdentifierError as exc:
        errors.append(FieldError("subject", f"uscc.{exc.rule}", exc.detail))
    else:
        subject = uscc.code
        warnings.extend(FieldError("subject", f"uscc.{w.rule}", w.message) for w in uscc.warnings)

    when = _event_date(sub.event_date, today, errors)

    fields = {k: v for k, v in sub.fields.items() if v is not None}
    for name, value in fields.items():
        if _bad_text(value):
            errors.append(
                FieldError(f"fields.{name}", "text", "contains a NUL character or an unpaired surrogate")
            )

    if category is not None:
        check = catalogue.check_record(category.name, fields, sub.severity)
        for e in check.errors:
            where = e.field if e.field == "severity" else f"fields.{e.field}"
            errors.append(FieldError(where, e.rule, e.message))
        warnings.extend(FieldError(f"fields.{w.field}", w.rule, w.message) for w in check.warnings)

    if not errors:
        for name, value in fields.items():
            problem = _outside_canonical_domain(value)
            if problem:
                errors.append(
                    FieldError(f"fields.{name}", "canonical_json", f"cannot be canonicalised: {problem}")
                )
    if errors or category is None or when is None:
        return errors

    for f in category.fields:  # one spelling per identifier
        value = fields.get(f.name)
        if isinstance(value, str) and f.type is FieldType.USCC:
            fields[f.name] = validate_uscc(value, field=f.name).code
        elif isinstance(value, str) and f.type is FieldType.RESIDENT_ID:
            fields[f.name] = validate_resident_id(value, today, field=f.name).number
    return CheckedRecord(
        category=category.name,
        subject=subject,
        event_date=when,
        severity=sub.severity,
        source_ref=sub.source_ref,
        fields=fields,
        corrects=sub.corrects,
        warnings=tuple(warnings),
    )
