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

The life cycle objections share with credit repair (listing, escalation, the steps of
filing and deciding, with their leaves, notices and audit records) is `cases`; this module
is the objection's kind of case and the acts that are its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field
from sqlalchemy import select

from ledger.chain.membership import Member, Role
from ledger.domain.cases import OPEN_OBJECTION
from ledger.errors import InvalidInput
from ledger.records.ingest import RecordsConflict
from ledger.records.models import CreditRecord
from ledger.selfservice import leaves
from ledger.selfservice.cases import CaseKind, CaseLeaves, CaseWords, CaseWorkflow, stated_reasons
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
    CorrectionInvalid,
    NotTheDecider,
    ObjectionAlreadyForwarded,
    ObjectionAlreadyOpen,
    OwnDeclaration,
    UnknownObjection,
)
from ledger.selfservice.models import Objection

__all__ = ["OBJECTIONS", "Correction", "ObjectionStatus", "ObjectionView", "ObjectionsService", "Outcome"]


class ObjectionStatus(StrEnum):
    OPEN = "open"  # with the platform
    FORWARDED = "forwarded"  # with the provider
    CORRECTED = "corrected"
    UPHELD = "upheld"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class ObjectionView:
    id: str
    record_id: str
    record_version: Annotated[int, Field(description="the version objected to")]
    subject: str
    enterprise: Annotated[str, Field(description="the account that filed it")]
    provider: Annotated[str, Field(description="the record's provider")]
    reasons: str
    evidence: list[str]
    status: ObjectionStatus
    filed_at: datetime
    filed_on: date
    forward_by: Annotated[date, Field(description="the platform forwards to the provider by this day")]
    due_on: Annotated[
        date, Field(description="deadline of the current stage (working days), within the outer bound")
    ]
    outer_due_on: Annotated[date, Field(description="filing + objection_outer_bound_days calendar days")]
    overdue: bool
    forwarded_at: datetime | None
    escalated_at: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    decision_reasons: str | None
    corrected_version: int | None
    log_index: Annotated[int, Field(description="the filing's leaf in the credit-record log")]
    decision_log_index: int | None


OBJECTIONS = CaseKind(
    table=Objection,
    view=ObjectionView,
    statuses=ObjectionStatus,
    open=OPEN_OBJECTION,  # with the platform, then with the provider: two stages
    provider=Objection.provider,  # the record's provider sees the objections to its records
    unknown=UnknownObjection,
    words=CaseWords(name="objection", noun="objection", about="to", filing="file"),
    leaves=CaseLeaves(leaves.OBJECTION, leaves.OBJECTION_ESCALATION, leaves.OBJECTION_DECISION),
    resubmit="the enterprise may withdraw it and object to the new version",
)


class Outcome(StrEnum):  # how an objection is decided
    CORRECTED = "corrected"
    UPHELD = "upheld"


@dataclass(frozen=True)
class Correction:
    """Changes to the objected version: `fields` are merged over its values (null removes one)."""

    fields: dict[str, Any]
    event_date: date | None = None
    severity: str | None = None


class ObjectionsService(CaseWorkflow[Objection, ObjectionView]):
    def __init__(self, ctx: SelfServiceContext) -> None:
        super().__init__(ctx, OBJECTIONS)

    def file(
        self, caller: str, member: Member, *, record_id: str, reasons: str, evidence: list[str]
    ) -> ObjectionView:
        """Object to the current version of `record_id`: it is disputed from this moment on."""
        with audited(self.ctx.db, caller, "objection.file"):
            text = stated_reasons(reasons)
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
                already = self._case_in(session, record_id, OPEN_OBJECTION)
                if already is not None:
                    raise ObjectionAlreadyOpen(
                        f"record {record_id} already has open objection {already.id} "
                        f"(filed {already.filed_on})"
                    )
                settings = self.ctx.settings
                outer = today + timedelta(days=settings.objection_outer_bound_days)
                forward = self._working_days(session, today, settings.objection_forward_working_days)
                platform = self._working_days(session, today, settings.objection_platform_working_days)
                row = Objection(
                    **self._new_case(record, caller, now, today),
                    provider=record.provider,
                    reasons=text,
                    evidence=hashes,
                    forward_by=min(forward, outer),
                    due_on=min(platform, outer),
                    outer_due_on=outer,
                )
                return self._filed(
                    session,
                    writer,
                    row,
                    {"reasons_hash": leaves.text_hash(text), "evidence": hashes},
                    f"(version {record.version}) is filed; the record is marked disputed in every release "
                    f"until it is decided, due by {row.due_on}",
                )

    def forward(self, caller: str, member: Member, objection_id: str) -> ObjectionView:
        """The platform cannot correct the record itself: the provider decides (operator)."""
        with audited(self.ctx.db, caller, "objection.forward"):
            if member.role is not Role.OPERATOR:
                raise NotTheDecider(f"{caller} is a {member.role.name.lower()}: operators forward objections")
            now, today = self.ctx.now(), self.ctx.today()
            with self.ctx.db.session() as session:
                writer = leaves.lock_record_log(session)
                row = self._open_row(session, objection_id)
                if row.status == ObjectionStatus.FORWARDED:
                    raise ObjectionAlreadyForwarded(
                        f"objection {objection_id} was forwarded to the provider on "
                        f"{row.forwarded_at or row.filed_at:%Y-%m-%d}"
                    )
                provider_days = self.ctx.settings.objection_provider_working_days
                row.due_on = min(self._working_days(session, today, provider_days), row.outer_due_on)
                row.status, row.forwarded_at = ObjectionStatus.FORWARDED.value, now
                self._leaf(
                    writer,
                    leaves.OBJECTION_FORWARD,
                    row,
                    {
                        "provider": row.provider,
                        "forwarded_by": caller,
                        "forwarded_on": today.isoformat(),
                        "late": today > row.forward_by,
                        "due_on": row.due_on.isoformat(),
                    },
                )
                self._notify(
                    session, row, "forwarded",
                    f"is forwarded to the record's provider {row.provider}, who decides by {row.due_on}"
                )  # fmt: skip
                audit(session, caller, "objection.forward", "done", f"objection {row.id} due {row.due_on}")
                return self._view(row, today)

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
            text = stated_reasons(reasons)
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
                self._require_open(row)
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
            what = (
                f"is decided: the record is corrected as version {corrected_version}"
                if outcome is Outcome.CORRECTED
                else f"is decided: the record is upheld ({text})"
            )
            return self._decided(
                caller,
                objection_id,
                outcome=outcome,
                text=text,
                what=what,
                version=corrected_version,
                facts={"corrected_version": corrected_version},
            )

    def withdraw(self, caller: str, member: Member, objection_id: str) -> ObjectionView:
        """The enterprise takes its objection back: the record is no longer disputed."""
        with audited(self.ctx.db, caller, "objection.withdraw"):
            now, today = self.ctx.now(), self.ctx.today()
            with self.ctx.db.session() as session:
                writer = leaves.lock_record_log(session)
                row = self._row(session, objection_id)
                require_subject(caller, member, row.subject, "withdraw its objection")
                self._require_open(row)
                entry = self._leaf(
                    writer, leaves.OBJECTION_WITHDRAWAL, row, {"withdrawn_on": today.isoformat()}
                )
                row.status = ObjectionStatus.WITHDRAWN.value
                row.decided_by, row.decided_at, row.decision_log_seq = caller, now, entry.seq
                self._notify(session, row, "withdrawn", "is withdrawn")
                audit(session, caller, "objection.withdraw", "done", f"objection {row.id}")
                return self._view(row, today)

    # -- helpers --------------------------------------------------------------------------

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
