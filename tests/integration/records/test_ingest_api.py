"""Ingestion through the API: receipts, idempotency, corrections and every kind of bad input."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ledger.domain.catalogue import Catalogue
from ledger.logs.models import LogEntry
from ledger.platform import Platform
from ledger.records.ingest import IngestReport
from ledger.records.models import CreditRecord
from ledger.records.samples import sample_record, sample_records
from ledger.records.submission import Mode, parse_submission
from ledger.request_auth import sign_request
from ledger.sdk import ApiError
from ledger.wiring import records_service
from tests.integration.records.conftest import SdkFor


def _counts(platform: Platform) -> tuple[int, int]:
    with platform.db.session() as session:
        records = session.scalar(select(func.count()).select_from(CreditRecord)) or 0
        entries = session.scalar(select(func.count()).select_from(LogEntry)) or 0
    return records, entries


def _error(exc: pytest.ExceptionInfo[ApiError]) -> dict[str, Any]:
    body = exc.value.body
    assert isinstance(body, dict)
    return body


def test_single_record_gets_a_receipt_and_replays_idempotently(
    sdk: SdkFor, platform: Platform, provider: LocalAccount, catalogue_v1: Catalogue
) -> None:
    record = sample_record(1)
    receipt = sdk(provider).submit_record(record)
    assert receipt["status"] == "created"
    assert receipt["version"] == 1 and receipt["log_index"] == 0
    assert receipt["leaf_hash"].startswith("0x") and len(receipt["leaf_hash"]) == 66
    again = sdk(provider).submit_record(record)
    assert again == {**receipt, "status": "existing"}
    assert _counts(platform) == (1, 1)


def test_same_source_ref_with_other_content_is_409_naming_it(
    sdk: SdkFor, platform: Platform, provider: LocalAccount, catalogue_v1: Catalogue
) -> None:
    record = sample_record(4)
    sdk(provider).submit_record(record)
    changed = {**record, "fields": {**record["fields"], "amount": 999}}
    with pytest.raises(ApiError) as refused:
        sdk(provider).submit_record(changed)
    assert refused.value.status == 409
    assert record["source_ref"] in refused.value.message
    assert "corrects=1" in refused.value.message
    assert _counts(platform) == (1, 1)


def test_source_refs_are_per_provider(
    sdk: SdkFor, provider: LocalAccount, other_provider: LocalAccount, catalogue_v1: Catalogue
) -> None:
    first = sdk(provider).submit_record(sample_record(2))
    second = sdk(other_provider).submit_record(sample_record(2))
    assert first["record_id"] != second["record_id"]
    assert second["status"] == "created" and second["log_index"] == 1


def test_correction_creates_a_new_version(
    sdk: SdkFor, platform: Platform, provider: LocalAccount, catalogue_v1: Catalogue
) -> None:
    record = sample_record(7)
    v1 = sdk(provider).submit_record(record)
    fixed = {**record, "fields": {**record["fields"], "amount": 1234}, "corrects": 1}
    v2 = sdk(provider).submit_record(fixed)
    assert (v2["record_id"], v2["version"], v2["log_index"]) == (v1["record_id"], 2, 1)
    assert sdk(provider).submit_record(fixed)["status"] == "existing"
    with pytest.raises(ApiError) as stale:
        sdk(provider).submit_record({**fixed, "fields": {**record["fields"], "amount": 5}})
    assert stale.value.status == 409 and "source reference" in stale.value.message
    with pytest.raises(ApiError) as unchanged:
        sdk(provider).submit_record({**record, "corrects": 2, "fields": {**fixed["fields"]}})
    assert unchanged.value.status == 422
    assert [e["rule"] for e in _error(unchanged)["errors"]] == ["correction_unchanged"]
    versions = sdk(provider).record_versions(v1["record_id"])
    assert [v["version"] for v in versions] == [1, 2]
    opened = sdk(provider).open_record(v1["record_id"], 1)
    assert opened["fields"]["amount"] == record["fields"]["amount"]  # nothing updated in place
    assert _counts(platform) == (2, 2)


def test_correcting_an_unknown_record_is_409(
    sdk: SdkFor, provider: LocalAccount, catalogue_v1: Catalogue
) -> None:
    with pytest.raises(ApiError) as refused:
        sdk(provider).submit_record({**sample_record(1), "corrects": 1})
    assert refused.value.status == 409


@pytest.mark.parametrize(
    ("change", "field", "rule"),
    [
        ({"category": "weather"}, "category", "unknown_category"),
        ({"subject": "91350200776049653B"}, "subject", "uscc.check_char"),
        ({"event_date": "2023-02-30"}, "event_date", "date"),
        ({"event_date": "2999-01-01"}, "event_date", "future_date"),
        ({"event_date": "yesterday"}, "event_date", "type"),
        ({"severity": None}, "severity", "severity_required"),
        ({"severity": "catastrophic"}, "severity", "severity_unknown"),
        ({"fields": {"decision_number": "x"}}, "fields.decision_date", "required"),
        ({"fields_extra": {"amount": "a lot"}}, "fields.amount", "type"),
        (
            {"fields_extra": {"legal_representative_id": "11010519491231002Y"}},
            "fields.legal_representative_id",
            "resident_id.check_char",
        ),
        (
            {"fields_extra": {"legal_representative_id": "110105194902300021"}},
            "fields.legal_representative_id",
            "resident_id.birth_date",
        ),
        ({"fields_extra": {"penalty_type": "flogging"}}, "fields.penalty_type", "enum"),
        ({"fields_extra": {"colour": "red"}}, "fields.colour", "unknown_field"),
        ({"fields_extra": {"amount": 2**60}}, "fields.amount", "canonical_json"),
        ({"fields_extra": {"reason": "a\u0000b"}}, "fields.reason", "text"),
        ({"source_ref": ""}, "source_ref", "string_too_short"),
        ({"source_ref": "a\nb"}, "source_ref", "string_pattern_mismatch"),
        ({"unexpected": 1}, "unexpected", "extra_forbidden"),
        ({"corrects": "1"}, "corrects", "int_type"),
    ],
)
def test_bad_input_is_422_naming_field_and_rule(
    sdk: SdkFor,
    platform: Platform,
    provider: LocalAccount,
    catalogue_v1: Catalogue,
    change: dict[str, object],
    field: str,
    rule: str,
) -> None:
    record = sample_record(1)  # an administrative penalty
    change = dict(change)  # parametrize shares the dict between the two databases
    extra = change.pop("fields_extra", None)
    if extra is not None:
        record["fields"] = {**record["fields"], **extra}  # type: ignore[dict-item]
    record.update(change)
    with pytest.raises(ApiError) as refused:
        sdk(provider).submit_record(record)
    assert refused.value.status == 422, refused.value.body
    problems = {(e["field"], e["rule"]) for e in _error(refused)["errors"]}
    assert (field, rule) in problems
    assert _counts(platform) == (0, 0)


def test_body_that_is_not_json_is_422(
    api: TestClient, provider: LocalAccount, catalogue_v1: Catalogue
) -> None:
    domain = api.get("/chain").json()["api_domain"]
    body = b"{not json"
    headers = sign_request(provider.key, domain, "POST", "/records", body)
    response = api.post("/records", content=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["rule"] == "json"


def test_only_providers_ingest(sdk: SdkFor, operators: list[LocalAccount], catalogue_v1: Catalogue) -> None:
    with pytest.raises(ApiError) as refused:
        sdk(operators[0]).submit_record(sample_record(1))
    assert refused.value.status == 403


def test_unsigned_bulk_is_401(api: TestClient, catalogue_v1: Catalogue) -> None:
    response = api.post("/records/bulk", content=b'{"a": 1}\n')
    assert response.status_code == 401


def test_no_catalogue_on_chain_is_409(sdk: SdkFor, platform: Platform, provider: LocalAccount) -> None:
    with pytest.raises(ApiError) as refused:
        sdk(provider).submit_record(sample_record(1))
    assert refused.value.status == 409
    assert "no catalogue" in refused.value.message
    assert _counts(platform) == (0, 0)


def test_bulk_all_or_nothing_stores_nothing_when_one_is_bad(
    sdk: SdkFor, platform: Platform, provider: LocalAccount, catalogue_v1: Catalogue
) -> None:
    records = list(sample_records(50))
    records[17]["subject"] = "91350200776049653B"
    with pytest.raises(ApiError) as refused:
        sdk(provider).submit_records(records)
    assert refused.value.status == 422
    body = _error(refused)
    assert body["rejected"] == [
        {
            "line": 18,
            "source_ref": records[17]["source_ref"],
            "errors": [
                {
                    "field": "subject",
                    "rule": "uscc.check_char",
                    "message": "check character is 'B', expected 'A'",
                }
            ],
        }
    ]
    assert _counts(platform) == (0, 0)


def test_bulk_accept_valid_stores_the_valid_and_lists_the_rest(
    sdk: SdkFor, platform: Platform, provider: LocalAccount, catalogue_v1: Catalogue
) -> None:
    lines = [json.dumps(r, ensure_ascii=False).encode() for r in sample_records(20)]
    lines[3] = b"{broken"
    lines[9] = json.dumps({**sample_record(9), "event_date": "2024-13-01"}).encode()
    lines.insert(12, b"")  # blank lines are skipped but counted
    lines.append(lines[0])  # a duplicate of line 1 in the same request
    report = sdk(provider).submit_records(b"\n".join(lines), mode="accept_valid")
    assert report["created"] == 18 and report["existing"] == 1
    assert [(r["line"], r["errors"][0]["rule"]) for r in report["rejected"]] == [(4, "json"), (10, "date")]
    assert report["receipts"][-1]["status"] == "duplicate"
    assert report["receipts"][-1]["record_id"] == report["receipts"][0]["record_id"]
    assert sorted(r["log_index"] for r in report["receipts"] if r["status"] == "created") == list(range(18))
    assert _counts(platform) == (18, 18)
    again = sdk(provider).submit_records(b"\n".join(lines), mode="accept_valid")
    assert again["created"] == 0 and again["existing"] == 19
    assert _counts(platform) == (18, 18)


def test_bulk_conflict_in_all_or_nothing_is_409(
    sdk: SdkFor, platform: Platform, provider: LocalAccount, catalogue_v1: Catalogue
) -> None:
    sdk(provider).submit_records(list(sample_records(5)))
    records = list(sample_records(10))
    records[2]["fields"]["tax_year"] = 1999
    with pytest.raises(ApiError) as refused:
        sdk(provider).submit_records(records)
    assert refused.value.status == 409
    assert records[2]["source_ref"] in refused.value.message
    assert _counts(platform) == (5, 5)


def test_oversized_bodies_are_413(
    api: TestClient, sdk: SdkFor, platform: Platform, provider: LocalAccount, catalogue_v1: Catalogue
) -> None:
    platform.settings.ingest_max_single_bytes = 2048
    platform.settings.ingest_max_body_bytes = 20_000
    platform.settings.ingest_max_records = 25
    big = {**sample_record(1), "fields": {**sample_record(1)["fields"], "reason": "长" * 2000}}
    with pytest.raises(ApiError) as single:
        sdk(provider).submit_record(big)
    assert single.value.status == 413 and "LEDGER_INGEST_MAX_SINGLE_BYTES" in single.value.message
    with pytest.raises(ApiError) as bulk:
        sdk(provider).submit_records(list(sample_records(60)))
    assert bulk.value.status == 413 and "20000 bytes" in bulk.value.message
    with pytest.raises(ApiError) as many:
        sdk(provider).submit_records(b"{}\n" * 26)
    assert many.value.status == 413 and "at most 25 records" in many.value.message
    # a body streamed without Content-Length is cut off as soon as it passes the limit
    domain = api.get("/chain").json()["api_domain"]
    content = b"x" * 30_000
    headers = sign_request(provider.key, domain, "POST", "/records/bulk", content)

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(content), 1000):
            yield content[i : i + 1000]

    response = api.post("/records/bulk", content=chunks(), headers=headers)
    assert response.status_code == 413
    assert _counts(platform) == (0, 0)


def test_concurrent_overlapping_submissions_store_each_record_once(
    platform: Platform, provider: LocalAccount, catalogue_v1: Catalogue
) -> None:
    service = records_service(platform)
    reports: list[IngestReport] = []
    errors: list[BaseException] = []

    def submit(start: int) -> None:
        items = [(i + 1, parse_submission(r)) for i, r in enumerate(sample_records(60, start=start))]
        try:
            reports.append(service.ingest(provider.address, items, Mode.ALL_OR_NOTHING))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(start,)) for start in (0, 30, 0, 30, 15)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    by_ref: dict[str, set[tuple[str, int]]] = {}
    for report in reports:
        for r in report.receipts:
            by_ref.setdefault(r.source_ref, set()).add((r.record_id, r.log_index))
    assert len(by_ref) == 90 and all(len(v) == 1 for v in by_ref.values())
    assert sum(r.created for r in reports) == 90
    assert _counts(platform) == (90, 90)
