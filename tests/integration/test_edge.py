"""The HTTP edge: every refusal recorded and bounded, bodies bounded before reading, floods throttled."""

from __future__ import annotations

import asyncio
import logging
import re
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient

from ledger.chain.membership import Role
from ledger.platform import Platform
from ledger.request_auth import HEADER_SIGNER, sign_request
from ledger.services import audit_events
from ledger.storage.models import AuditEvent
from tests.integration.conftest import Onboarding

MiB = 1024 * 1024


def _records_since(platform: Platform, after: int) -> list[AuditEvent]:
    return [e for e in audit_events.recent(platform.db, 1000) if e.id > after][::-1]


def _last_id(platform: Platform) -> int:
    last = audit_events.recent(platform.db, 1)
    return last[0].id if last else 0


def _assert_bounded(event: AuditEvent) -> None:
    for value, cap in (
        (event.actor, audit_events.ACTOR_CAP),
        (event.event, audit_events.EVENT_CAP),
        (event.outcome, audit_events.OUTCOME_CAP),
        (event.detail, audit_events.DETAIL_CAP),
    ):
        if value is not None:
            assert len(value) <= cap
            assert not re.search(r"[\x00-\x1f\x7f]", value), value


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_a_refusal_on_every_operation_is_recorded(api: TestClient, platform: Platform) -> None:
    """Each operation of the document is refused once (401 unsigned, or 413 over its body limit)
    and the refusal is found in the MLPS audit records."""
    doc = api.app.openapi()  # type: ignore[attr-defined]
    operations = [(m.upper(), p, op) for p, ops in doc["paths"].items() for m, op in ops.items()]
    assert len(operations) >= 60
    over = b"x" * (platform.settings.edge_max_body_bytes + 1)
    for method, template, op in operations:
        path = _concrete(template)
        before = _last_id(platform)
        if op.get("security"):
            response = api.request(method, path)
            expected = 401
        else:
            response = api.request(method, path, content=over)
            expected = 413
        assert response.status_code == expected, (method, template, response.text)
        assert response.json()["error"] in ("unauthenticated", "payload_too_large")
        found = [e for e in _records_since(platform, before) if e.event == f"{method} {path}"[:64]]
        assert found, f"no record of the refused {method} {template}"
        assert found[-1].outcome == "refused"
        assert (found[-1].detail or "").startswith(f"{expected} ")
        _assert_bounded(found[-1])


def test_nul_byte_in_a_path_segment_is_recorded(api: TestClient, platform: Platform) -> None:
    before = _last_id(platform)
    response = api.get("/members/0x%00")
    assert 400 <= response.status_code < 500
    (record,) = _records_since(platform, before)
    assert record.event == "GET /members/0x%00"  # the path as sent
    _assert_bounded(record)


def test_nul_byte_and_20_mib_subject_to_releases_are_recorded_bounded(
    api: TestClient, platform: Platform
) -> None:
    body = {
        "institution": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        "subject": "91410100MA44TL7\x00G2F",
        "categories": "1",
        "purpose": "1",
        "agreement_id": 1,
        "raw": False,
        "nonce": "0x" + "ab" * 32,
        "deadline": 1,
        "signature": "0x" + "11" * 65,
    }
    before = _last_id(platform)
    assert 400 <= api.post("/releases", json=body).status_code < 500
    huge = {**body, "subject": "9" * (20 * MiB)}
    for _ in range(3):
        response = api.post("/releases", json=huge)
        assert response.status_code == 413
        assert "LEDGER_RELEASE_MAX_BODY_BYTES" in response.json()["detail"]
    records = [e for e in _records_since(platform, before) if e.event == "POST /releases"]
    assert len(records) == 4
    for record in records:
        _assert_bounded(record)
    stored = sum(len(e.detail or "") + len(e.event) for e in _records_since(platform, before))
    assert stored < 16 * 1024  # three 20 MiB subjects cost bytes, not megabytes


def test_fields_are_escaped_and_capped_on_both_databases(platform: Platform) -> None:
    audit_events.record(
        platform.db,
        actor="0x\x00" + "a" * 100,
        event="GET /x\x00\x1b[2J" + "/y" * 100,
        outcome="refused\x00",
        detail="subject=\x00\u200b" + "9" * (20 * MiB),
    )
    (record,) = audit_events.recent(platform.db, 1)
    _assert_bounded(record)
    assert record.event.startswith("GET /x\\x00\\x1b[2J")
    assert (record.detail or "").startswith("subject=\\x00\\u200b999")
    assert (record.detail or "").endswith(f"[{len('subject=') + 2 + 20 * MiB} chars]")


def _asgi_post(app: Any, path: str, headers: list[tuple[bytes, bytes]], chunks: Iterator[bytes]) -> int:
    """POST to the ASGI app with a body streamed from `chunks`; the answer's status."""
    status = 0

    async def receive() -> dict[str, Any]:
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    asyncio.run(app(scope, receive, send))
    return status


@pytest.mark.parametrize("path", ["/releases", "/records/bulk"])
@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_150_mib_unsigned_body_is_refused_with_under_10_mib_growth(
    api: TestClient, platform: Platform, path: str, declared: bool
) -> None:
    total = 150 * MiB
    read = 0

    def chunks() -> Iterator[bytes]:
        nonlocal read
        while read < total:
            read += MiB
            yield b"9" * MiB

    headers = [(b"content-length", str(total).encode())] if declared else [(b"transfer-encoding", b"chunked")]
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        status = _asgi_post(api.app, path, headers, chunks())
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
    print(f"\n{path} 150 MiB unsigned ({'declared' if declared else 'chunked'}): {status}, "
          f"read {read / MiB:.0f} MiB, peak growth {peak / MiB:.2f} MiB")  # fmt: skip
    assert status in (401, 413)
    assert read <= 2 * MiB
    assert peak < 10 * MiB


def test_large_body_route_checks_the_claimed_signer_before_reading(
    api: TestClient, platform: Platform, onboarding: Onboarding, dev_accounts: list[LocalAccount]
) -> None:
    auditor = onboarding.admit(dev_accounts[5], Role.AUDITOR)
    big = b"{}\n" * (platform.settings.edge_unauthenticated_body_bytes // 3 + 1)
    claimed = api.post("/records/bulk", content=big, headers={HEADER_SIGNER: auditor.address})
    assert claimed.status_code == 403 and "not an active provider" in claimed.json()["detail"]
    assert api.post("/records/bulk", content=big).status_code == 401


def test_refusals_are_throttled_per_source_and_recorded_once_per_window(
    api: TestClient, platform: Platform
) -> None:
    platform.settings.edge_refusals_per_source = 5
    before = _last_id(platform)
    statuses = [api.get("/audit/header").status_code for _ in range(12)]
    assert statuses == [401] * 5 + [429] * 7
    records = _records_since(platform, before)
    assert [r.detail.split(" ")[0] for r in records if r.detail] == ["401"] * 5 + ["429"]
    throttled = api.get("/audit/header")
    assert throttled.json()["error"] == "too_many_refusals" and int(throttled.headers["Retry-After"]) >= 1


def test_refusals_are_throttled_per_claimed_signer(api: TestClient, platform: Platform) -> None:
    platform.settings.edge_refusals_per_signer = 3
    victim, other = Account.create().address, Account.create().address
    statuses = [api.get("/audit/header", headers={HEADER_SIGNER: victim}).status_code for _ in range(5)]
    assert statuses == [401] * 3 + [429] * 2
    assert api.get("/audit/header", headers={HEADER_SIGNER: other}).status_code == 401


def test_a_refusal_that_cannot_be_recorded_is_503_and_logged(
    api: TestClient, platform: Platform, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit_events, "record", broken)
    with caplog.at_level(logging.CRITICAL, logger="ledger.edge"):
        response = api.get("/audit/header")
    assert response.status_code == 503 and response.json()["error"] == "unavailable"
    assert any("REFUSAL NOT RECORDED" in r.getMessage() for r in caplog.records)


def test_signature_covers_the_raw_path_as_sent(api: TestClient, operators: list[LocalAccount]) -> None:
    domain = api.get("/chain").json()["api_domain"]
    operator = operators[0]
    raw = "/catalogue/signing/%30x" + operator.address[2:]  # "%30" is "0", percent-encoded
    headers = sign_request(operator.key, domain, "GET", raw, b"")
    assert api.get(raw, headers=headers).status_code == 200
    decoded = "/catalogue/signing/0x" + operator.address[2:]
    wrong = sign_request(operator.key, domain, "GET", decoded, b"")
    assert api.get(raw, headers=wrong).status_code == 401


def test_high_s_request_signature_is_refused_by_name(api: TestClient, operators: list[LocalAccount]) -> None:
    domain = api.get("/chain").json()["api_domain"]
    headers = sign_request(operators[0].key, domain, "GET", "/audit/header", b"")
    signature = bytes.fromhex(headers["X-Ledger-Signature"][2:])
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    s = int.from_bytes(signature[32:64], "big")
    twin = signature[:32] + (n - s).to_bytes(32, "big") + bytes([55 - signature[64]])
    response = api.get("/audit/header", headers={**headers, "X-Ledger-Signature": "0x" + twin.hex()})
    assert response.status_code == 401
    assert response.json()["error"] == "signature_form" and "high" in response.json()["detail"]


@pytest.mark.parametrize(
    ("role", "path", "field"),
    [
        ("operator", "/releases/99999999999999999999999/proof", "path.index"),
        ("operator", "/accesses?after=-175068530036877590528", "query.after"),
        ("auditor", "/audit/records?after=2.6e20", "query.after"),
        ("auditor", "/audit/refusals?after=2.6e20", "query.after"),
        ("auditor", "/audit/refusals?after=260000000000000000000", "query.after"),
        ("operator", "/logs/credit-records/consistency?first=0&second=99999999999999999999", "query.second"),
        ("operator", "/catalogue/versions/99999999999999999999", "path.version"),
        ("operator", "/records/r/versions/1099511627776", "path.version"),  # an INTEGER column
        ("operator", "/records/r/versions/0/proof", "path.version"),
    ],
)
def test_numbers_out_of_range_are_a_named_422(
    api: TestClient,
    platform: Platform,
    onboarding: Onboarding,
    operators: list[LocalAccount],
    dev_accounts: list[LocalAccount],
    role: str,
    path: str,
    field: str,
) -> None:
    account = operators[0] if role == "operator" else onboarding.admit(dev_accounts[6], Role.AUDITOR)
    domain = api.get("/chain").json()["api_domain"]
    response = api.get(path, headers=sign_request(account.key, domain, "GET", path, b""))
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "invalid_input"
    assert [p["field"] for p in body["detail"]] == [field]
    assert _records_since(platform, 0)[-1].detail.startswith("422 invalid_input")  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 5000 + b"]" * 5000,
        b'{"subject": ' * 1000 + b"1" + b"}" * 1000,
        b"{not json",
        b'{"agreement_id": "x"}',
    ],
    ids=["nested-array", "nested-object", "malformed", "mistyped"],
)
def test_malformed_nested_or_mistyped_release_bodies_are_refused_and_recorded(
    api: TestClient, platform: Platform, body: bytes
) -> None:
    before = _last_id(platform)
    response = api.post("/releases", content=body, headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500, response.text
    assert "error" in response.json()
    (record,) = [e for e in _records_since(platform, before) if e.event == "POST /releases"]
    assert (record.detail or "").startswith(str(response.status_code))
    _assert_bounded(record)
