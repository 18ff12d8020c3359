"""Reading the export through the auditors' API: every page, signed by the auditor, parsed as a file.

The API is a fake behind `httpx.MockTransport` that checks each request's signature under
the domain of the auditor's own manifest (with the server's `verify_request`) and serves
the export's lines in pages of a given size.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from eth_account import Account

from ledger.audit.api_source import ApiExportSource
from ledger.audit.errors import AuditError, ExportFormatError
from ledger.audit.export import (
    CatalogueDocument,
    EvaluationModelDocument,
    ExportedEntry,
    ExportHeader,
    Refusal,
    StoredVersion,
    catalogue_line,
    entry_line,
    evaluation_model_line,
    header_line,
    record_line,
    refusal_line,
)
from ledger.chain.deploy import CONTRACTS, ContractAddresses, Deployment
from ledger.request_auth import api_domain, verify_request
from tests.unit.audit.fakes import RecordingProgress

AUDITOR = Account.from_key(b"\x07" * 32)
MEMBERSHIP = "0x" + "1a" * 20
DEPLOYMENT = Deployment(
    31337,
    1,
    ContractAddresses.from_names(
        {name: "0x" + f"{i:02x}" * 20 for i, name in enumerate(CONTRACTS)} | {"Membership": MEMBERSHIP}
    ),
    {},
)
HEADER = ExportHeader(31337, {}, 1, "t", {"b-log": 3, "a-log": 2, "empty": 0}, True, False)
ENTRIES = {
    "a-log": [ExportedEntry("a-log", i, b"a%d" % i) for i in range(2)],
    "b-log": [ExportedEntry("b-log", i, b"b%d" % i) for i in range(3)],
    "empty": [],
}
RECORDS = [StoredVersion(f"r-{i}", 1, i, bytes([i]) * 32, bytes([9]) * 32) for i in range(5)]
REFUSALS = [Refusal(f"t{i}", None, "release", "refused", str(i)) for i in range(3)]
CATALOGUES = [CatalogueDocument(1, {"v": 1}), CatalogueDocument(2, {"v": 2})]
MODELS = [
    EvaluationModelDocument({"model_id": "m", "v": 1}, {"card": 1}),
    EvaluationModelDocument({"v": 2}, {}),
]


def _page(items: list[str], start: int, limit: int) -> tuple[list[Any], int | None]:
    chunk = items[start : start + limit]
    return [json.loads(x) for x in chunk], (start + limit if start + limit < len(items) else None)


class FakeApi:
    def __init__(self, *, page_size: int, broken: str | None = None) -> None:
        self.page_size = page_size
        self.broken = broken  # the path whose first item is served malformed
        self.paths: list[str] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        response = self._handle(request)
        url = urlsplit(request.url.raw_path.decode())
        if self.broken is None or not url.path.startswith(self.broken):
            return response
        body = response.json()
        if url.path == "/audit/header":
            body["chain_id"] = -1
        elif url.path == "/audit/models":
            body["models"][0]["evaluation_model"]["card"] = []
        else:
            kind = next(k for k in body if k != "next")
            item = body[kind][0]
            if kind == "entries":
                item["seq"] = -1
            else:  # {"record": {...}}, {"catalogue": {...}}, {"audit_event": {...}}
                inner = item[
                    {"records": "record", "catalogues": "catalogue", "refusals": "audit_event"}[kind]
                ]
                inner["at" if kind == "refusals" else "version"] = -1
        return httpx.Response(200, json=body)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode()
        self.paths.append(path)
        verified = verify_request(
            dict(request.headers),
            api_domain(31337, MEMBERSHIP),
            "GET",
            path,
            b"",
            now=time.time(),
            max_age_seconds=60,
        )
        assert verified.signer == AUDITOR.address
        url = urlsplit(path)
        query = {k: int(v[0]) for k, v in parse_qs(url.query).items()}
        if query:
            assert query["limit"] == self.page_size
        if url.path == "/audit/header":
            return httpx.Response(200, json=json.loads(header_line(HEADER)))
        if url.path.startswith("/audit/logs/"):
            log = url.path.split("/")[3]
            lines = [entry_line(e.log, e.seq, e.leaf) for e in ENTRIES[log]]
            items, nxt = _page(lines, query["start"], query["limit"])
            return httpx.Response(200, json={"entries": items, "next": nxt})
        if url.path == "/audit/records":
            items, nxt = _page([record_line(r) for r in RECORDS], query["after"], query["limit"])
            return httpx.Response(200, json={"records": items, "next": nxt})
        if url.path == "/audit/refusals":
            items, nxt = _page([refusal_line(r) for r in REFUSALS], query["after"], query["limit"])
            return httpx.Response(200, json={"refusals": items, "next": nxt})
        if url.path == "/audit/catalogues":
            return httpx.Response(
                200, json={"catalogues": [json.loads(catalogue_line(c)) for c in CATALOGUES]}
            )
        if url.path == "/audit/models":
            return httpx.Response(
                200, json={"models": [json.loads(evaluation_model_line(m)) for m in MODELS]}
            )
        return httpx.Response(404, text="no such page")


def source(handler: Any, *, page_size: int = 2_000, progress: Any = None) -> ApiExportSource:
    http = httpx.Client(base_url="http://api.test", transport=httpx.MockTransport(handler))
    kwargs: dict[str, Any] = {} if progress is None else {"progress": progress}
    return ApiExportSource(http=http, auditor=AUDITOR, deployment=DEPLOYMENT, page_size=page_size, **kwargs)


def test_every_page_is_read_signed_and_parsed_as_the_file_would_be() -> None:
    api = FakeApi(page_size=2)
    progress = RecordingProgress()
    export = source(api.handle, page_size=2, progress=progress).read()
    assert export.header == HEADER
    assert export.entries == {"a-log": ENTRIES["a-log"], "b-log": ENTRIES["b-log"]}
    assert export.records == RECORDS and export.refusals == REFUSALS and export.catalogues == CATALOGUES
    assert export.evaluation_models == MODELS
    assert api.paths == [
        "/audit/header",
        "/audit/logs/a-log/entries?start=0&limit=2",
        "/audit/logs/b-log/entries?start=0&limit=2",
        "/audit/logs/b-log/entries?start=2&limit=2",
        "/audit/logs/empty/entries?start=0&limit=2",
        "/audit/records?after=0&limit=2",
        "/audit/records?after=2&limit=2",
        "/audit/records?after=4&limit=2",
        "/audit/catalogues",
        "/audit/models",
        "/audit/refusals?after=0&limit=2",
        "/audit/refusals?after=2&limit=2",
    ]
    assert progress.tasks == [("reading the trail from the API", 5)] and progress.advanced == {
        "reading the trail from the API": 5
    }


def test_pages_are_two_thousand_lines_unless_asked_otherwise() -> None:
    api = FakeApi(page_size=2_000)
    http = httpx.Client(base_url="http://api.test", transport=httpx.MockTransport(api.handle))
    export = ApiExportSource(http=http, auditor=AUDITOR, deployment=DEPLOYMENT).read()
    assert export.records == RECORDS
    assert "/audit/records?after=0&limit=2000" in api.paths


def test_a_refused_page_is_an_audit_error_naming_the_path_and_status() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, text="not an auditor" + "x" * 300)

    with pytest.raises(
        AuditError, match=r"^API refused GET /audit/header: HTTP 403 not an auditorx+$"
    ) as info:
        source(refuse).read()
    assert len(info.value.message) == len("API refused GET /audit/header: HTTP 403 ") + 200


def test_an_unreachable_api_is_an_audit_error() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(AuditError, match=r"^API unavailable: connection refused$"):
        source(down).read()


def test_a_page_that_is_not_json_is_an_export_format_error() -> None:
    def garbled(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>")

    with pytest.raises(ExportFormatError, match=r"^GET /audit/header: not JSON$"):
        source(garbled).read()


@pytest.mark.parametrize(
    "broken, message",
    [
        ("/audit/header", "chain_id: expected a non-negative integer, got -1"),
        ("/audit/logs/", "seq: expected a non-negative integer, got -1"),
        ("/audit/records", "record.version: expected a non-negative integer, got -1"),
        ("/audit/catalogues", "catalogue.version: expected a non-negative integer, got -1"),
        ("/audit/refusals", "audit_event.at: expected a string, got int"),
        ("/audit/models", "evaluation_model: expected {document, card}"),
    ],
)
def test_a_malformed_item_of_a_page_is_refused_naming_its_field(broken: str, message: str) -> None:
    api = FakeApi(page_size=2, broken=broken)
    with pytest.raises(ExportFormatError) as info:
        source(api.handle, page_size=2).read()
    assert info.value.message == f"line 0: {message}"  # no file line: pages are numbered 0
