"""The financing tables as a `ledger.alerts.holdings.HoldingSource`: joint action's reach.

An institution that holds a loan application of a subject, or has reported a loan to it,
is told of an operator's evasion flag on it, within the consent rules:

- an application holder under the consent grant the application was made with, for the
  loan-application purpose (授信审批), and the agreement the grant names; a grant that
  names none (any of the institution's agreements) is taken with the agreement the
  institution last reported a loan under. At delivery the gate authorizes on chain at B
  with those terms AND requires the grant itself to be live at B: a revoked or expired
  grant yields nothing;
- a lender with a reported, approved loan under the agreement of its newest decision
  report, for post-loan management (贷后管理).

The categories either may be told of are the catalogue's publicly disclosed ones, plus,
for an application, those its grant covers (read when resolving, on chain).
"""

from __future__ import annotations

from collections.abc import Iterable

from eth_utils import to_checksum_address
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.alerts.holdings import Holding
from ledger.chain.consents import ConsentsContract
from ledger.domain.catalogue import Catalogue
from ledger.financing.loan_models import LoanReportRow, LoanRow
from ledger.financing.models import ApplicationRow
from ledger.financing.products import LOAN_APPLICATION_PURPOSE

__all__ = ["FinancingHoldings"]

#: the purpose a lender's alerts about its borrower are authorized for (贷后管理)
POST_LOAN_PURPOSE = "post_loan_monitoring"

_APPLICATION = "application:"
_LOAN = "loan:"


class FinancingHoldings:
    """Applications and reported loans as alert holdings; grants read from `consents`."""

    def __init__(self, consents: ConsentsContract, catalogue: Catalogue) -> None:
        self.consents = consents
        self.catalogue = catalogue
        self.public = frozenset(catalogue.categories_in_mask(catalogue.public_mask()))
        self.application_bit = catalogue.purpose(LOAN_APPLICATION_PURPOSE).bit
        self.loan_bit = catalogue.purpose(POST_LOAN_PURPOSE).bit

    def holdings(self, session: Session, subjects: Iterable[str]) -> list[Holding]:
        wanted = sorted(set(subjects))
        if not wanted:
            return []
        apps = session.scalars(
            select(ApplicationRow)
            .where(ApplicationRow.subject.in_(wanted))
            .order_by(ApplicationRow.created_at)
        )
        loans = session.scalars(
            select(LoanRow)
            .where(LoanRow.subject.in_(wanted), LoanRow.approved.is_(True))
            .order_by(LoanRow.id)
        )
        found = [self._application(session, a) for a in apps] + [self._loan(session, row) for row in loans]
        return [h for h in found if h is not None]

    def resolve(self, session: Session, refs: Iterable[str]) -> dict[str, Holding]:
        out: dict[str, Holding] = {}
        for ref in set(refs):
            holding: Holding | None = None
            if ref.startswith(_APPLICATION):
                app = session.get(ApplicationRow, ref.removeprefix(_APPLICATION))
                holding = None if app is None else self._application(session, app)
            elif ref.startswith(_LOAN) and ref.removeprefix(_LOAN).isdigit():
                loan = session.get(LoanRow, int(ref.removeprefix(_LOAN)))
                holding = None if loan is None or not loan.approved else self._loan(session, loan)
            if holding is not None:
                out[ref] = holding
        return out

    def grant_live(self, grant_id: int, block: int, at: int) -> bool:
        grant = self.consents.get_grant(grant_id, block_identifier=block)
        return grant is not None and grant.live_at(at)

    # -- one holding --------------------------------------------------------------------------

    def _application(self, session: Session, app: ApplicationRow) -> Holding | None:
        """The application's holding, or None when no agreement can be named for it."""
        grant = self.consents.get_grant(app.grant_id)
        if grant is None:
            return None
        agreement = grant.terms.agreement_id or self._loan_agreement(session, app.institution)
        if not agreement:
            return None
        covered = frozenset(self.catalogue.categories_in_mask(grant.terms.categories))
        return Holding(
            ref=_APPLICATION + app.id,
            institution=to_checksum_address(app.institution),
            subject=app.subject,
            agreement_id=agreement,
            purpose_bit=self.application_bit,
            categories=self.public | covered,
            grant_id=app.grant_id,
        )

    def _loan(self, session: Session, loan: LoanRow) -> Holding | None:
        agreement = self._loan_agreement(session, loan.institution, loan.loan_ref)
        if not agreement:
            return None
        return Holding(
            ref=f"{_LOAN}{loan.id}",
            institution=to_checksum_address(loan.institution),
            subject=loan.subject,
            agreement_id=agreement,
            purpose_bit=self.loan_bit,
            categories=self.public,
        )

    @staticmethod
    def _loan_agreement(session: Session, institution: str, loan_ref: str | None = None) -> int:
        """The agreement of the institution's newest decision report (of that loan, if named); 0: none."""
        query = select(LoanReportRow.agreement_id).where(
            LoanReportRow.institution == institution, LoanReportRow.kind == "decision"
        )
        if loan_ref is not None:
            query = query.where(LoanReportRow.loan_ref == loan_ref)
        found = session.scalar(query.order_by(LoanReportRow.id.desc()).limit(1))
        return int(found) if found else 0
