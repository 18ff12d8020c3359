"""Loan reporting: institutions report their decisions and, later, repayment status.

`LoanReports.report` takes one signed submission of an institution (the API has
authenticated the signature and the institution role) and either stores it or refuses
it by name, storing nothing:

- **Idempotent.** Each submission carries an idempotency key, unique per institution.
  The same key with the same content answers exactly what the first submission answered;
  the same key with other content is `idempotency_key_reused` (409).
- **Versioned.** A decision for a loan reference already decided is a correction: a new
  version, the earlier ones kept. A repayment status is a version of the loan's status.
  A correction may not move a loan to another enterprise (`loan_subject_changed`, 409);
  a repayment status needs an approved decision first (`loan_not_approved`, 409).
- **Within an agreement and an application.** The agreement named must be active on
  chain and the reporting institution's (`agreement_not_active`, 403, checked at the
  latest block, whose number is kept with the report); the enterprise must hold an
  application with the institution (`no_application`, 403).

Every refusal is written to the MLPS audit records once: a 4xx by the edge, with the HTTP
answer; a 503 here. Accepted reports become each loan's current state (`loans`), which the
KPIs aggregate, and labelled outcomes for the scorecard (`ledger.financing.outcomes`).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Protocol

from pydantic import Field
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ledger.chain.agreements import AgreementsContract, AgreementStatus
from ledger.errors import Conflict, LedgerError, NotAuthorized, NotFound, Unavailable
from ledger.financing.loan_models import LoanReportRow, LoanRow
from ledger.financing.loan_report import LoanDecision, LoanReport, Repayment, parse_loan_report
from ledger.services import audit_events
from ledger.storage.database import Database

__all__ = [
    "AgreementNotActive",
    "ApplicationLookup",
    "ChainAgreements",
    "IdempotencyKeyReused",
    "LoanNotApproved",
    "LoanReports",
    "LoanSubjectChanged",
    "NoApplication",
    "ReportReceipt",
]


class IdempotencyKeyReused(Conflict):
    """The idempotency key was used before for other content (HTTP 409)."""

    code = "idempotency_key_reused"


class LoanSubjectChanged(Conflict):
    """A correction names another enterprise than the loan's (HTTP 409)."""

    code = "loan_subject_changed"


class LoanNotApproved(Conflict):
    """A repayment status for a loan not (or no longer) approved (HTTP 409)."""

    code = "loan_not_approved"


class AgreementNotActive(NotAuthorized):
    """The agreement named is unknown, not active, or not the reporting institution's (HTTP 403)."""

    code = "agreement_not_active"


class NoApplication(NotAuthorized):
    """The enterprise holds no application with the reporting institution (HTTP 403)."""

    code = "no_application"


class LoanUnknown(NotFound):
    code = "loan_unknown"


class ApplicationLookup(Protocol):
    """Whether enterprise `subject` holds an application with `institution` (the financing market)."""

    def holds_application(self, institution: str, subject: str) -> bool: ...


class AgreementCheck(Protocol):
    def active_block(self, agreement_id: int, institution: str) -> int: ...


class ChainAgreements:
    """The agreement check on chain: active at the latest block and the institution's own."""

    def __init__(self, agreements: AgreementsContract) -> None:
        self.agreements = agreements

    def active_block(self, agreement_id: int, institution: str) -> int:
        """The block at which agreement `agreement_id` was seen active and `institution`'s, or raise."""
        client = self.agreements.client
        block = client.guard(lambda: client.w3.eth.get_block("latest"))
        number, timestamp = int(block["number"]), int(block["timestamp"])
        agreement = self.agreements.agreement(agreement_id, block_identifier=number)
        if agreement is None:
            raise AgreementNotActive(f"agreement {agreement_id} does not exist (block {number})")
        if agreement.institution.lower() != institution.lower():
            raise AgreementNotActive(f"agreement {agreement_id} is not {institution}'s (block {number})")
        status = agreement.status_at(timestamp)
        if status is not AgreementStatus.ACTIVE:
            raise AgreementNotActive(
                f"agreement {agreement_id} is {status.name.lower()}, not active (block {number})"
            )
        return number


@dataclass(frozen=True)
class ReportReceipt:
    """What an accepted submission answers (and answers again for the same key and content)."""

    loan_ref: Annotated[str, Field(description="the institution's loan reference")]
    kind: Annotated[str, Field(description="decision or repayment")]
    version: Annotated[int, Field(description="the version this submission is, per loan and kind (1 first)")]
    content_hash: Annotated[
        str, Field(description="SHA-256 of the report's RFC 8785 form (the idempotency key excluded)")
    ]
    block: Annotated[int, Field(description="the chain block at which the agreement was seen active")]
    received_at: Annotated[str, Field(description="when the platform stored it (ISO 8601, UTC)")]
    replayed: Annotated[
        bool, Field(description="true when this answers a repeated submission (same key, same content)")
    ] = False

    def to_json(self) -> dict[str, Any]:
        return {
            "loan_ref": self.loan_ref,
            "kind": self.kind,
            "version": self.version,
            "content_hash": self.content_hash,
            "block": self.block,
            "received_at": self.received_at,
            "replayed": self.replayed,
        }


def _receipt(row: LoanReportRow, *, replayed: bool) -> ReportReceipt:
    received = row.received_at if row.received_at.tzinfo else row.received_at.replace(tzinfo=UTC)
    return ReportReceipt(
        row.loan_ref,
        row.kind,
        row.version,
        "0x" + bytes(row.content_hash).hex(),
        row.block_number,
        received.isoformat(),
        replayed,
    )


class LoanReports:
    """Accepts, versions and serves loan reports; every refusal recorded."""

    def __init__(
        self,
        db: Database,
        *,
        agreements: AgreementCheck,
        applications: ApplicationLookup,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.agreements = agreements
        self.applications = applications
        self.clock = clock

    def report(self, institution: str, body: bytes | str | dict[str, Any]) -> ReportReceipt:
        """Store one submission of `institution`, or refuse it by name (nothing stored).

        A refusal by name is answered 4xx and recorded by the HTTP edge (`api.edge`), once; a
        503 (the chain, the database or a defect) is recorded here, as the edge records no 5xx.
        """
        try:
            return self._report(institution, body)
        except Unavailable as exc:
            self._audit(institution, "refused", f"{exc.code}: {exc.message}")
            raise
        except LedgerError:
            raise
        except Exception as exc:  # a defect refuses, never half-writes
            error = Unavailable(f"loan report failed: {exc!r}")
            self._audit(institution, "refused", f"{error.code}: {error.message}")
            raise error from exc

    def _report(self, institution: str, body: bytes | str | dict[str, Any]) -> ReportReceipt:
        parsed = parse_loan_report(body)
        r = parsed.report
        replay = self._replay(institution, parsed)
        if replay is not None:
            return replay
        block = self.agreements.active_block(r.agreement_id, institution)
        if not self.applications.holds_application(institution, r.subject):
            raise NoApplication(f"enterprise {r.subject} holds no application with {institution}")
        for attempt in range(2):
            try:
                with self.db.session() as session:
                    row = self._store(session, institution, parsed, block)
                receipt = _receipt(row, replayed=False)
                break
            except Unavailable as exc:
                # a concurrent submission took the key or the version: answer as it now stands
                if attempt or not isinstance(exc.__cause__, IntegrityError):
                    raise
                replay = self._replay(institution, parsed)
                if replay is not None:
                    return replay
        self._audit(institution, "accepted", f"{r.kind} {r.loan_ref} v{receipt.version} subject={r.subject}")
        return receipt

    def _replay(self, institution: str, parsed: LoanReport) -> ReportReceipt | None:
        key = parsed.report.idempotency_key
        with self.db.session() as session:
            row = session.scalar(
                select(LoanReportRow).where(
                    LoanReportRow.institution == institution, LoanReportRow.idempotency_key == key
                )
            )
        if row is None:
            return None
        if bytes(row.content_hash) != parsed.content_hash:
            raise IdempotencyKeyReused(
                f"idempotency key {key!r} was used for other content "
                f"({row.kind} {row.loan_ref} v{row.version}, sha256 {bytes(row.content_hash).hex()[:12]}…)"
            )
        return _receipt(row, replayed=True)

    def _store(self, session: Session, institution: str, parsed: LoanReport, block: int) -> LoanReportRow:
        r = parsed.report
        now = self.clock()
        loan = session.scalar(
            select(LoanRow).where(LoanRow.institution == institution, LoanRow.loan_ref == r.loan_ref)
        )
        if loan is not None and loan.subject != r.subject:
            raise LoanSubjectChanged(f"loan {r.loan_ref} is enterprise {loan.subject}'s, not {r.subject}'s")
        if isinstance(r, Repayment):
            if loan is None or not loan.approved:
                raise LoanNotApproved(f"loan {r.loan_ref}: no approved decision to report repayment on")
            version = loan.repayment_version + 1
            loan.days_overdue, loan.status_as_of, loan.repayment_version = r.days_overdue, r.as_of, version
            loan.updated_at = now
        else:
            version = self._next_version(session, institution, r.loan_ref, "decision")
            self._apply_decision(session, loan, institution, r, version, now)
        row = LoanReportRow(
            institution=institution,
            idempotency_key=r.idempotency_key,
            loan_ref=r.loan_ref,
            kind=r.kind,
            version=version,
            subject=r.subject,
            agreement_id=str(r.agreement_id),
            content_hash=parsed.content_hash,
            content=parsed.content.decode(),
            block_number=block,
            received_at=now,
        )
        session.add(row)
        session.flush()
        return row

    @staticmethod
    def _next_version(session: Session, institution: str, loan_ref: str, kind: str) -> int:
        latest = session.scalar(
            select(func.max(LoanReportRow.version)).where(
                LoanReportRow.institution == institution,
                LoanReportRow.loan_ref == loan_ref,
                LoanReportRow.kind == kind,
            )
        )
        return int(latest or 0) + 1

    @staticmethod
    def _apply_decision(
        session: Session, loan: LoanRow | None, institution: str, r: LoanDecision, version: int, now: datetime
    ) -> None:
        values: dict[str, Any] = {
            "subject": r.subject,
            "district": r.subject[2:8],
            "industry": r.industry,
            "approved": r.outcome == "approved",
            "amount_fen": r.amount_fen if r.amount is not None else None,
            "rate_ppm": r.rate_ppm if r.annual_rate is not None else None,
            "term_months": r.term_months,
            "credit": r.guarantee == "credit",
            "first_loan": r.first_loan,
            "applied_on": r.applied_on,
            "decided_on": r.decided_on,
            "decided_month": r.decided_on.strftime("%Y-%m"),
            "decision_days": (r.decided_on - r.applied_on).days,
            "decision_version": version,
            "updated_at": now,
        }
        if loan is None:
            session.add(LoanRow(institution=institution, loan_ref=r.loan_ref, repayment_version=0, **values))
        else:
            for name, value in values.items():
                setattr(loan, name, value)

    # -- reads -------------------------------------------------------------------------------

    def versions(self, institution: str, loan_ref: str) -> list[dict[str, Any]]:
        """Every accepted version of `institution`'s loan `loan_ref`, oldest first, with its content."""
        with self.db.session() as session:
            rows = session.scalars(
                select(LoanReportRow)
                .where(LoanReportRow.institution == institution, LoanReportRow.loan_ref == loan_ref)
                .order_by(LoanReportRow.kind, LoanReportRow.version)
            ).all()
        if not rows:
            raise LoanUnknown(f"no loan {loan_ref!r} reported by {institution}")
        return [
            {**_receipt(row, replayed=False).to_json(), "content": json.loads(row.content)} for row in rows
        ]

    def recent(self, institution: str, limit: int = 50) -> list[dict[str, Any]]:
        """`institution`'s latest accepted submissions (any loan), newest first, with their content."""
        with self.db.session() as session:
            rows = session.scalars(
                select(LoanReportRow)
                .where(LoanReportRow.institution == institution)
                .order_by(LoanReportRow.id.desc())
                .limit(limit)
            ).all()
        return [
            {**_receipt(row, replayed=False).to_json(), "content": json.loads(row.content)} for row in rows
        ]

    def _audit(self, institution: str, outcome: str, detail: str) -> None:
        with contextlib.suppress(LedgerError):  # the database is down: refused all the same
            audit_events.record(
                self.db, actor=institution, event="loan.report", outcome=outcome, detail=detail
            )
