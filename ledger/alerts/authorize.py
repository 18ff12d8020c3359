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

Asked again about an alert it already cleared (a sender that died before storing the
clearance), the gate answers the same entry instead of logging the alert twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, String, column, insert, table

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
    ) -> None:
        self.db = db
        self.authorizer = authorizer
        self.catalogue = catalogue
        self.max_block_age_seconds = max_block_age_seconds
        self.clock = clock

    def close(self) -> None:
        self.authorizer.close()

    def clear(self, alert: OutboxAlert) -> Clearance:
        """Clear `alert` (authorized at B, entry committed) or raise `Withheld`."""
        done = self._cleared(alert.id)
        if done is not None:
            return done
        watch = self._watch(alert)
        names = self._categories(alert, watch)
        mask = self.catalogue.category_mask(names)
        now = self.clock()
        query = AuthorizationQuery(
            watch.institution,
            uscc_hash(alert.subject),
            mask,
            1 << watch.purpose_bit,
            watch.agreement_id,
            self.catalogue.max_level(names, raw=False),
            int(now),
        )
        try:
            decision = self.authorizer.authorize(query)
        except LedgerError as exc:  # chain unreachable, behind: not now, never sent
            raise Withheld(exc.code, f"not authorized now: {exc.message}", final=False) from exc
        age = int(now) - decision.block_timestamp
        if age > self.max_block_age_seconds:
            raise Withheld(
                "chain_stale",
                f"the chain's latest block {decision.block_number} is {age} s old "
                f"(at most {self.max_block_age_seconds} s): not sent",
                final=False,
            )
        if not decision.allowed:
            reason = decision.reason.name.lower()
            self._audit(alert, "refused", f"{reason} at block {decision.block_number}")
            raise Withheld(reason, f"refused on chain at block {decision.block_number}: {reason}")
        try:
            return self._log(alert, watch, names, query, decision, now)
        except LedgerError as exc:
            raise Withheld(
                exc.code, f"access trail unavailable, not sent: {exc.message}", final=False
            ) from exc

    # -- steps --------------------------------------------------------------------------------

    def _cleared(self, alert_id: str) -> Clearance | None:
        with self.db.session() as session:
            row = session.get(AlertClearance, alert_id)
            return None if row is None else Clearance(block=row.block, trail_seq=row.trail_seq)

    def _watch(self, alert: OutboxAlert) -> Watch:
        if alert.watch_id is None:
            raise Withheld("watch_unknown", "an alert is authorized under a watch; this one names none")
        with self.db.session() as session:
            watch = session.get(Watch, alert.watch_id)
            if watch is not None:
                session.expunge(watch)
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

    def _log(
        self,
        alert: OutboxAlert,
        watch: Watch,
        names: list[str],
        query: AuthorizationQuery,
        decision: Decision,
        now: float,
    ) -> Clearance:
        """The trail entry, its index row and the clearance in one transaction, committed."""
        released_at = datetime.fromtimestamp(now, UTC)
        facts = alert_facts(
            alert.id, alert.event, alert.subject, names, alert.severity, decision.block_number
        )
        payload: Mapping[str, Any] = {
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
        with self.db.session() as session:
            writer = open_for_append(session, ACCESS_TRAIL_LOG)
            (entry,) = writer.append([(ALERT_ENTRY_TYPE, payload)])
            session.execute(
                insert(_ACCESS_INDEX).values(
                    seq=entry.seq,
                    subject=alert.subject,
                    institution=watch.institution,
                    released_at=released_at,
                )
            )
            session.add(AlertClearance(alert_id=alert.id, trail_seq=entry.seq, block=decision.block_number))
        return Clearance(block=decision.block_number, trail_seq=entry.seq)

    def _audit(self, alert: OutboxAlert, outcome: str, why: str) -> None:
        detail = f"{alert.id} {alert.event} subject={alert.subject} watch={alert.watch_id}: {why}"
        with contextlib.suppress(LedgerError):  # the database is down: withheld all the same
            audit_events.record(
                self.db, actor=alert.institution, event="alert.clear", outcome=outcome, detail=detail
            )
