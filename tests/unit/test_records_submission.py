"""Reading submissions: NDJSON line by line, every problem with its line."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.catalogue import FieldError, default_catalogue
from ledger.domain.identifiers import organization_code_check_char, uscc_check_char
from ledger.records.samples import sample_record, sample_resident_id, sample_uscc
from ledger.records.submission import Submission, TooManyRecords, iter_ndjson, parse_submission_bytes
from ledger.records.validation import CheckedRecord, check_submission

TODAY = date(2026, 11, 26)


def test_ndjson_lines_blank_lines_and_errors() -> None:
    body = b'{"a": 1}\n\n  \n[1,2]\n{bad\nNaN\n{"category": "tax"}'
    parsed = list(iter_ndjson(body, 10))
    assert [line for line, _ in parsed] == [1, 4, 5, 6, 7]
    rules = [item[0].rule if isinstance(item, list) else "ok" for _, item in parsed]
    assert rules == ["missing", "json_object", "json", "json_object", "missing"]


def test_too_many_records_stops_before_parsing_the_excess() -> None:
    lines = iter_ndjson(b"{}\n" * 5, 3)
    assert len([next(lines) for _ in range(3)]) == 3
    with pytest.raises(TooManyRecords):
        next(lines)


def test_deep_nesting_is_an_error_of_its_line() -> None:
    assert parse_submission_bytes(b"[" * 100_000 + b"]" * 100_000)[0].rule == "json"  # type: ignore[index]


def test_non_utf8_and_non_finite_numbers_are_refused() -> None:
    assert parse_submission_bytes(b'{"x": "\xff"}')[0].rule == "json"  # type: ignore[index]
    record = {**sample_record(1), "fields": {**sample_record(1)["fields"], "amount": float("inf")}}
    checked = _check(record)
    assert not isinstance(checked, CheckedRecord) and checked[0].rule == "type"


def _check(record: dict[str, Any]) -> CheckedRecord | list[FieldError]:
    sub = Submission.model_validate(record)
    return check_submission(sub, default_catalogue(), TODAY)


def test_identifiers_are_normalised() -> None:
    record = sample_record(1)
    record["subject"] = record["subject"].lower()
    record["fields"]["legal_representative_id"] = "11010519491231002x"
    checked = _check(record)
    assert isinstance(checked, CheckedRecord)
    assert checked.subject == sample_uscc(0)
    assert checked.fields["legal_representative_id"] == "11010519491231002X"


def test_organization_code_warning_is_kept() -> None:
    record = sample_record(2)
    wrong = "0" if organization_code_check_char("12345678") != "0" else "1"
    body = "91350100" + "12345678" + wrong  # the embedded organization code fails its own check
    record["subject"] = body + uscc_check_char(body)
    checked = _check(record)
    assert isinstance(checked, CheckedRecord)
    assert [w.rule for w in checked.warnings] == ["uscc.organization_code_check"]


@given(n=st.integers(0, 10**6))
def test_property_samples_are_valid(n: int) -> None:
    assert isinstance(_check(sample_record(n)), CheckedRecord)


@given(n=st.integers(0, 10**6), digit=st.integers(0, 9))
def test_property_a_changed_id_digit_is_caught(n: int, digit: int) -> None:
    record = sample_record(3 * n + 1)  # administrative penalty, with an ID number
    number = sample_resident_id(3 * n + 1)
    changed = number[:16] + str(digit) + number[17]
    record["fields"]["legal_representative_id"] = changed
    result = _check(record)
    if changed == number:
        assert isinstance(result, CheckedRecord)
    else:
        assert not isinstance(result, CheckedRecord)
        assert result[0].rule == "resident_id.check_char"
