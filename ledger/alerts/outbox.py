"""The transactional outbox: an alert row written in the triggering transaction.

`enqueue` adds the row to the CALLER's session and does not commit: the alert exists
exactly when the state change that caused it does (both commit or neither). The sender
(`ledger.alerts.sender`) then moves each row through its states:

    pending --gate--> withheld                          (never sent, never fed)
            --gate--> queued --2xx--> delivered
                             --retries spent / endpoint disabled--> dead --redeliver--> queued
            --gate, no endpoint--> fed                   (pull feed only)

Every cleared alert (queued, delivered, dead, fed) has a `feed_seq`, the pull feed's
cursor, allocated by the one leading sender in the order it cleared them, and the exact
payload bytes, built once, so retries resend the same `webhook-id` and body.
"""

from __future__ import annotations

import json
import re
import time
import uuid

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from ledger.alerts.model import AlertDraft
from ledger.chain.address import checksum_address
from ledger.errors import InvalidInput
from ledger.storage.models import Base

__all__ = [
    "CLEARED_STATES",
    "DEAD",
    "DELIVERED",
    "FED",
    "PENDING",
    "QUEUED",
    "WITHHELD",
    "OutboxAlert",
    "enqueue",
    "now_ms",
]

PENDING = "pending"  # awaiting the gate
QUEUED = "queued"  # cleared; being delivered (attempts, backoff)
DELIVERED = "delivered"  # a 2xx from the endpoint
DEAD = "dead"  # retries spent or endpoint disabled; `POST /alerts/{id}/redeliver` requeues
FED = "fed"  # cleared, the institution has no endpoint: pull feed only
WITHHELD = "withheld"  # refused by the gate: never sent, never fed
CLEARED_STATES = (QUEUED, DELIVERED, DEAD, FED)

_NAME = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")


def now_ms() -> int:
    return int(time.time() * 1000)


class OutboxAlert(Base):
    """One alert to one institution, from its enqueueing to its delivery (or refusal)."""

    __tablename__ = "alert_outbox"
    __table_args__ = (
        Index("ix_alert_outbox_due", "state", "next_attempt_ms"),
        Index("ix_alert_outbox_feed", "institution", "feed_seq"),
    )

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    id: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)  # the webhook-id
    institution: Mapped[str] = mapped_column(String(42), nullable=False)
    subject: Mapped[str] = mapped_column(String(64), nullable=False)
    event: Mapped[str] = mapped_column(String(64), nullable=False)
    categories: Mapped[str] = mapped_column(Text, nullable=False)  # JSON list of names
    severity: Mapped[str] = mapped_column(String(16), nullable=False)
    rule_id: Mapped[str] = mapped_column(String(64), nullable=False)
    rules_version: Mapped[int] = mapped_column(Integer, nullable=False)
    watch_id: Mapped[str | None] = mapped_column(String(64))
    created_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default=PENDING)
    reason: Mapped[str | None] = mapped_column(String(200))  # why withheld / dead / last failure
    # set once by the gate's clearance
    block: Mapped[int | None] = mapped_column(BigInteger)
    trail_seq: Mapped[int | None] = mapped_column(BigInteger)
    cleared_ms: Mapped[int | None] = mapped_column(BigInteger)
    feed_seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    payload: Mapped[bytes | None] = mapped_column(LargeBinary)
    # delivery
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_ms: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    delivered_ms: Mapped[int | None] = mapped_column(BigInteger)

    @property
    def category_list(self) -> list[str]:
        return list(json.loads(self.categories))


def _check(draft: AlertDraft) -> None:
    for field in ("event", "severity", "rule_id"):
        if not _NAME.match(getattr(draft, field)):
            raise InvalidInput(f"alert {field} must be 1-64 characters of A-Z a-z 0-9 _ . : -")
    if not draft.subject or len(draft.subject) > 64:
        raise InvalidInput("alert subject must be 1-64 characters")
    if not draft.categories or not all(isinstance(c, str) and _NAME.match(c) for c in draft.categories):
        raise InvalidInput("alert categories must be a non-empty tuple of category names")
    if draft.watch_id is not None and not _NAME.match(draft.watch_id):
        raise InvalidInput("alert watch_id must be 1-64 characters of A-Z a-z 0-9 _ . : -")
    if draft.rules_version < 0:
        raise InvalidInput("alert rules_version must be >= 0")


def enqueue(session: Session, draft: AlertDraft) -> str:
    """Add `draft` to the outbox in the caller's transaction (no commit); its alert id.

    The id is the alert's `webhook-id` for ever: every attempt and every redelivery sends it.
    """
    _check(draft)
    try:
        institution = checksum_address(draft.institution)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"alert institution is not an address: {draft.institution!r}") from exc
    alert_id = f"msg_{uuid.uuid4().hex}"
    session.add(
        OutboxAlert(
            id=alert_id,
            institution=institution,
            subject=draft.subject,
            event=draft.event,
            categories=json.dumps(list(draft.categories), ensure_ascii=False),
            severity=draft.severity,
            rule_id=draft.rule_id,
            rules_version=draft.rules_version,
            watch_id=draft.watch_id,
            created_ms=now_ms(),
            state=PENDING,
            attempts=0,
            next_attempt_ms=0,
        )
    )
    return alert_id
