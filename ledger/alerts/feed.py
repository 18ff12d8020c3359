"""The pull feed and redelivery: what an institution reads and asks for itself.

`feed(institution, after)` lists the institution's cleared alerts in the order the sender
cleared them (`feed_seq`, the cursor), whether or not they were pushed: institutions
without an endpoint poll it, and one with an endpoint can catch up from it. Pending
alerts (not yet through the gate) and withheld ones are never listed.

`redeliver(institution, alert_id)` puts a dead (or delivered) alert back in the queue,
with its attempts reset; it is sent again with the same `webhook-id` and body.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import select

from ledger.alerts.endpoint_model import ACTIVE, AlertEndpoint
from ledger.alerts.outbox import CLEARED_STATES, DEAD, DELIVERED, QUEUED, OutboxAlert, now_ms
from ledger.chain.address import checksum_address
from ledger.errors import Conflict, InvalidInput, NotFound
from ledger.storage.database import Database

__all__ = ["AlertFeed", "FeedItem", "FeedPage"]

MAX_PAGE = 500


@dataclass(frozen=True)
class FeedItem:
    alert_id: Annotated[str, Field(description="the alert id, its webhook-id on every attempt")]
    cursor: Annotated[str, Field(description="its place in the feed")]
    state: Annotated[str, Field(description="queued, delivered, dead (redeliverable) or fed (feed only)")]
    attempts: Annotated[int, Field(description="delivery attempts so far")]
    payload: Annotated[dict[str, Any], Field(description="the thin payload, exactly as pushed")]


@dataclass(frozen=True)
class FeedPage:
    items: list[FeedItem]
    next_cursor: Annotated[str, Field(description="pass as `after` for the next page (unchanged if none)")]


def parse_cursor(after: str | None) -> int:
    if after is None or after == "":
        return 0
    if not after.isdigit() or len(after) > 18:
        raise InvalidInput("cursor must be a cursor returned by the feed (decimal digits)")
    return int(after)


def _item(row: OutboxAlert) -> FeedItem:
    return FeedItem(row.id, str(row.feed_seq), row.state, row.attempts, json.loads(row.payload or b"{}"))


class AlertFeed:
    def __init__(self, db: Database) -> None:
        self.db = db

    def feed(self, institution: str, after: str | None, limit: int = 100) -> FeedPage:
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")
        start = parse_cursor(after)
        with self.db.session() as session:
            rows = list(
                session.scalars(
                    select(OutboxAlert)
                    .where(
                        OutboxAlert.institution == checksum_address(institution),
                        OutboxAlert.state.in_(CLEARED_STATES),
                        OutboxAlert.feed_seq > start,
                    )
                    .order_by(OutboxAlert.feed_seq)
                    .limit(limit)
                )
            )
        items = [_item(r) for r in rows]
        return FeedPage(items, items[-1].cursor if items else str(start))

    def alert(self, institution: str, alert_id: str) -> FeedItem:
        with self.db.session() as session:
            return _item(self._cleared(session, institution, alert_id))

    def redeliver(self, institution: str, alert_id: str) -> FeedItem:
        """Queue a dead or delivered alert again; 409 if it is queued or has no endpoint."""
        with self.db.session() as session:
            row = self._cleared(session, institution, alert_id)
            if row.state == QUEUED:
                raise Conflict("the alert is already queued for delivery")
            if row.state not in (DEAD, DELIVERED):
                raise Conflict(f"the alert is {row.state}: only a dead or delivered alert is redelivered")
            endpoint = session.scalars(
                select(AlertEndpoint.id).where(
                    AlertEndpoint.institution == row.institution, AlertEndpoint.state == ACTIVE
                )
            ).one_or_none()
            if endpoint is None:
                raise Conflict("no active alert endpoint: register one first (or read the pull feed)")
            row.state, row.attempts, row.next_attempt_ms = QUEUED, 0, now_ms()
            row.reason, row.delivered_ms = "redelivery requested", None
            return _item(row)

    @staticmethod
    def _cleared(session: Any, institution: str, alert_id: str) -> OutboxAlert:
        row = session.scalars(
            select(OutboxAlert).where(
                OutboxAlert.id == alert_id,
                OutboxAlert.institution == checksum_address(institution),
                OutboxAlert.state.in_(CLEARED_STATES),
            )
        ).one_or_none()
        if row is None:  # pending, withheld or another institution's: not there for this caller
            raise NotFound(f"no alert {alert_id} for this institution")
        assert isinstance(row, OutboxAlert)
        return row
