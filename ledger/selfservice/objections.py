"""Objections (异议申诉): an enterprise disputes a record; the provider or an operator decides.

The workflow, with its deadlines in working days of the operators' calendar (settings
`objection_*`; domain-rules.md §4 after 上海市社会信用条例 Art. 36, a local template, and
征信业管理条例 Art. 25 for the outer bound):

1. *filed* by the enterprise the record is about, with reasons and the hashes of its
   evidence. The record is disputed at once: every release of it carries
   `"disputed": true` until the objection is closed. The platform decides within
   `objection_platform_working_days`, or forwards it to the provider within
   `objection_forward_working_days`;
2. *forwarded* (operator): the provider decides within `objection_provider_working_days`
   of the forwarding; never later than `objection_outer_bound_days` calendar days after
   filing;
3. *decided* by the record's provider or an operator: **corrected** (the correction is
   ingested as the next version of the record, through the records ingestion) or
   **upheld** with reasons; or *withdrawn* by the enterprise;
4. overdue objections are listed, and escalated once (operator, e.g. from a scheduler).

A decision applies to the version the objection was filed against: once the record has
another version the decision is refused (`record_superseded`); the enterprise withdraws
and objects to the new version if it still disagrees.

Every state change is a leaf of the credit-record log, a notice to the enterprise and
an MLPS audit record, all in the transaction of the change; refusals are audited too.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.chain.membership import Member, Role, uscc_hash
from ledger.domain.cases import OPEN_OBJECTION
from ledger.errors import InvalidInput, NotAuthorized
from ledger.records.ingest import RecordsConflict
from ledger.records.models import CreditRecord
from ledger.selfservice import leaves
from ledger.selfservice.calendar import load_calendar
from ledger.selfservice.context import (
    SelfServiceContext,
    audit,
    audited,
    ingest_one,
    latest_version,
    normalize_hashes,
    own_record,
    require_subject,
)
from ledger.selfservice.errors import (
    AlreadyDecided,
    CorrectionInvalid,
    NotTheDecider,
    ObjectionAlreadyForwarded,
    ObjectionAlreadyOpen,
    OwnDeclaration,
    RecordSuperseded,
    UnknownObjection,
)
from ledger.selfservice.models import Objection
from ledger.selfservice.notices import notify
from ledger.selfservice.workdays import add_working_days

__all__ = ["Correction", "ObjectionStatus", "ObjectionView", "ObjectionsService", "Outcome"]

MAX_REASONS = 4000


class ObjectionStatus(StrEnum):
    OPEN = "open"  # with the platform
    FORWARDED = "forwarded"  # with the provider
    CORRECTED = "corrected"
    UPHELD = "upheld"
    WITHDRAWN = "withdrawn"


class Outcome(StrEnum):
    CORRECTED = "corrected"
    UPHELD = "upheld"


@dataclass(frozen=True)
class Correction:
    """Changes to the objected version: `fields` are merged over its values (null removes one)."""

    fields: dict[str, Any]
    event_date: date | None = None
    severity: str | None = None


@dataclass(frozen=True)
class ObjectionView:
    id: str
    record_id: str
    record_version: int
    subject: str
    enterprise: str
    provider: str
    reasons: str
    evidence: list[str]
    status: ObjectionStatus
    filed_at: datetime
    filed_on: date
    forward_by: date
    due_on: date
    outer_due_on: date
    overdue: bool
    forwarded_at: datetime | None
    escalated_at: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    decision_reasons: str | None
    corrected_version: int | None
    log_index: int
    decision_log_index: int | None


def _view(o: Objection, today: date) -> ObjectionView:
    status = ObjectionStatus(o.status)
    return ObjectionView(
        id=o.id,
        record_id=o.record_id,
        record_version=o.record_version,
        subject=o.subject,
        enterprise=o.enterprise,
        provider=o.provider,
        reasons=o.reasons,
        evidence=list(json.loads(o.evidence)),
        status=status,
        filed_at=o.filed_at,
        filed_on=o.filed_on,
        forward_by=o.forward_by,
        due_on=o.due_on,
        outer_due_on=o.outer_due_on,
        overdue=o.status in OPEN_OBJECTION and o.due_on < today,
        forwarded_at=o.forwarded_at,
        escalated_at=o.escalated_at,
        decided_by=o.decided_by,
        decided_at=o.decided_at,
        decision_reasons=o.decision_reasons,
        corrected_version=o.corrected_version,
        log_index=int(o.log_seq),
        decision_log_index=None if o.decision_log_seq is None else int(o.decision_log_seq),
    )


def _reasons(reasons: str, field: str = "reasons") -> str:
    text = reasons.strip()
    if not text:
        raise InvalidInput(f"{field}: state the reasons")
    if len(text) > MAX_REASONS:
        raise InvalidInput(f"{field}: at most {MAX_REASONS} characters")
    return text


class ObjectionsService:
    def __init__(self, ctx: SelfServiceContext) -> None:
        self.ctx = ctx
        self.settings = ctx.settings

    # -- filing ---------------------------------------------------------------------------

    def file(
        self, caller: str, member: Member, *, record_id: str, reasons: str, evidence: list[str]
    ) -> ObjectionView:
        """Object to the current version of `record_id`: it is disputed from this moment on."""
        with audited(self.ctx.db, caller, "objection.file"):
            text = _reasons(reasons)
            hashes = normalize_hashes(evidence, "evidence", most=50)
            now, today = self.ctx.now(), self.ctx.today()
            with self.ctx.db.session() as session:
                writer = leaves.lock_record_log(session)  # before reading what the filing depends on
                record = own_record(session, caller, member, record_id, "object to a record about it")
                if record.provider == caller:
                    raise OwnDeclaration(
                        f"record {record_id} is the enterprise's own declaration: submit a correction "
                        "(POST /self/declarations with corrects) instead"
                    )
                already = session.scalars(
                    select(Objection).where(
                        Objection.record_id == record_id, Objection.status.in_(OPEN_OBJECTION)
                    )
                ).first()
                if already is not None:
                    raise ObjectionAlreadyOpen(
                        f"record {record_id} already has open objection {already.id} "
                        f"(filed {already.filed_on})"
                    )
                calendar = load_calendar(session, today)
                outer = today + timedelta(days=self.settings.objection_outer_bound_days)
                row = Objection(
                    id=str(uuid.uuid4()),
                    record_id=record_id,
                    record_version=record.version,
                    subject=record.subject,
                    enterprise=caller,
                    provider=record.provider,
                    reasons=text,
                    evidence=json.dumps(hashes),
                    status=ObjectionStatus.OPEN.value,
                    filed_at=now,
                    filed_on=today,
                    forward_by=min(
                        add_working_days(today, self.settings.objection_forward_working_days, calendar), outer
                    ),
                    due_on=min(
                        add_working_days(today, self.settings.objection_platform_working_days, calendar),
                        outer,
                    ),
                    outer_due_on=outer,
                )
                entry = leaves.append(
                    writer,
                    leaves.OBJECTION,
                    {
                        "objection_id": row.id,
                        "record_id": record_id,
                        "version": record.version,
                        "enterprise": caller,
                        "reasons_hash": leaves.text_hash(text),
                        "evidence": hashes,
                        "filed_on": today.isoformat(),
                        "due_on": row.due_on.isoformat(),
                    },
                )
                row.log_seq = entry.seq
                session.add(row)
                notify(
                    session,
                    subject=record.subject,
                    kind="objection_filed",
                    ref=row.id,
                    record_id=record_id,
                    message=(
                        f"your objection {row.id} to record {record_id} (version {record.version}) is filed; "
                        f"the record is marked disputed in every release until it is decided, due by "
                        f"{row.due_on}"
                    ),
                )
                audit(session, caller, "objection.file", "accepted", f"objection {row.id} record {record_id}")
                return _view(row, today)

    # -- reading --------------------------------------------------------------------------

    def get(self, caller: str, member: Member, objection_id: str) -> ObjectionView:
        with self.ctx.db.session() as session:
            row = self._row(session, objection_id)
        self._may_see(caller, member, row)
        return _view(row, self.ctx.today())

    def listing(
        self,
        caller: str,
        member: Member,
        *,
        subject: str | None = None,
        status: ObjectionStatus | None = None,
        overdue: bool = False,
        limit: int = 200,
    ) -> list[ObjectionView]:
        """What the caller may see: its own (enterprise, naming its USCC), about its records
        (provider), or all (operators, auditors); optionally only one status, or the overdue."""
        today = self.ctx.today()
        query = select(Objection)
        if member.role is Role.ENTERPRISE:
            if subject is None:
                raise InvalidInput("subject: an enterprise names its own USCC")
            require_subject(caller, member, subject, "see its objections")
        elif member.role is Role.PROVIDER:
            query = query.where(Objection.provider == caller)
        elif member.role not in (Role.OPERATOR, Role.AUDITOR):
            raise NotAuthorized(f"{caller} is a {member.role.name.lower()}: it sees no objections")
        if subject is not None:
            query = query.where(Objection.subject == subject)
        if status is not None:
            query = query.where(Objection.status == status.value)
        if overdue:
            query = query.where(Objection.status.in_(OPEN_OBJECTION), Objection.due_on < today)
        with self.ctx.db.session() as session:
            rows = session.scalars(
                query.order_by(Objection.filed_at, Objection.id).limit(max(1, limit))
            ).all()
        return [_view(r, today) for r in rows]

    # -- the platform's and the provider's acts ------------------------------------------

    def forward(self, caller: str, member: Member, objection_id: str) -> ObjectionView:
        """The platform cannot correct the record itself: the provider decides (operator)."""
        with audited(self.ctx.db, caller, "objection.forward"):
            if member.role is not Role.OPERATOR:
                raise NotTheDecider(f"{caller} is a {member.role.name.lower()}: operators forward objections")
            now, today = self.ctx.now(), self.ctx.today()
            with self.ctx.db.session() as session:
                writer = leaves.lock_record_log(session)
                row = self._row(session, objection_id)
                if row.status == ObjectionStatus.FORWARDED:
                    raise ObjectionAlreadyForwarded(
                        f"objection {objection_id} was forwarded to the provider on "
                        f"{row.forwarded_at or row.filed_at:%Y-%m-%d}"
                    )
                self._open(row)
                calendar = load_calendar(session, today)
                row.due_on = min(
                    add_working_days(today, self.settings.objection_provider_working_days, calendar),
                    row.outer_due_on,
                )
                row.status, row.forwarded_at = ObjectionStatus.FORWARDED.value, now
                leaves.append(
                    writer,
                    leaves.OBJECTION_FORWARD,
                    {
                        "objection_id": row.id,
                        "record_id": row.record_id,
                        "provider": row.provider,
                        "forwarded_by": caller,
                        "forwarded_on": today.isoformat(),
                        "late": today > row.forward_by,
                        "due_on": row.due_on.isoformat(),
                    },
                )
                self._notify(
                    session, row, "objection_forwarded",
                    f"is forwarded to the record's provider {row.provider}, who decides by {row.due_on}"
                )  # fmt: skip
                audit(session, caller, "objection.forward", "done", f"objection {row.id} due {row.due_on}")
                return _view(row, today)

    def decide(
        self,
        caller: str,
        member: Member,
        objection_id: str,
        *,
        outcome: Outcome,
        reasons: str,
        correction: Correction | None = None,
    ) -> ObjectionView:
        """Close the objection: the record corrected as its next version, or upheld with reasons."""
        with audited(self.ctx.db, caller, "objection.decide"):
            text = _reasons(reasons)
            if (outcome is Outcome.CORRECTED) != (correction is not None):
                raise InvalidInput(
                    "correction: required when the outcome is corrected, and only then"
                    if outcome is Outcome.CORRECTED
                    else "correction: an upheld record is not corrected"
                )
            # 1. who decides, and is there still something to decide (read only)
            with self.ctx.db.session() as session:
                row = self._row(session, objection_id)
                self._decider(caller, member, row)
                self._open(row)
                latest = latest_version(session, row.record_id)
                objected = session.scalars(
                    select(CreditRecord).where(
                        CreditRecord.record_id == row.record_id, CreditRecord.version == row.record_version
                    )
                ).one()
            # 2. a correction is the record's next version, through the records ingestion;
            #    the same correction again (a retry) finds it stored
            corrected_version: int | None = None
            if correction is not None:
                if latest.version > row.record_version + 1:
                    raise self._superseded(row, latest.version)
                corrected_version = self._ingest_correction(row, objected, correction, latest.version)
            elif latest.version != row.record_version:
                raise self._superseded(row, latest.version)
            # 3. the decision, its leaf, the notice and the audit record, together
            now, today = self.ctx.now(), self.ctx.today()
            with self.ctx.db.session() as session:
                writer = leaves.lock_record_log(session)
                row = self._row(session, objection_id)
                self._open(row)
                current = latest_version(session, row.record_id).version  # no version slipped in since
                if current != (corrected_version or row.record_version):
                    raise self._superseded(row, current)
                entry = leaves.append(
                    writer,
                    leaves.OBJECTION_DECISION,
                    {
                        "objection_id": row.id,
                        "record_id": row.record_id,
                        "version": row.record_version,
                        "outcome": outcome.value,
                        "corrected_version": corrected_version,
                        "decided_by": caller,
                        "decided_on": today.isoformat(),
                        "on_time": today <= row.due_on,
                        "reasons_hash": leaves.text_hash(text),
                    },
                )
                row.status = outcome.value
                row.decided_by, row.decided_at, row.decision_reasons = caller, now, text
                row.corrected_version, row.decision_log_seq = corrected_version, entry.seq
                what = (
                    f"is decided: the record is corrected as version {corrected_version}"
                    if outcome is Outcome.CORRECTED
                    else f"is decided: the record is upheld ({text})"
                )
                self._notify(session, row, f"objection_{outcome.value}", what)
                audit(session, caller, "objection.decide", outcome.value, f"objection {row.id}")
                return _view(row, today)

    def withdraw(self, caller: str, member: Member, objection_id: str) -> ObjectionView:
        """The enterprise takes its objection back: the record is no longer disputed."""
        with audited(self.ctx.db, caller, "objection.withdraw"):
            now, today = self.ctx.now(), self.ctx.today()
            with self.ctx.db.session() as session:
                writer = leaves.lock_record_log(session)
                row = self._row(session, objection_id)
                require_subject(caller, member, row.subject, "withdraw its objection")
                self._open(row)
                entry = leaves.append(
                    writer,
                    leaves.OBJECTION_WITHDRAWAL,
                    {"objection_id": row.id, "record_id": row.record_id, "withdrawn_on": today.isoformat()},
                )
                row.status = ObjectionStatus.WITHDRAWN.value
                row.decided_by, row.decided_at, row.decision_log_seq = caller, now, entry.seq
                self._notify(session, row, "objection_withdrawn", "is withdrawn")
                audit(session, caller, "objection.withdraw", "done", f"objection {row.id}")
                return _view(row, today)

    def escalate_overdue(self, caller: str, member: Member) -> list[ObjectionView]:
        """Escalate, once, every open objection past its deadline (operator)."""
        with audited(self.ctx.db, caller, "objection.escalate"):
            if member.role is not Role.OPERATOR:
                raise NotAuthorized(
                    f"{caller} is a {member.role.name.lower()}: operators escalate objections"
                )
            now, today = self.ctx.now(), self.ctx.today()
            with self.ctx.db.session() as session:
                writer = leaves.lock_record_log(session)
                rows = session.scalars(
                    select(Objection)
                    .where(
                        Objection.status.in_(OPEN_OBJECTION),
                        Objection.due_on < today,
                        Objection.escalated_at.is_(None),
                    )
                    .order_by(Objection.due_on, Objection.id)
                ).all()
                for row in rows:
                    row.escalated_at = now
                    leaves.append(
                        writer,
                        leaves.OBJECTION_ESCALATION,
                        {
                            "objection_id": row.id,
                            "record_id": row.record_id,
                            "stage": row.status,
                            "due_on": row.due_on.isoformat(),
                            "escalated_on": today.isoformat(),
                            "escalated_by": caller,
                        },
                    )
                    self._notify(
                        session, row, "objection_escalated",
                        f"was due by {row.due_on} and is escalated to the platform's supervisors"
                    )  # fmt: skip
                if rows:
                    audit(session, caller, "objection.escalate", "done", f"{len(rows)} overdue objection(s)")
                return [_view(r, today) for r in rows]

    # -- helpers --------------------------------------------------------------------------

    @staticmethod
    def _row(session: Session, objection_id: str) -> Objection:
        row = session.get(Objection, objection_id)
        if row is None:
            raise UnknownObjection(f"no objection {objection_id}")
        return row

    @staticmethod
    def _open(row: Objection) -> None:
        if row.status not in OPEN_OBJECTION:
            raise AlreadyDecided(f"objection {row.id} is {row.status} already")

    @staticmethod
    def _decider(caller: str, member: Member, row: Objection) -> None:
        if member.role is Role.OPERATOR:
            return
        if member.role is Role.PROVIDER and caller == row.provider:
            return
        who = "another provider" if member.role is Role.PROVIDER else "a " + member.role.name.lower()
        raise NotTheDecider(
            f"{caller} is {who}: an objection is decided by the record's provider or an operator"
        )

    @staticmethod
    def _may_see(caller: str, member: Member, row: Objection) -> None:
        if member.role in (Role.OPERATOR, Role.AUDITOR):
            return
        if member.role is Role.PROVIDER and caller == row.provider:
            return
        if member.role is Role.ENTERPRISE and uscc_hash(row.subject) == member.uscc_hash:
            return
        raise NotAuthorized(f"{caller} may not see objection {row.id}")

    @staticmethod
    def _superseded(row: Objection, latest: int) -> RecordSuperseded:
        return RecordSuperseded(
            f"record {row.record_id} is at version {latest} now; objection {row.id} was filed against "
            f"version {row.record_version}: the enterprise may withdraw it and object to the new version"
        )

    def _ingest_correction(
        self, row: Objection, objected: CreditRecord, correction: Correction, latest: int
    ) -> int:
        opened = self.ctx.records.open_row(objected)  # checked against its commitment
        document: dict[str, Any] = {
            "category": objected.category,
            "subject": objected.subject,
            "event_date": (correction.event_date or objected.event_date).isoformat(),
            "source_ref": objected.source_ref,
            "fields": {**opened.fields, **correction.fields},
            "corrects": objected.version,
        }
        severity = correction.severity if correction.severity is not None else objected.severity
        if severity is not None:
            document["severity"] = severity
        try:
            receipt = ingest_one(self.ctx, objected.provider, document, CorrectionInvalid, "the correction")
        except RecordsConflict:
            raise self._superseded(row, latest) from None
        return receipt.version

    def _notify(self, session: Session, row: Objection, kind: str, what: str) -> None:
        notify(
            session,
            subject=row.subject,
            kind=kind,
            ref=row.id,
            record_id=row.record_id,
            message=f"your objection {row.id} to record {row.record_id} {what}",
        )
