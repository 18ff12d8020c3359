"""The triggers: state changes turned into alerts by the rules, in the SAME transaction.

Each entry point is handed the session of the transaction that makes the state change
(the records ingestion's, the self-service decision's, the evaluation's trail
transaction, the operator's flag) and calls `enqueue` in it, so an alert exists exactly
when the change does: both commit, or neither.

Who is told (`recipients`): every institution whose active watch of the subject covers
the alert's categories. Consent is not judged here: every alert is authorized again at
delivery, on chain at a fresh block B (`ledger.alerts.authorize`), so a watch whose grant
was revoked meanwhile yields nothing. For joint action against malicious debt evasion,
`recipients` also adds every institution holding a loan application of the subject or a
reported loan to it (`ledger.alerts.holdings`, filled by the wiring from the financing
tables), each with the holding its alerts are authorized under in place of a watch.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.alerts.holdings import HoldingSource
from ledger.alerts.model import AlertDraft
from ledger.alerts.outbox import PENDING, OutboxAlert, enqueue
from ledger.alerts.rules import Rule, RuleSet, Trigger
from ledger.alerts.watch_model import Watch
from ledger.records.ingest import StoredRecord
from ledger.storage import driver_sql

__all__ = ["AlertTriggers", "Recipient", "recipients"]


@dataclass(frozen=True)
class Recipient:
    """An institution to tell about a subject, and the watch its alerts are authorized under."""

    institution: str
    watch_id: str
    categories: frozenset[str]


def recipients(
    session: Session, subjects: Iterable[str], holdings: HoldingSource | None = None
) -> dict[str, list[Recipient]]:
    """Per subject, who is told about it: every institution with an active watch, and
    with `holdings` (joint action) every institution holding an application or a reported
    loan of it. One recipient per institution: its watch first, else its first holding
    whose categories suit (the caller checks its rule's categories against them).
    """
    wanted = sorted(set(subjects))
    out: dict[str, list[Recipient]] = {s: [] for s in wanted}
    if not wanted:
        return out
    query = select(Watch.subject, Watch.institution, Watch.id, Watch.categories).where(
        Watch.subject.in_(wanted), Watch.ended_at.is_(None)
    )
    for subject, institution, watch_id, categories in session.execute(query.order_by(Watch.created_at)):
        out[subject].append(Recipient(institution, watch_id, frozenset(json.loads(categories))))
    if holdings is not None:
        for h in holdings.holdings(session, wanted):
            out[h.subject].append(Recipient(h.institution, h.ref, h.categories))
    return out


class AlertTriggers:
    """The rules' triggers, each enqueueing in the caller's transaction; returns the alert ids."""

    def __init__(self, rules: RuleSet, *, holdings: HoldingSource | None = None) -> None:
        self.rules = rules
        #: applications and reported loans, told of an evasion flag (joint action)
        self.holdings = holdings

    def _draft(self, rule: Rule, to: Recipient, subject: str, categories: Sequence[str]) -> AlertDraft:
        return AlertDraft(
            institution=to.institution,
            subject=subject,
            event=rule.event,
            categories=tuple(categories),
            severity=rule.severity.value,
            rule_id=rule.id,
            rules_version=self.rules.version,
            watch_id=to.watch_id,
        )

    def _tell(
        self, session: Session, rule: Rule, subject: str, categories: Sequence[str], to: Iterable[Recipient]
    ) -> list[str]:
        """One alert per recipient whose watch covers every category of it."""
        needed = set(categories)
        return [
            enqueue(session, self._draft(rule, r, subject, categories)) for r in to if needed <= r.categories
        ]

    def on_records(self, session: Session, stored: Sequence[StoredRecord]) -> list[str]:
        """New and corrected records of the rules' categories (enforcement, penalties,
        arrears, dishonesty lists), matching their conditions."""
        rules = self.rules.by_trigger(Trigger.RECORD)
        fired = [
            (fact, rule)
            for fact in stored
            for rule in rules
            if rule.matches_record(fact.category, fact.corrected, fact.fields)
        ]
        if not fired:
            return []
        told = recipients(session, {fact.subject for fact, _ in fired})
        ids: list[str] = []
        for fact, rule in fired:
            ids.extend(self._tell(session, rule, fact.subject, [fact.category], told[fact.subject]))
        return ids

    def on_case_decided(
        self, session: Session, kind: str, outcome: str, subject: str, category: str
    ) -> list[str]:
        """Good news is news: an objection found right (the record corrected) or a repair approved."""
        trigger = {
            ("objection", "corrected"): Trigger.OBJECTION_UPHELD,
            ("repair", "approved"): Trigger.REPAIR_APPROVED,
        }.get((kind, outcome))
        if trigger is None:
            return []
        rules = [r for r in self.rules.by_trigger(trigger) if category in r.categories]
        if not rules:
            return []
        told = recipients(session, [subject])[subject]
        return [i for rule in rules for i in self._tell(session, rule, subject, [category], told)]

    def on_evaluation(
        self,
        session: Session,
        *,
        institution: str,
        subject: str,
        grade: str | None,
        previous_grade: str | None,
        categories: Sequence[str],
    ) -> list[str]:
        """A drop of the grade: `grade` worse than the same institution's previous evaluation
        of the subject (grades A best … E worst). Told only to that institution, through its
        watch covering the model's input categories.

        Called inside the evaluation's access-trail transaction, which on PostgreSQL runs in
        the driver's pipeline mode where ORM statements cannot run: the watches are read and
        the alerts written as driver statements (`ledger.storage.driver_sql`), in the same
        transaction all the same.
        """
        if grade is None or previous_grade is None or not grade_dropped(previous_grade, grade):
            return []
        rows = driver_sql.query(
            session,
            "SELECT id, categories FROM alert_watches WHERE subject = :subject "
            "AND institution = :institution AND ended_at IS NULL ORDER BY created_at",
            {"subject": subject, "institution": institution},
        )
        told = [Recipient(institution, watch_id, frozenset(json.loads(cats))) for watch_id, cats in rows]
        needed = set(categories)
        ids = []
        for rule in self.rules.by_trigger(Trigger.GRADE_DROP):
            for r in told:
                if needed <= r.categories:
                    ids.append(enqueue_driver(session, self._draft(rule, r, subject, categories)))
        return ids

    def on_evasion_flag(self, session: Session, subject: str) -> list[str]:
        """Malicious debt evasion flagged by an operator (joint action): every institution
        that watches the subject, holds an application of it or reported a loan to it; one
        alert per institution and rule, through the first of its bases that covers the rule."""
        told = recipients(session, [subject], self.holdings)[subject]
        ids: list[str] = []
        for rule in self.rules.by_trigger(Trigger.EVASION_FLAG):
            needed = set(rule.categories)
            first: dict[str, Recipient] = {}
            for r in told:
                if needed <= r.categories:
                    first.setdefault(r.institution, r)
            ids.extend(self._tell(session, rule, subject, rule.categories, first.values()))
        return ids


_GRADES = "ABCDE"


def grade_dropped(previous: str, latest: str) -> bool:
    """Whether `latest` is a worse grade than `previous` (A best, E worst); unknown grades never drop."""
    if previous not in _GRADES or latest not in _GRADES:
        return False
    return _GRADES.index(latest) > _GRADES.index(previous)


_INSERT_ALERT = (
    "INSERT INTO alert_outbox (id, institution, subject, event, categories, severity, rule_id, "
    "rules_version, watch_id, created_ms, state, attempts, next_attempt_ms) VALUES (:id, :institution, "
    ":subject, :event, :categories, :severity, :rule_id, :rules_version, :watch_id, :created_ms, "
    ":state, 0, 0)"
)


def enqueue_driver(session: Session, draft: AlertDraft) -> str:
    """`enqueue` as one driver statement in the caller's transaction (for a transaction in
    pipeline mode): the same checks and the same row as `ledger.alerts.outbox.enqueue`."""
    with Session() as scratch:  # enqueue's checks and row, made without touching `session`
        alert_id = enqueue(scratch, draft)
        (row,) = [o for o in scratch.new if isinstance(o, OutboxAlert)]
        scratch.expunge_all()
    driver_sql.execute(
        session,
        _INSERT_ALERT,
        {
            "id": alert_id,
            "institution": row.institution,
            "subject": row.subject,
            "event": row.event,
            "categories": row.categories,
            "severity": row.severity,
            "rule_id": row.rule_id,
            "rules_version": row.rules_version,
            "watch_id": row.watch_id,
            "created_ms": row.created_ms,
            "state": PENDING,
        },
    )
    return alert_id
