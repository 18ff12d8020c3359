"""The export format: what the platform writes is what the verifier reads, line errors named."""

from __future__ import annotations

import json

import pytest

from ledger.audit.errors import ExportFormatError
from ledger.audit.export import (
    ExportedEntry,
    ExportHeader,
    Opening,
    Refusal,
    StoredVersion,
    entry_line,
    header_line,
    parse_lines,
    record_line,
    refusal_line,
)

HEADER = ExportHeader(
    31337, {"Consents": "0x" + "11" * 20}, 1, "2025-01-01T00:00:00+00:00", {"a": 2}, True, True
)
VERSION = StoredVersion(
    "r-1", 1, 0, b"\x01" * 32, b"\x02" * 32, Opening(b"\x03" * 32, {"record_id": "r-1", "版本": 1})
)
REFUSAL = Refusal("2025-01-01T00:00:00+00:00", None, "release", "refused", "NO_COVERING_GRANT")


def test_round_trip() -> None:
    lines = [
        header_line(HEADER),
        entry_line("a", 0, b"{}"),
        entry_line("a", 1, b"\x00\xff"),
        record_line(VERSION),
        refusal_line(REFUSAL),
        "",
    ]
    export = parse_lines(lines)
    assert export.header == HEADER
    assert export.entries == {"a": [ExportedEntry("a", 0, b"{}"), ExportedEntry("a", 1, b"\x00\xff")]}
    assert export.records == [VERSION]
    assert export.refusals == [REFUSAL]


def test_entry_lines_in_another_form_read_the_same() -> None:
    fast = parse_lines([entry_line("a", 5, b"xyz")])
    slow = parse_lines(
        [
            json.dumps({"seq": 5, "leaf": "eHl6", "log": "a"}),
            json.dumps({"log": "a", "seq": 6, "leaf_hex": "0x78"}),
        ]
    )
    assert fast.entries["a"][0] == slow.entries["a"][0]
    assert slow.entries["a"][1] == ExportedEntry("a", 6, b"x")


@pytest.mark.parametrize(
    "line, message",
    [
        ("not json", "line 2: not a JSON object"),
        ('{"log":"a","seq":-1,"leaf":""}', "line 2: seq"),
        ('{"log":"a","seq":1,"leaf":"!!"}', "line 2: leaf: not base64"),
        ('{"log":"a","seq":1}', "line 2: entry without leaf"),
        (
            '{"record":{"record_id":"x","version":1,"log_seq":0,"commitment":"0x01","leaf_hash":"0x"}}',
            "commitment",
        ),
        ('{"format":"other/1"}', "format"),
        ('{"what":1}', "unknown line kind"),
    ],
)
def test_malformed_lines_are_named(line: str, message: str) -> None:
    with pytest.raises(ExportFormatError, match=message):
        parse_lines([entry_line("a", 0, b""), line])


def test_a_second_header_is_refused() -> None:
    with pytest.raises(ExportFormatError, match="second header"):
        parse_lines([header_line(HEADER), header_line(HEADER)])
