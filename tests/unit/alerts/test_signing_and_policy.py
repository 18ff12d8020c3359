"""Payloads, Standard Webhooks signatures (checked with the library itself), the retry schedule."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from ledger.alerts.policy import SenderPolicy
from ledger.alerts.signing import alert_payload, new_secret, signed_headers

PAYLOAD = alert_payload(
    alert_id="msg_1",
    event="record.new",
    subject="91350200776049653A",
    categories=["judicial_enforcement"],
    severity="high",
    block=42,
    rule_id="enforcement-new",
    rules_version=3,
    watch_id="w9",
    trail_seq=7,
    cleared_ms=1_780_000_000_000,
)


def test_the_payload_is_thin_canonical_and_names_block_and_alert() -> None:
    doc = json.loads(PAYLOAD)
    assert doc["type"] == "record.new" and doc["timestamp"].endswith("Z")
    assert doc["data"] == {
        "alert_id": "msg_1",
        "subject": "91350200776049653A",
        "categories": ["judicial_enforcement"],
        "severity": "high",
        "block": 42,
        "rule": {"id": "enforcement-new", "version": 3},
        "watch_id": "w9",
        "trail_index": 7,
    }
    assert json.dumps(doc, sort_keys=True, separators=(",", ":")).encode() == PAYLOAD


def test_signatures_verify_with_the_standardwebhooks_library() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    headers = signed_headers("msg_1", PAYLOAD, [secret])
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(PAYLOAD, headers)["data"]["block"] == 42
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(PAYLOAD, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(PAYLOAD.replace(b"42", b"43"), headers)


def test_during_a_rotation_either_secret_verifies() -> None:
    new, old = new_secret(), new_secret()
    headers = signed_headers("msg_1", PAYLOAD, [new, old])
    assert len(headers["webhook-signature"].split(" ")) == 2
    for key in (new, old):
        Webhook(key).verify(PAYLOAD, headers)


def test_a_stale_timestamp_is_refused_by_receivers() -> None:
    secret = new_secret()
    headers = signed_headers("msg_1", PAYLOAD, [secret], at=datetime(2020, 1, 1, tzinfo=UTC))
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(PAYLOAD, headers)


def test_no_key_no_signature() -> None:
    with pytest.raises(ValueError):
        signed_headers("msg_1", PAYLOAD, [])


def test_the_default_schedule_spans_about_three_days_exponentially() -> None:
    policy = SenderPolicy()
    schedule = policy.schedule
    assert schedule[:4] == (5.0, 10.0, 20.0, 40.0)
    assert max(schedule) == 12 * 3600
    assert 2.5 * 86400 <= sum(schedule) <= 3 * 86400
    assert policy.max_attempts == len(schedule) + 1


def test_retry_delays_are_jittered_and_end() -> None:
    policy = SenderPolicy()
    rng = random.Random(1)
    delays = {policy.retry_delay(3, rng) for _ in range(50)}
    assert len(delays) > 40 and all(20 * 0.8 <= d <= 20 * 1.2 for d in delays if d is not None)
    assert policy.retry_delay(len(policy.schedule) + 1) is None
    assert policy.retry_delay(0) is None
