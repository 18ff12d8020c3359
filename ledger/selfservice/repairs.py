"""Credit repair (信用修复, NDRC Order 36) of dishonesty records.

1. The enterprise applies for one of its dishonesty records with the hashes of its
   proof of fulfilment and a repair commitment it signed on chain (`RepairApplicant`,
   `POST /acts/Commit`), checked like a truthfulness commitment. The application is
   accepted only once the minimum publicity period has passed (at once for minor
   records) and while the record is still published (`ledger.domain.publicity`).
2. An operator approves or rejects it within `repair_decision_working_days` working
   days; overdue applications are listed and escalated once.
3. Approved: publication and sharing stop at once. The release path never returns the
   record again (`release.reader`); the enterprise's own view shows it repaired.
   Records that are never repaired still leave publication at their maximum period
   (the same rule, `ledger.domain.publicity.publication_ended`).

Every state change is a leaf of the credit-record log, a notice to the enterprise and
an MLPS audit record, in the transaction of the change.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.chain.agreements import CommitmentKind
from ledger.chain.membership import Member, Role, uscc_hash
from ledger.domain.cases import RepairStatus
from ledger.domain.publicity import publicity_window
from ledger.errors import InvalidInput, NotAuthorized
from ledger.selfservice import leaves
from ledger.selfservice.calendar import load_calendar
from ledger.selfservice.context import (
    SelfServiceContext,
    audit,
    audited,
    latest_version,
    normalize_hashes,
    own_record,
    require_subject,
)
from ledger.selfservice.errors import (
    AlreadyDecided,
    AlreadyRepaired,
    MinimumPeriodNotPassed,
    NotDishonesty,
    NotTheDecider,
    PublicationEnded,
    RecordSuperseded,
    RepairAlreadyPending,
    UnknownApplication,
)
from ledger.selfservice.models import RepairApplication
from ledger.selfservice.notices import notify
from ledger.selfservice.workdays import add_working_days

__all__ = ["RepairOutcome", "RepairStatus", "RepairView", "RepairsService"]

MAX_TEXT = 4000


class RepairOutcome(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class RepairView:
    id: str
    record_id: str
    record_version: int
    subject: str
    enterprise: str
    category: str
    severity: str
    commitment_id: int
    proofs: list[str]
    statement: str | None
    status: RepairStatus
    filed_at: datetime
    filed_on: date
    due_on: date
    overdue: bool
    escalated_at: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    decision_reasons: str | None
    log_index: int
    decision_log_index: int | None


def _view(a: RepairApplication, today: date) -> RepairView:
    return RepairView(
        id=a.id,
        record_id=a.record_id,
        record_version=a.record_version,
        subject=a.subject,
        enterprise=a.enterprise,
        category=a.category,
        severity=a.severity,
        commitment_id=int(a.commitment_id),
        proofs=list(json.loads(a.proofs)),
        statement=a.statement,
        status=RepairStatus(a.status),
        filed_at=a.filed_at,
        filed_on=a.filed_on,
        due_on=a.due_on,
        overdue=a.status == RepairStatus.PENDING and a.due_on < today,
        escalated_at=a.escalated_at,
        decided_by=a.decided_by,
        decided_at=a.decided_at,
        decision_reasons=a.decision_reasons,
        log_index=int(a.log_seq),
        decision_log_index=None if a.decision_log_seq is None else int(a.decision_log_seq),
    )


def _text(value: str | None, field: str, *, required: bool) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise InvalidInput(f"{field}: state the reasons")
        return None
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"{field}: at most {MAX_TEXT} characters")
    return text


class RepairsService:
    def __init__(self, ctx: SelfServiceContext) -> None:
        self.ctx = ctx
        self.settings = ctx.settings

    def apply(
        self,
        caller: str,
        member: Member,
        *,
        record_id: str,
        proofs: list[str],
        commitment_id: int,
        statement: str | None = None,
    ) -> RepairView:
        with audited(self.ctx.db, caller, "repair.apply"):
            hashes = normalize_hashes(proofs, "proofs", least=1, most=50)
            note = _text(statement, "statement", required=False)
            now, today = self.ctx.now(), self.ctx.today()
            # the record, the rules of its publicity, the commitment (no lock: chain calls)
            with self.ctx.db.session() as session:
                record = own_record(
                    session, caller, member, record_id, "apply for the repair of a record about it"
                )
            opened = self.ctx.records.open_row(record)
            sector = opened.fields.get("sector")
            window = publicity_window(
                self.ctx.catalogue, record.category, record.severity, record.event_date,
                sector if isinstance(sector, str) else None,
            )  # fmt: skip
            if window is None:
                raise NotDishonesty(
                    f"record {record_id} ({record.category}) is not dishonesty information: credit repair "
                    "(NDRC Order 36) does not apply; object to it (POST /objections) if it is wrong"
                )
            if window.ended(today):
                raise PublicationEnded(
                    f"record {record_id} left publication after {window.maximum_until} (maximum publicity "
                    "period): it is no longer published or shared, nothing to repair"
                )
            if not window.minimum_passed(today):
                raise MinimumPeriodNotPassed(
                    f"the minimum publicity period of this {record.severity} {record.category} record runs "
                    f"until {window.minimum_until} (国办发〔2025〕22号; NDRC Order 36): apply from then on"
                )
            self.ctx.check_commitment(commitment_id, caller, CommitmentKind.REPAIR_APPLICANT)
            with self.ctx.db.session() as session:
                writer = leaves.lock_record_log(session)
                record = latest_version(session, record_id)
                for other in session.scalars(
                    select(RepairApplication).where(
                        RepairApplication.record_id == record_id,
                        RepairApplication.status.in_(
                            (RepairStatus.PENDING.value, RepairStatus.APPROVED.value)
                        ),
                    )
                ):
                    if other.status == RepairStatus.APPROVED:
                        raise AlreadyRepaired(
                            f"record {record_id} is repaired already (application {other.id})"
                        )
                    raise RepairAlreadyPending(
                        f"record {record_id} has pending repair application {other.id}"
                    )
                calendar = load_calendar(session, today)
                assert record.severity is not None
                row = RepairApplication(
                    id=str(uuid.uuid4()),
                    record_id=record_id,
                    record_version=record.version,
                    subject=record.subject,
                    enterprise=caller,
                    category=record.category,
                    severity=record.severity,
                    commitment_id=commitment_id,
                    proofs=json.dumps(hashes),
                    statement=note,
                    status=RepairStatus.PENDING.value,
                    filed_at=now,
                    filed_on=today,
                    due_on=add_working_days(today, self.settings.repair_decision_working_days, calendar),
                )
                entry = leaves.append(
                    writer,
                    leaves.REPAIR_APPLICATION,
                    {
                        "application_id": row.id,
                        "record_id": record_id,
                        "version": record.version,
                        "enterprise": caller,
                        "commitment_id": commitment_id,
                        "proofs": hashes,
                        "statement_hash": leaves.text_hash(note),
                        "filed_on": today.isoformat(),
                        "due_on": row.due_on.isoformat(),
                    },
                )
                row.log_seq = entry.seq
                session.add(row)
                self._notify(session, row, "repair_filed", f"is filed; an operator decides by {row.due_on}")
                audit(session, caller, "repair.apply", "accepted", f"application {row.id} record {record_id}")
                return _view(row, today)

    # -- reading --------------------------------------------------------------------------

    def get(self, caller: str, member: Member, application_id: str) -> RepairView:
        with self.ctx.db.session() as session:
            row = self._row(session, application_id)
        if member.role not in (Role.OPERATOR, Role.AUDITOR) and not (
            member.role is Role.ENTERPRISE and uscc_hash(row.subject) == member.uscc_hash
        ):
            raise NotAuthorized(f"{caller} may not see repair application {application_id}")
        return _view(row, self.ctx.today())

    def listing(
        self,
        caller: str,
        member: Member,
        *,
        subject: str | None = None,
        status: RepairStatus | None = None,
        overdue: bool = False,
        limit: int = 200,
    ) -> list[RepairView]:
        today = self.ctx.today()
        query = select(RepairApplication)
        if member.role is Role.ENTERPRISE:
            if subject is None:
                raise InvalidInput("subject: an enterprise names its own USCC")
            require_subject(caller, member, subject, "see its repair applications")
        elif member.role not in (Role.OPERATOR, Role.AUDITOR):
            raise NotAuthorized(f"{caller} is a {member.role.name.lower()}: it sees no repair applications")
        if subject is not None:
            query = query.where(RepairApplication.subject == subject)
        if status is not None:
            query = query.where(RepairApplication.status == status.value)
        if overdue:
            query = query.where(
                RepairApplication.status == RepairStatus.PENDING.value, RepairApplication.due_on < today
            )
        with self.ctx.db.session() as session:
            rows = session.scalars(
                query.order_by(RepairApplication.filed_at, RepairApplication.id).limit(max(1, limit))
            ).all()
        return [_view(r, today) for r in rows]

    # -- the operator's acts --------------------------------------------------------------

    def decide(
        self, caller: str, member: Member, application_id: str, *, outcome: RepairOutcome, reasons: str
    ) -> RepairView:
        """Approve (publication and sharing stop at once) or reject, with reasons (operator)."""
        with audited(self.ctx.db, caller, "repair.decide"):
            if member.role is not Role.OPERATOR:
                raise NotTheDecider(
                    f"{caller} is a {member.role.name.lower()}: an operator decides repair applications"
                )
            text = _text(reasons, "reasons", required=True)
            now, today = self.ctx.now(), self.ctx.today()
            with self.ctx.db.session() as session:
                writer = leaves.lock_record_log(session)
                row = self._row(session, application_id)
                if row.status != RepairStatus.PENDING:
                    raise AlreadyDecided(f"repair application {row.id} is {row.status} already")
                latest = latest_version(session, row.record_id)
                if latest.version != row.record_version:
                    raise RecordSuperseded(
                        f"record {row.record_id} is at version {latest.version} now; application {row.id} "
                        f"was filed against version {row.record_version}: the enterprise applies again"
                    )
                entry = leaves.append(
                    writer,
                    leaves.REPAIR_DECISION,
                    {
                        "application_id": row.id,
                        "record_id": row.record_id,
                        "version": row.record_version,
                        "outcome": outcome.value,
                        "decided_by": caller,
                        "decided_on": today.isoformat(),
                        "on_time": today <= row.due_on,
                        "reasons_hash": leaves.text_hash(text),
                    },
                )
                row.status = outcome.value
                row.decided_by, row.decided_at, row.decision_reasons = caller, now, text
                row.decision_log_seq = entry.seq
                what = (
                    "is approved: the record is repaired, no longer published and no longer shared"
                    if outcome is RepairOutcome.APPROVED
                    else f"is rejected ({text})"
                )
                self._notify(session, row, f"repair_{outcome.value}", what)
                audit(session, caller, "repair.decide", outcome.value, f"application {row.id}")
                return _view(row, today)

    def escalate_overdue(self, caller: str, member: Member) -> list[RepairView]:
        with audited(self.ctx.db, caller, "repair.escalate"):
            if member.role is not Role.OPERATOR:
                raise NotAuthorized(
                    f"{caller} is a {member.role.name.lower()}: operators escalate applications"
                )
            now, today = self.ctx.now(), self.ctx.today()
            with self.ctx.db.session() as session:
                writer = leaves.lock_record_log(session)
                rows = session.scalars(
                    select(RepairApplication)
                    .where(
                        RepairApplication.status == RepairStatus.PENDING.value,
                        RepairApplication.due_on < today,
                        RepairApplication.escalated_at.is_(None),
                    )
                    .order_by(RepairApplication.due_on, RepairApplication.id)
                ).all()
                for row in rows:
                    row.escalated_at = now
                    leaves.append(
                        writer,
                        leaves.REPAIR_ESCALATION,
                        {
                            "application_id": row.id,
                            "record_id": row.record_id,
                            "due_on": row.due_on.isoformat(),
                            "escalated_on": today.isoformat(),
                            "escalated_by": caller,
                        },
                    )
                    self._notify(
                        session, row, "repair_escalated",
                        f"was due by {row.due_on} and is escalated to the platform's supervisors"
                    )  # fmt: skip
                if rows:
                    audit(session, caller, "repair.escalate", "done", f"{len(rows)} overdue application(s)")
                return [_view(r, today) for r in rows]

    # -- helpers --------------------------------------------------------------------------

    @staticmethod
    def _row(session: Session, application_id: str) -> RepairApplication:
        row = session.get(RepairApplication, application_id)
        if row is None:
            raise UnknownApplication(f"no repair application {application_id}")
        return row

    @staticmethod
    def _notify(session: Session, row: RepairApplication, kind: str, what: str) -> None:
        notify(
            session,
            subject=row.subject,
            kind=kind,
            ref=row.id,
            record_id=row.record_id,
            message=f"your repair application {row.id} for record {row.record_id} {what}",
        )
