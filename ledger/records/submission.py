"""What a data provider submits, and reading it from JSON or NDJSON without trusting it.

A bulk body is newline-delimited JSON, one record a line, so it is parsed one line at a
time and every problem is reported with its line number; a line that is not even JSON
becomes an error of that line, never a failure of the request.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from ledger.domain.catalogue import FieldError
from ledger.errors import InvalidInput

__all__ = [
    "MAX_SOURCE_REF",
    "Mode",
    "Submission",
    "TooManyRecords",
    "iter_ndjson",
    "parse_submission",
    "parse_submission_bytes",
]

MAX_SOURCE_REF = 200
_NO_CONTROL = r"^[^\x00-\x1f\x7f]+$"


class Mode(StrEnum):
    """What a bulk submission does when some records are rejected."""

    ALL_OR_NOTHING = "all_or_nothing"  # store nothing, list the rejected ones
    ACCEPT_VALID = "accept_valid"  # store the valid ones, list the rejected ones


class TooManyRecords(InvalidInput):
    """A bulk body holds more records than one request may (HTTP 413)."""

    code = "too_many_records"


class Submission(BaseModel):
    """One record as submitted. `corrects` names the version a correction replaces."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    category: Annotated[StrictStr, Field(min_length=1, max_length=64)]
    subject: Annotated[StrictStr, Field(min_length=1, max_length=64, description="the enterprise's USCC")]
    event_date: Annotated[StrictStr, Field(min_length=1, max_length=32, description="YYYY-MM-DD")]
    source_ref: Annotated[StrictStr, Field(min_length=1, max_length=MAX_SOURCE_REF, pattern=_NO_CONTROL)]
    severity: Annotated[StrictStr | None, Field(max_length=32)] = None
    fields: dict[str, Any]
    corrects: Annotated[StrictInt | None, Field(ge=1, le=1_000_000)] = None


def _errors(exc: ValidationError) -> list[FieldError]:
    out: list[FieldError] = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "record"
        rule = str(err["type"])
        if rule == "json_invalid":
            rule = "json"
        elif rule == "model_type" and where == "record":
            rule = "json_object"
        out.append(FieldError(where, rule, str(err["msg"])))
    return out


def parse_submission(value: object) -> Submission | list[FieldError]:
    """A `Submission`, or the errors that make `value` not one."""
    if not isinstance(value, dict):
        return [FieldError("record", "json_object", f"expected a JSON object, got {type(value).__name__}")]
    try:
        return Submission.model_validate(value)
    except ValidationError as exc:
        return _errors(exc)


def parse_submission_bytes(raw: bytes) -> Submission | list[FieldError]:
    """Parse one JSON record with pydantic's parser, which bounds nesting depth.

    Not `json.loads`: the web3 stack (py_ecc) raises the interpreter's recursion limit
    to 100,000 at import, and the C decoder then overflows the C stack on a deeply
    nested body instead of raising RecursionError - a crash, not an error.
    """
    try:
        return Submission.model_validate_json(raw)
    except ValidationError as exc:
        return _errors(exc)


def iter_ndjson(body: bytes, max_records: int) -> Iterator[tuple[int, Submission | list[FieldError]]]:
    """(line number, submission or its errors) for every non-blank line of an NDJSON body.

    Raises `TooManyRecords` as soon as the count exceeds `max_records`, before the
    excess is parsed.
    """
    count = 0
    start = 0
    line = 0
    size = len(body)
    while start < size:
        end = body.find(b"\n", start)
        if end < 0:
            end = size
        line += 1
        raw = body[start:end].strip()
        start = end + 1
        if not raw:
            continue
        count += 1
        if count > max_records:
            raise TooManyRecords(f"a bulk submission may hold at most {max_records} records")
        yield line, parse_submission_bytes(raw)
