"""Thin alert payloads and their Standard Webhooks signatures.

The payload is built once, when the gate clears the alert, and stored; every attempt
sends the same bytes under the same `webhook-id` (the alert id). It names the event,
subject, categories, severity, block B, rule and alert id, and no record content: the
institution fetches details through `POST /releases`. Its form follows Standard Webhooks
(`type`, `timestamp`, `data`) in RFC 8785 canonical JSON.

Signatures are made by the `standardwebhooks` package (v1, HMAC-SHA256 over
`id.timestamp.body`, `whsec_` secrets). During a secret rotation both the new and the
previous secret sign, space-separated, so a receiver holding either verifies.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import rfc8785
from standardwebhooks import Webhook

__all__ = ["alert_payload", "new_secret", "signed_headers", "verification_payload"]

SECRET_BYTES = 32


def new_secret() -> str:
    """A fresh `whsec_` secret: 32 random bytes, base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def alert_payload(
    *,
    alert_id: str,
    event: str,
    subject: str,
    categories: Sequence[str],
    severity: str,
    block: int,
    rule_id: str,
    rules_version: int,
    watch_id: str | None,
    trail_seq: int | None,
    cleared_ms: int,
) -> bytes:
    """The thin payload of a cleared alert, canonical JSON."""
    data: dict[str, Any] = {
        "alert_id": alert_id,
        "subject": subject,
        "categories": list(categories),
        "severity": severity,
        "block": block,
        "rule": {"id": rule_id, "version": rules_version},
        "watch_id": watch_id,
        "trail_index": trail_seq,
    }
    return rfc8785.dumps({"type": event, "timestamp": _iso(cleared_ms), "data": data})


def verification_payload(challenge: str, now_ms: int) -> bytes:
    """The handshake message an endpoint must answer by echoing `challenge`."""
    return rfc8785.dumps(
        {"type": "endpoint.verification", "timestamp": _iso(now_ms), "data": {"challenge": challenge}}
    )


def signed_headers(
    msg_id: str, body: bytes, keys: Sequence[str], *, at: datetime | None = None
) -> dict[str, str]:
    """Standard Webhooks headers of `body`, signed with every secret in `keys`."""
    if not keys:
        raise ValueError("at least one secret signs a message")
    when = (at or datetime.now(UTC)).astimezone(UTC)
    text = body.decode("utf-8")
    signatures = " ".join(Webhook(key).sign(msg_id, when, text) for key in keys)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": signatures,
        "content-type": "application/json",
    }
