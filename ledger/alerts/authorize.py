"""The delivery gate: each alert authorized on chain at a fresh block B and logged before it leaves.

An alert is a release of a derived result (that a record of those categories appeared,
a case was decided, a grade dropped, an operator flagged the subject): it tells the
institution something about the enterprise's consented categories. So the sender asks
this gate once per alert, before the first delivery attempt, and the gate does what the
release path does (`ledger.release.service`), failing closed at every step:

1. the alert's watch: it exists, is the alert's institution's and subject's, is not
   ended, and covers the alert's categories (`watch_unknown`, `watch_ended`,
   `category_not_watched`, final);
2. one `Consents.authorize` call for the watch's institution, the subject, the alert's
   categories at their masked level, post-loan management and the watch's agreement, at
   the present (`at`: expiries judged now) and at the chain's latest block B, checked by
   the chain watch like every release's block (a chain that came back behind refuses);
   B must be no older than `LEDGER_MAX_BLOCK_AGE_SECONDS` (else `chain_stale`, not now);
   a chain or database that cannot answer withholds the alert for now, never sends it;
3. refused by the chain (grant revoked or expired, agreement ended, commitment breached …):
   withheld for good, with the contract's reason, and written to the MLPS audit records;
4. allowed: the access-trail entry (leaf type ``alert``: who, subject, categories,
   purpose, agreement, grant, level, block B, the time, the alert's rule and the hash of
   what the webhook says) appended and COMMITTED, with its index row and the alert's
   clearance, in one transaction; only then the `Clearance` is returned.

An alert of joint action (an evasion flag) told to an institution through its loan
application or reported loan names that holding instead of a watch
(`ledger.alerts.holdings`): step 1 reads the holding from the source the wiring provides
(`holding_unknown` when it is gone), step 2 asks the chain with the holding's terms (its
agreement, the loan-application or post-loan purpose), and for an application the
holding's consent grant must also be live at the same block B (`grant_revoked`, final):
the application's grant is what the institution is told under.

Asked again about an alert it already cleared (a sender that died before storing the
clearance), the gate answers the same entry instead of logging the alert twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    DateTime,
    String,
    any_,
    bindparam,
    column,
    insert,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, Session

from ledger.alerts.holdings import Holding, HoldingSource, is_holding_ref
from ledger.alerts.model import Clearance, Withheld
from ledger.alerts.outbox import OutboxAlert
from ledger.alerts.watch_model import AlertClearance, Watch
from ledger.chain.authorize_call import AuthorizeCaller
from ledger.chain.consents import AuthorizationQuery, Decision
from ledger.chain.membership import uscc_hash
from ledger.domain.catalogue import Catalogue, CatalogueError
from ledger.domain.log_names import ACCESS_TRAIL_LOG
from ledger.errors import LedgerError
from ledger.logs.canonical_json import canonical_json
from ledger.logs.store import open_for_append
from ledger.services import audit_events
from ledger.storage import driver_sql
from ledger.storage.database import Database

__all__ = ["ALERT_ENTRY_TYPE", "AlertGate", "alert_facts"]

#: the leaf type of an alert in the access trail (the auditor's `ledger.audit.leaves` states it too)
ALERT_ENTRY_TYPE = "alert"

# The access trail's index row (`ledger.release.models.AccessRelease`, a layer above this
# one): the enterprise finds the alerts about it among its accesses (`GET /accesses`).
_ACCESS_INDEX = table(
    "access_releases",
    column("seq", BigInteger),
    column("subject", String),
    column("institution", String),
    column("released_at", DateTime(timezone=True)),
)


def _among(session: Session, column: InstrumentedAttribute[str], values: list[str]) -> ColumnElement[bool]:
    """`column IN values`; on PostgreSQL as `= ANY(array)`, one parameter: a query with
    hundreds of placeholders costs psycopg more to parse than the database to answer."""
    if driver_sql.is_postgres(session):
        return column == any_(bindparam("among", values, type_=ARRAY(String)))
    return column.in_(values)


def alert_facts(
    alert_id: str, event: str, subject: str, categories: list[str], severity: str, block: int
) -> dict[str, Any]:
    """What the webhook tells (no record content): its SHA-256 in RFC 8785 form is the entry's
    `response_hash`."""
    return {
        "alert_id": alert_id,
        "event": event,
        "subject": subject,
        "categories": categories,
        "severity": severity,
        "block": block,
    }


class AlertGate:
    """`DeliveryGate` of `ledger.alerts.gate`: authorize on chain, log, then clear."""

    def __init__(
        self,
        db: Database,
        *,
        authorizer: AuthorizeCaller,
        catalogue: Catalogue,
        max_block_age_seconds: int,
        clock: Callable[[], float] = time.time,
        holdings: HoldingSource | None = None,
    ) -> None:
        self.db = db
        #: where alerts of joint action find their application or loan (None: such alerts are withheld)
        self.holdings = holdings
        self.authorizer = authorizer
        self.catalogue = catalogue
        self.max_block_age_seconds = max_block_age_seconds
        self.clock = clock

    def close(self) -> None:
        self.authorizer.close()

    def clear(self, alert: OutboxAlert) -> Clearance:
        """Clear `alert` (authorized at B, entry committed) or raise `Withheld`."""
        (answer,) = self.clear_many([alert])
        if isinstance(answer, Clearance):
            return answer
        raise answer

    def clear_many(self, alerts: Sequence[OutboxAlert]) -> list[Clearance | Withheld]:
        """Each alert's clearance or why it is withheld, in order, for the price of one.

        The alerts' watches and earlier clearances are read in one statement, the chain
        asked in one JSON-RPC batch (each query still answered alone, at its block B), and
        the entries of all the allowed ones appended, with their index rows and clearances,
        in one transaction: one commit serves the batch, and none is cleared before it.
        A failure of the chain or the trail withholds the alerts concerned for now.
        """
        answers: dict[int, Clearance | Withheld] = {}
        done, watches = self._read(alerts)
        asking: list[tuple[int, OutboxAlert, Watch, list[str], AuthorizationQuery]] = []
        now = self.clock()
        for i, alert in enumerate(alerts):
            if alert.id in done:
                answers[i] = done[alert.id]
                continue
            try:
                watch = self._watch(alert, watches.get(alert.watch_id or ""))
                names = self._categories(alert, watch)
            except Withheld as refusal:
                answers[i] = refusal
                continue
            asking.append((i, alert, watch, names, self._query(alert, watch, names, now)))
        if asking:
            self._decide(asking, now, answers)
        return [answers[i] for i in range(len(alerts))]

    # -- steps --------------------------------------------------------------------------------

    def _read(self, alerts: Sequence[OutboxAlert]) -> tuple[dict[str, Clearance], dict[str, Watch]]:
        """Earlier clearances by alert id and the watches by id, in one session."""
        ids = [a.id for a in alerts]
        watch_ids = sorted({a.watch_id for a in alerts if a.watch_id is not None})
        with self.db.session() as session:
            cleared = session.scalars(
                select(AlertClearance).where(_among(session, AlertClearance.alert_id, ids))
            )
            done = {c.alert_id: Clearance(block=c.block, trail_seq=c.trail_seq) for c in cleared}
            plain = [w for w in watch_ids if not is_holding_ref(w)]
            found = list(session.scalars(select(Watch).where(_among(session, Watch.id, plain))))
            held = [w for w in watch_ids if is_holding_ref(w)]
            if held and self.holdings is not None:
                found.extend(_as_watch(h) for h in self.holdings.resolve(session, held).values())
            session.expunge_all()
        return done, {w.id: w for w in found}

    def _watch(self, alert: OutboxAlert, watch: Watch | None) -> Watch:
        if alert.watch_id is None:
            raise Withheld("watch_unknown", "an alert is authorized under a watch; this one names none")
        if is_holding_ref(alert.watch_id) and (
            watch is None or watch.institution != alert.institution or watch.subject != alert.subject
        ):
            raise Withheld(
                "holding_unknown", f"no {alert.watch_id} of {alert.institution} on {alert.subject}"
            )
        if watch is None or watch.institution != alert.institution or watch.subject != alert.subject:
            raise Withheld(
                "watch_unknown", f"no watch {alert.watch_id} of {alert.institution} on {alert.subject}"
            )
        if watch.ended_at is not None:
            raise Withheld("watch_ended", f"watch {watch.id} was ended: it yields nothing")
        return watch

    def _categories(self, alert: OutboxAlert, watch: Watch) -> list[str]:
        try:
            names = self.catalogue.categories_in_mask(self.catalogue.category_mask(alert.category_list))
        except CatalogueError as exc:
            raise Withheld("category_unknown", exc.message) from None
        if not set(names) <= set(json.loads(watch.categories)):
            raise Withheld("category_not_watched", f"watch {watch.id} does not cover {', '.join(names)}")
        return names

    def _query(self, alert: OutboxAlert, watch: Watch, names: list[str], now: float) -> AuthorizationQuery:
        """What the chain is asked: the watch's terms for the alert's categories, masked, now."""
        return AuthorizationQuery(
            watch.institution,
            uscc_hash(alert.subject),
            self.catalogue.category_mask(names),
            1 << watch.purpose_bit,
            watch.agreement_id,
            self.catalogue.max_level(names, raw=False),
            int(now),
        )

    def _decide(
        self,
        asking: list[tuple[int, OutboxAlert, Watch, list[str], AuthorizationQuery]],
        now: float,
        answers: dict[int, Clearance | Withheld],
    ) -> None:
        """Steps 2-4 for the alerts that reached the chain."""
        # the same question (institution, subject, categories, purpose, agreement, level, time)
        # is asked once: its answer at block B serves every alert that asks it
        unique: dict[AuthorizationQuery, int] = {}
        for *_, query in asking:
            unique.setdefault(query, len(unique))
        try:
            answered = self.authorizer.authorize_many(list(unique))
            decisions = [answered[unique[query]] for *_, query in asking]
        except LedgerError as exc:  # chain unreachable, behind: not now, never sent
            for i, *_ in asking:
                answers[i] = Withheld(exc.code, f"not authorized now: {exc.message}", final=False)
            return
        allowed: list[tuple[int, OutboxAlert, Watch, list[str], AuthorizationQuery, Decision]] = []
        refused: list[tuple[OutboxAlert, str]] = []
        for (i, alert, watch, names, query), decision in zip(asking, decisions, strict=True):
            age = int(now) - decision.block_timestamp
            if age > self.max_block_age_seconds:
                answers[i] = Withheld(
                    "chain_stale",
                    f"the chain's latest block {decision.block_number} is {age} s old "
                    f"(at most {self.max_block_age_seconds} s): not sent",
                    final=False,
                )
            elif not decision.allowed:
                reason = decision.reason.name.lower()
                answers[i] = Withheld(reason, f"refused on chain at block {decision.block_number}: {reason}")
                refused.append((alert, f"{reason} at block {decision.block_number}"))
            else:
                refusal = self._holding_grant(watch, decision, now)
                if refusal is None:
                    allowed.append((i, alert, watch, names, query, decision))
                    continue
                answers[i] = refusal
                if refusal.final:
                    refused.append((alert, f"{refusal.reason}: {refusal.message}"))
        if refused:
            self._audit(refused)
        if not allowed:
            return
        try:
            cleared = self._log([(a, w, n, q, d) for _, a, w, n, q, d in allowed], now)
        except LedgerError as exc:
            for i, *_ in allowed:
                answers[i] = Withheld(
                    exc.code, f"access trail unavailable, not sent: {exc.message}", final=False
                )
            return
        for (i, *_), clearance in zip(allowed, cleared, strict=True):
            answers[i] = clearance

    def _holding_grant(self, watch: Watch, decision: Decision, now: float) -> Withheld | None:
        """For an application's holding: None when its consent grant is live at the decision's
        block B, else why not (revoked or expired: final; the chain not answering: not now)."""
        if not (watch.grant_id and is_holding_ref(watch.id) and self.holdings is not None):
            return None
        block = decision.block_number
        try:
            live = self.holdings.grant_live(watch.grant_id, block, int(now))
        except LedgerError as exc:
            return Withheld(exc.code, f"not authorized now: {exc.message}", final=False)
        if live:
            return None
        return Withheld("grant_revoked", f"grant {watch.grant_id} of {watch.id} is not live at block {block}")

    def _log(
        self, allowed: list[tuple[OutboxAlert, Watch, list[str], AuthorizationQuery, Decision]], now: float
    ) -> list[Clearance]:
        """The entries, their index rows and the clearances in one transaction, committed."""
        released_at = datetime.fromtimestamp(now, UTC)
        items = [(ALERT_ENTRY_TYPE, _payload(*item, released_at)) for item in allowed]
        with self.db.session() as session:
            appended = open_for_append(session, ACCESS_TRAIL_LOG).append(items)
            rows = []
            out = []
            for (alert, watch, _, _, decision), entry in zip(allowed, appended, strict=True):
                rows.append(
                    {
                        "seq": entry.seq,
                        "subject": alert.subject,
                        "institution": watch.institution,
                        "released_at": released_at,
                    }
                )
                session.add(
                    AlertClearance(alert_id=alert.id, trail_seq=entry.seq, block=decision.block_number)
                )
                out.append(Clearance(block=decision.block_number, trail_seq=entry.seq))
            session.execute(insert(_ACCESS_INDEX), rows)
        return out

    def _audit(self, refused: list[tuple[OutboxAlert, str]]) -> None:
        """The chain's refusals, in the MLPS audit records (the alerts are withheld all the same)."""
        events = [
            (
                a.institution,
                "alert.clear",
                "refused",
                f"{a.id} {a.event} subject={a.subject} watch={a.watch_id}: {why}",
            )
            for a, why in refused
        ]
        with contextlib.suppress(LedgerError):  # the database is down: withheld all the same
            audit_events.record_all(self.db, events)


def _as_watch(holding: Holding) -> Watch:
    """A holding in the shape of a watch (never stored): the terms its alerts are authorized under."""
    names = sorted(holding.categories)
    return Watch(
        id=holding.ref,
        institution=holding.institution,
        subject=holding.subject,
        categories=json.dumps(names),
        category_mask="0",
        agreement_id=holding.agreement_id,
        purpose_bit=holding.purpose_bit,
        created_at=datetime.fromtimestamp(0, UTC),
        created_block=0,
        grant_id=holding.grant_id,
        ended_at=None,
    )


def _payload(
    alert: OutboxAlert,
    watch: Watch,
    names: list[str],
    query: AuthorizationQuery,
    decision: Decision,
    released_at: datetime,
) -> dict[str, Any]:
    """The alert's access-trail entry: a masked release of its categories to the watch's institution."""
    facts = alert_facts(alert.id, alert.event, alert.subject, names, alert.severity, decision.block_number)
    return {
        "kind": ALERT_ENTRY_TYPE,
        "alert_id": alert.id,
        "institution": watch.institution,
        "subject": alert.subject,
        "categories": str(query.categories),
        "purpose": str(query.purpose),
        "agreement_id": watch.agreement_id,
        "grant_id": decision.grant_id,
        "raw_categories": "0",
        "level": query.level,
        "block": decision.block_number,
        "released_at": released_at.isoformat(),
        "watch_id": watch.id,
        "event": alert.event,
        "rule_id": alert.rule_id,
        "rules_version": alert.rules_version,
        "severity": alert.severity,
        "response_hash": "0x" + hashlib.sha256(canonical_json(facts)).hexdigest(),
    }
