"""The sender's reads and writes of the outbox, each one short transaction.

Only the leading sender (`ledger.alerts.sender`) calls these, so the pull feed's cursor
(`feed_seq`) can be allocated as one more than the highest in use: alerts enter the feed
in the order they were cleared and a reader's cursor never skips one committed later.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Table, bindparam, func, select, update

from ledger.alerts.endpoint_model import ACTIVE, DISABLED, AlertEndpoint
from ledger.alerts.gate import DeliveryGate
from ledger.alerts.model import Clearance, Withheld
from ledger.alerts.outbox import FED, PENDING, QUEUED, WITHHELD, OutboxAlert, now_ms
from ledger.alerts.secret_seal import development_keyring, open_secret
from ledger.alerts.signing import alert_payload
from ledger.records.crypto import Keyring, SealedDataError
from ledger.storage.database import Database

__all__ = ["Due", "EndpointView", "Result", "SenderStore"]

#: the outbox as a Core table: batches of row updates are one compiled statement, executemany
_TABLE: Table = OutboxAlert.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class EndpointView:
    """What a delivery needs of an endpoint: where, and the secrets that sign now."""

    id: str
    institution: str
    url: str
    keys: tuple[str, ...]
    #: why nothing can be signed for it (its secret does not open); None when it can
    problem: str | None = None


@dataclass(frozen=True)
class Due:
    """A queued alert due for an attempt."""

    seq: int
    id: str
    institution: str
    payload: bytes
    attempts: int


@dataclass(frozen=True)
class Result:
    """What one attempt changes in the alert's row (and perhaps its endpoint)."""

    seq: int
    state: str
    attempts: int
    next_attempt_ms: int
    reason: str | None
    delivered_ms: int | None = None
    disable_endpoint: str | None = None  # an endpoint id answered 410


@dataclass(frozen=True)
class ClearedCount:
    cleared: int
    withheld: int
    deferred: int


class SenderStore:
    def __init__(self, db: Database, keyring: Keyring | None = None) -> None:
        self.db = db
        #: opens the endpoints' sealed secrets (`ledger.alerts.secret_seal`)
        self.keyring = keyring or development_keyring()
        # The sender's writers (clearing, results) take turns: on SQLite two writing
        # connections would otherwise wait on each other in the busy handler's sleeps.
        self._writing = threading.Lock()

    # -- the gate ------------------------------------------------------------------------

    def clear_pending(self, gate: DeliveryGate, *, limit: int, retry_ms: int) -> ClearedCount:
        """Ask the gate about up to `limit` due pending alerts and record its answers."""
        now = now_ms()
        with self.db.session() as session:
            alerts = list(
                session.scalars(
                    select(OutboxAlert)
                    .where(OutboxAlert.state == PENDING, OutboxAlert.next_attempt_ms <= now)
                    .order_by(OutboxAlert.seq)
                    .limit(limit)
                )
            )
            session.expunge_all()
        if not alerts:
            return ClearedCount(0, 0, 0)
        answers: list[tuple[OutboxAlert, Clearance | Withheld | str]] = []
        clear_many = getattr(gate, "clear_many", None)  # a gate that clears a batch at once
        if clear_many is not None:
            try:
                batch: list[Clearance | Withheld] = clear_many(alerts)
            except Exception as exc:  # any failure of the gate: not now, never sent
                failed = Withheld("gate", f"{exc.__class__.__name__}: {exc}"[:200], final=False)
                batch = [failed] * len(alerts)
            for alert, got in zip(alerts, batch, strict=True):
                if isinstance(got, Withheld) and not got.final:
                    answers.append((alert, f"gate: {got.reason}"))
                else:
                    answers.append((alert, got))
        for alert in alerts if clear_many is None else ():
            try:
                answers.append((alert, gate.clear(alert)))
            except Withheld as refusal:
                answers.append((alert, refusal if refusal.final else f"gate: {refusal.reason}"))
            except Exception as exc:  # any failure of the gate: not now, never sent
                answers.append((alert, f"gate: {exc.__class__.__name__}: {exc}"[:200]))
        cleared_rows: list[dict[str, object]] = []
        withheld_rows: list[dict[str, object]] = []
        deferred_rows: list[dict[str, object]] = []
        with self._writing, self.db.session() as session:
            active = set(
                session.scalars(select(AlertEndpoint.institution).where(AlertEndpoint.state == ACTIVE))
            )
            feed_seq = int(session.scalar(select(func.max(OutboxAlert.feed_seq))) or 0)
            for alert, answer in answers:
                if isinstance(answer, Clearance):
                    feed_seq += 1
                    cleared_ms = now_ms()
                    cleared_rows.append(
                        {
                            "b_seq": alert.seq,
                            "b_state": QUEUED if alert.institution in active else FED,
                            "b_block": answer.block,
                            "b_trail_seq": answer.trail_seq,
                            "b_cleared_ms": cleared_ms,
                            "b_feed_seq": feed_seq,
                            "b_payload": alert_payload(
                                alert_id=alert.id,
                                event=alert.event,
                                subject=alert.subject,
                                categories=alert.category_list,
                                severity=alert.severity,
                                block=answer.block,
                                rule_id=alert.rule_id,
                                rules_version=alert.rules_version,
                                watch_id=alert.watch_id,
                                trail_seq=answer.trail_seq,
                                cleared_ms=cleared_ms,
                            ),
                        }
                    )
                elif isinstance(answer, Withheld):
                    withheld_rows.append(
                        {"b_seq": alert.seq, "b_reason": f"{answer.reason}: {answer.message}"[:200]}
                    )
                else:
                    deferred_rows.append(
                        {"b_seq": alert.seq, "b_reason": answer, "b_next": now_ms() + retry_ms}
                    )
            pending = (_TABLE.c.seq == bindparam("b_seq")) & (_TABLE.c.state == PENDING)
            if cleared_rows:
                session.execute(
                    _TABLE.update()
                    .where(pending)
                    .values(
                        state=bindparam("b_state"),
                        block=bindparam("b_block"),
                        trail_seq=bindparam("b_trail_seq"),
                        cleared_ms=bindparam("b_cleared_ms"),
                        feed_seq=bindparam("b_feed_seq"),
                        payload=bindparam("b_payload"),
                        next_attempt_ms=0,
                        reason=None,
                    ),
                    cleared_rows,
                )
            if withheld_rows:
                session.execute(
                    _TABLE.update().where(pending).values(state=WITHHELD, reason=bindparam("b_reason")),
                    withheld_rows,
                )
            if deferred_rows:
                session.execute(
                    _TABLE.update()
                    .where(pending)
                    .values(next_attempt_ms=bindparam("b_next"), reason=bindparam("b_reason")),
                    deferred_rows,
                )
        cleared, withheld, deferred = len(cleared_rows), len(withheld_rows), len(deferred_rows)
        return ClearedCount(cleared, withheld, deferred)

    # -- delivery ------------------------------------------------------------------------

    def endpoints(self, now: int) -> dict[str, EndpointView]:
        """Active endpoints by institution, with the secrets that sign at `now`, opened.

        An endpoint whose secret does not open (key not configured, tampered, copied from
        another row) has no keys and names the problem: nothing is pushed to it, signed with
        a wrong key or not at all; its alerts are dead letters saying why (and in the pull feed)."""
        with self.db.session() as session:
            rows = session.scalars(select(AlertEndpoint).where(AlertEndpoint.state == ACTIVE)).all()
            views = {}
            for row in rows:
                try:
                    keys = [open_secret(self.keyring, row.id, "secret", row.secret)]
                    if row.previous_secret and (row.previous_until_ms or 0) > now:
                        keys.append(open_secret(self.keyring, row.id, "previous_secret", row.previous_secret))
                except SealedDataError as exc:
                    views[row.institution] = EndpointView(row.id, row.institution, row.url, (), exc.message)
                    continue
                views[row.institution] = EndpointView(row.id, row.institution, row.url, tuple(keys))
            return views

    def due(self, now: int, per_institution: int) -> list[Due]:
        """Due queued alerts, at most `per_institution` (oldest first) for each institution.

        Rows being sent stay queued until their result is written, so they fill an
        institution's share: a slow endpoint's alerts never crowd out the others'.
        """
        rank = (
            func.row_number()
            .over(partition_by=OutboxAlert.institution, order_by=OutboxAlert.seq)
            .label("rank")
        )
        inner = (
            select(
                OutboxAlert.seq,
                OutboxAlert.id,
                OutboxAlert.institution,
                OutboxAlert.payload,
                OutboxAlert.attempts,
                rank,
            )
            .where(OutboxAlert.state == QUEUED, OutboxAlert.next_attempt_ms <= now)
            .subquery()
        )
        query = select(inner).where(inner.c.rank <= per_institution).order_by(inner.c.seq)
        with self.db.session() as session:
            return [
                Due(row.seq, row.id, row.institution, bytes(row.payload or b""), row.attempts)
                for row in session.execute(query)
            ]

    def record(self, results: Sequence[Result]) -> None:
        """Write a batch of attempts' results in one transaction (only over queued rows)."""
        if not results:
            return
        rows = [
            {
                "b_seq": r.seq,
                "b_state": r.state,
                "b_attempts": r.attempts,
                "b_next": r.next_attempt_ms,
                "b_reason": r.reason,
                "b_delivered": r.delivered_ms,
            }
            for r in results
        ]
        gone = sorted({r.disable_endpoint for r in results if r.disable_endpoint is not None})
        with self._writing, self.db.session() as session:
            session.execute(
                _TABLE.update()
                .where((_TABLE.c.seq == bindparam("b_seq")) & (_TABLE.c.state == QUEUED))
                .values(
                    state=bindparam("b_state"),
                    attempts=bindparam("b_attempts"),
                    next_attempt_ms=bindparam("b_next"),
                    reason=bindparam("b_reason"),
                    delivered_ms=bindparam("b_delivered"),
                ),
                rows,
            )
            if gone:
                session.execute(
                    update(AlertEndpoint)
                    .where(AlertEndpoint.id.in_(gone), AlertEndpoint.state == ACTIVE)
                    .values(state=DISABLED, reason="answered 410 Gone", updated_ms=now_ms())
                )
