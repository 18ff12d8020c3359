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

The life cycle credit repair shares with objections (listing, escalation, the steps of
filing and deciding, with their leaves, notices and audit records) is `cases`; this module
is the repair application's kind of case and the acts that are its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from ledger.chain.agreements import CommitmentKind
from ledger.chain.membership import Member, Role
from ledger.domain.cases import RepairStatus
from ledger.domain.publicity import publicity_window
from ledger.selfservice import leaves
from ledger.selfservice.cases import CaseKind, CaseLeaves, CaseWords, CaseWorkflow, stated, stated_reasons
from ledger.selfservice.context import (
    SelfServiceContext,
    audited,
    latest_version,
    normalize_hashes,
    own_record,
)
from ledger.selfservice.errors import (
    AlreadyRepaired,
    MinimumPeriodNotPassed,
    NotDishonesty,
    NotTheDecider,
    PublicationEnded,
    RepairAlreadyPending,
    UnknownApplication,
)
from ledger.selfservice.models import RepairApplication

__all__ = ["REPAIRS", "RepairOutcome", "RepairStatus", "RepairView", "RepairsService"]


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
    due_on: Annotated[date, Field(description="an operator decides by this day (working days)")]
    overdue: bool
    escalated_at: datetime | None
    decided_by: str | None
    decided_at: datetime | None
    decision_reasons: str | None
    log_index: int
    decision_log_index: int | None


REPAIRS = CaseKind(
    table=RepairApplication,
    view=RepairView,
    statuses=RepairStatus,
    open=(RepairStatus.PENDING.value,),
    provider=None,  # an operator decides: the record's provider has no part in it
    unknown=UnknownApplication,
    words=CaseWords(name="repair", noun="repair application", about="for", filing="apply"),
    leaves=CaseLeaves(leaves.REPAIR_APPLICATION, leaves.REPAIR_ESCALATION, leaves.REPAIR_DECISION),
    resubmit="the enterprise applies again",
)


class RepairsService(CaseWorkflow[RepairApplication, RepairView]):
    def __init__(self, ctx: SelfServiceContext) -> None:
        super().__init__(ctx, REPAIRS)

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
            note = stated(statement, "statement")
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
                other = self._case_in(
                    session, record_id, (RepairStatus.PENDING.value, RepairStatus.APPROVED.value)
                )
                if other is not None and other.status == RepairStatus.APPROVED:
                    raise AlreadyRepaired(f"record {record_id} is repaired already (application {other.id})")
                if other is not None:
                    raise RepairAlreadyPending(
                        f"record {record_id} has pending repair application {other.id}"
                    )
                assert record.severity is not None  # a dishonesty record has one
                row = RepairApplication(
                    **self._new_case(record, caller, now, today),
                    category=record.category,
                    severity=record.severity,
                    commitment_id=commitment_id,
                    proofs=hashes,
                    statement=note,
                    due_on=self._working_days(session, today, self.ctx.settings.repair_decision_working_days),
                )
                return self._filed(
                    session,
                    writer,
                    row,
                    {
                        "commitment_id": commitment_id,
                        "proofs": hashes,
                        "statement_hash": leaves.text_hash(note),
                    },
                    f"is filed; an operator decides by {row.due_on}",
                )

    def decide(
        self, caller: str, member: Member, application_id: str, *, outcome: RepairOutcome, reasons: str
    ) -> RepairView:
        """Approve (publication and sharing stop at once) or reject, with reasons (operator)."""
        with audited(self.ctx.db, caller, "repair.decide"):
            if member.role is not Role.OPERATOR:
                raise NotTheDecider(
                    f"{caller} is a {member.role.name.lower()}: an operator decides repair applications"
                )
            text = stated_reasons(reasons)
            what = (
                "is approved: the record is repaired, no longer published and no longer shared"
                if outcome is RepairOutcome.APPROVED
                else f"is rejected ({text})"
            )
            return self._decided(caller, application_id, outcome=outcome, text=text, what=what)
