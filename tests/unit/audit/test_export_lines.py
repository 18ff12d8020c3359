"""Every line kind of the export: written as documented, read back, and each malformed field named.

`test_export_format.py` holds the round trip; here each field of each kind is broken on its
own, and the reader must refuse the export naming that field and the line it is on.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ledger.audit.errors import ExportFormatError
from ledger.audit.export import (
    EXPORT_FORMAT,
    AuditExport,
    CatalogueDocument,
    EvaluationModelDocument,
    ExportedEntry,
    ExportHeader,
    Opening,
    Refusal,
    StoredVersion,
    catalogue_line,
    entry_line,
    evaluation_model_line,
    header_line,
    parse_header,
    parse_lines,
    read_export,
    record_line,
    refusal_line,
)

HEADER = ExportHeader(7, {"Consents": "0xAb"}, 3, "2025-02-03T04:05:06Z", {"a": 1, "b": 0}, False, False)
VERSION = StoredVersion("r-1", 2, 5, b"\x01" * 32, b"\x02" * 32)


def test_each_line_kind_is_written_as_documented() -> None:
    assert json.loads(header_line(HEADER)) == {
        "format": EXPORT_FORMAT,
        "chain_id": 7,
        "contracts": {"Consents": "0xAb"},
        "deployment_block": 3,
        "exported_at": "2025-02-03T04:05:06Z",
        "logs": {"a": 1, "b": 0},
        "records": False,
        "openings": False,
    }
    assert EXPORT_FORMAT == "credit-ledger/audit-export/1"
    assert entry_line("access-trail", 3, b"\x00\x01") == '{"log":"access-trail","seq":3,"leaf":"AAE="}'
    assert json.loads(record_line(VERSION)) == {
        "record": {
            "record_id": "r-1",
            "version": 2,
            "log_seq": 5,
            "commitment": "0x" + "01" * 32,
            "leaf_hash": "0x" + "02" * 32,
        }
    }
    opened = StoredVersion("r-1", 2, 5, b"\x01" * 32, b"\x02" * 32, Opening(b"\xff", {"名": "值"}))
    assert record_line(opened).endswith(',"opening":{"salt":"/w==","document":{"名":"值"}}}')
    assert (
        catalogue_line(CatalogueDocument(4, {"k": [1]})) == '{"catalogue":{"version":4,"document":{"k":[1]}}}'
    )
    refusal = Refusal("t", "0xA", "release", "refused", None)
    assert json.loads(refusal_line(refusal)) == {
        "audit_event": {"at": "t", "actor": "0xA", "event": "release", "outcome": "refused", "detail": None}
    }


def test_every_kind_reads_back_and_the_records_flag_follows_header_or_content() -> None:
    catalogue = CatalogueDocument(4, {"k": [1]})
    refusal = Refusal("t", None, "release", "refused", "why")
    lines = [
        catalogue_line(catalogue),
        "   ",
        entry_line("b", 0, b"x"),
        record_line(VERSION),
        refusal_line(refusal),
        header_line(HEADER),
        entry_line("b", 1, b"y").encode(),
    ]
    export = parse_lines(lines)
    assert export.header == HEADER and export.catalogues == [catalogue] and export.refusals == [refusal]
    assert export.records == [VERSION] and export.includes_records
    assert export.entries == {"b": [ExportedEntry("b", 0, b"x"), ExportedEntry("b", 1, b"y")]}
    assert not parse_lines([header_line(HEADER)]).includes_records
    flagged = ExportHeader(7, {}, 3, "t", {}, True, True)
    assert parse_lines([header_line(flagged)]).includes_records
    assert not AuditExport().includes_records


def test_header_flags_default_to_false() -> None:
    line = {k: v for k, v in json.loads(header_line(HEADER)).items() if k not in ("records", "openings")}
    header = parse_header(line, 1)
    assert (header.records, header.openings) == (False, False)


def _header(**changes: Any) -> str:
    return json.dumps({**json.loads(header_line(HEADER)), **changes})


def _record(**changes: Any) -> str:
    line = json.loads(record_line(VERSION))
    line["record"].update(changes)
    return json.dumps(line)


def _refusal(**changes: Any) -> str:
    line = json.loads(refusal_line(Refusal("t", None, "e", "o", None)))
    line["audit_event"].update(changes)
    return json.dumps(line)


@pytest.mark.parametrize(
    "line, message",
    [
        (_header(format=None), "format: expected credit-ledger/audit-export/1, got None"),
        (_header(format="other/1"), "format: expected credit-ledger/audit-export/1, got 'other/1'"),
        (_header(contracts=[]), "header: contracts and logs must be objects"),
        (_header(logs=None), "header: contracts and logs must be objects"),
        (_header(chain_id="7"), "chain_id: expected a non-negative integer, got '7'"),
        (_header(chain_id=True), "chain_id: expected a non-negative integer, got True"),
        (_header(chain_id=-1), "chain_id: expected a non-negative integer, got -1"),
        (_header(contracts={"Consents": 1}), "contracts.Consents: expected a string, got int"),
        (_header(deployment_block=None), "deployment_block: expected a non-negative integer"),
        (_header(exported_at=5), "exported_at: expected a string, got int"),
        (_header(logs={"a": "1"}), "logs.a: expected a non-negative integer"),
        ('{"log":5,"seq":0,"leaf":""}', "log: expected a string, got int"),
        ('{"log":"a","seq":"0","leaf":""}', "seq: expected a non-negative integer"),
        ('{"log":"a","seq":0,"leaf":5}', "leaf: expected a string, got int"),
        ('{"log":"a","seq":0,"leaf_hex":"00"}', "leaf_hex: expected 0x-prefixed hex"),
        ('{"log":"a","seq":0,"leaf_hex":"0xzz"}', "leaf_hex: not hex"),
        ('{"log":"A","seq":0,"leaf":"!"}', "leaf: not base64"),
        ('{"log":"a","seq":0,"leaf":"AAA"}', "leaf: not base64"),  # the fast path's reading
        ('{"log":"a","seq":0,"leaf":"AA==AA=="}', "leaf: not base64"),  # data after the padding
        ('{"log":"a","seq":0,"leaf_hex":5}', "leaf_hex: expected a string, got int"),
        ('{"record":[]}', "record: expected an object"),
        (_record(record_id=1), "record.record_id: expected a string"),
        (_record(version=-2), "record.version: expected a non-negative integer"),
        (_record(log_seq=None), "record.log_seq: expected a non-negative integer"),
        (_record(commitment="0x" + "01" * 31), "record.commitment: expected 32 bytes, got 31"),
        (_record(leaf_hash="0x" + "01" * 33), "record.leaf_hash: expected 32 bytes, got 33"),
        (
            json.dumps({**json.loads(record_line(VERSION)), "opening": []}),
            "opening: expected {salt, document}",
        ),
        (json.dumps({**json.loads(record_line(VERSION)), "opening": {"salt": ""}}), "opening: expected"),
        (
            json.dumps({**json.loads(record_line(VERSION)), "opening": {"salt": "%", "document": {}}}),
            "opening.salt: not base64",
        ),
        ('{"audit_event":"x"}', "audit_event: expected an object"),
        (_refusal(at=None), "audit_event.at: expected a string"),
        (_refusal(actor=1), "audit_event.actor: expected a string"),
        (_refusal(event=1), "audit_event.event: expected a string"),
        (_refusal(outcome=1), "audit_event.outcome: expected a string"),
        (_refusal(detail=1), "audit_event.detail: expected a string"),
        ('{"catalogue":{"version":1}}', "catalogue: expected {version, document}"),
        ('{"catalogue":[]}', "catalogue: expected {version, document}"),
        ('{"catalogue":{"version":"1","document":{}}}', "catalogue.version: expected a non-negative integer"),
        ("[1]", "not a JSON object"),
        (b"\xff\xfe", "not a JSON object"),
        ('{"b":1,"a":2}', r"unknown line kind with keys \['a', 'b'\]"),
    ],
)
def test_a_malformed_field_is_named_with_its_line(line: str | bytes, message: str) -> None:
    with pytest.raises(ExportFormatError, match=f"^line 3: {message}") as info:
        parse_lines([entry_line("a", 0, b""), "", line])
    assert info.value.line == 3


def test_a_second_header_is_refused_naming_its_line() -> None:
    with pytest.raises(ExportFormatError, match=r"^line 3: a second header$") as info:
        parse_lines([header_line(HEADER), entry_line("a", 0, b""), header_line(HEADER)])
    assert info.value.line == 3


def test_a_refusal_may_have_no_actor_and_no_detail() -> None:
    export = parse_lines([_refusal(actor="0xA", detail=None)])
    assert export.refusals == [Refusal("t", "0xA", "e", "o", None)]


def test_the_entry_fast_path_reads_exactly_what_the_general_path_reads() -> None:
    lines = [entry_line("a-1", 10, bytes(range(50))) + "\r\n", '{"log":"a-1","seq":11,"leaf":"eA=="}']
    assert parse_lines(lines).entries == {
        "a-1": [ExportedEntry("a-1", 10, bytes(range(50))), ExportedEntry("a-1", 11, b"x")]
    }


def test_read_export_reads_a_file_and_names_an_unreadable_one(tmp_path: Path) -> None:
    path = tmp_path / "export.ndjson"
    path.write_text("\n".join([header_line(HEADER), entry_line("a", 0, b"z"), ""]), encoding="utf-8")
    export = read_export(path)
    assert export.header == HEADER and export.entries["a"] == [ExportedEntry("a", 0, b"z")]
    missing = tmp_path / "missing.ndjson"
    with pytest.raises(ExportFormatError, match=f"^cannot read {missing}: ") as info:
        read_export(missing)
    assert info.value.line is None


def test_an_evaluation_model_line_is_written_as_documented_and_reads_back() -> None:
    model = EvaluationModelDocument({"model_id": "m", "名": 1}, {"model_sha256": "ab"})
    line = evaluation_model_line(model)
    assert line == '{"evaluation_model":{"document":{"model_id":"m","名":1},"card":{"model_sha256":"ab"}}}'
    export = parse_lines([header_line(HEADER), line, evaluation_model_line(EvaluationModelDocument({}, {}))])
    assert export.evaluation_models == [model, EvaluationModelDocument({}, {})]
    assert export.catalogues == [] and export.refusals == [] and export.records == []


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"document": {}},
        {"card": {}},
        {"document": [], "card": {}},
        {"document": {}, "card": "c"},
    ],
)
def test_a_malformed_evaluation_model_is_refused_naming_its_line(body: object) -> None:
    line = json.dumps({"evaluation_model": body})
    with pytest.raises(ExportFormatError) as info:
        parse_lines([entry_line("a", 0, b""), line])
    assert str(info.value) == "line 2: evaluation_model: expected {document, card}"
    assert info.value.line == 2
