"""Reported loans as labelled outcomes: the cohort file the scorecard's training reads.

For each enterprise with an approved loan whose outcome is known, one cohort line
(`ledger.evaluation.cohort_file`): the portrait at the decision date, computed from the
enterprise's current records as the evaluation path reads them (records dated after the
decision are not counted, so the label does not leak into the inputs), and the label:

- `default: 1` when any repayment status of the loan reported `loan_default_days_overdue`
  (default 90) days overdue or more;
- `default: 0` when its latest status is below that and was reported at least
  `loan_outcome_window_months` (default 12) after the decision;
- otherwise the outcome is not yet observed and the loan is not exported.

An enterprise with several such loans contributes its earliest decided one. The header
says `"synthetic": false` and how many loans were skipped and why, so `credit-ledger model
train --outcomes` can apply its minimum-count rule. The file holds enterprises' portraits:
it is the platform's own training data, never published.
"""

from __future__ import annotations

import calendar
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import IO, Any

from sqlalchemy import select

from ledger.evaluation.indicators import IndicatorFile
from ledger.evaluation.portrait import PortraitEvaluator
from ledger.financing.loan_models import LoanReportRow, LoanRow
from ledger.release.reader import RecordReader
from ledger.storage.database import Database

__all__ = ["OBSERVED_EN", "OBSERVED_ZH", "Outcome", "OutcomesExport"]

OBSERVED_EN = "OBSERVED loan outcomes reported to the platform by lending institutions"
OBSERVED_ZH = "金融机构向平台报送的真实贷款结果"


@dataclass(frozen=True)
class Outcome:
    subject: str
    decided_on: date
    default: int


def _add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class OutcomesExport:
    def __init__(
        self,
        db: Database,
        *,
        reader: RecordReader,
        indicators: IndicatorFile,
        default_days_overdue: int,
        window_months: int,
    ) -> None:
        self.db = db
        self.reader = reader
        self.indicators = indicators
        self.default_days_overdue = default_days_overdue
        self.window_months = window_months

    def outcomes(self) -> tuple[list[Outcome], dict[str, int]]:
        """Per enterprise, its earliest approved loan with a known outcome; and the counts skipped."""
        with self.db.session() as session:
            loans = session.execute(
                select(LoanRow.institution, LoanRow.loan_ref, LoanRow.subject, LoanRow.decided_on,
                       LoanRow.days_overdue, LoanRow.status_as_of)
                .where(LoanRow.approved.is_(True))
                .order_by(LoanRow.decided_on, LoanRow.id)
            ).all()  # fmt: skip
            statuses = session.execute(
                select(LoanReportRow.institution, LoanReportRow.loan_ref, LoanReportRow.content).where(
                    LoanReportRow.kind == "repayment"
                )
            ).all()
        most_overdue: dict[tuple[str, str], int] = {}
        for institution, loan_ref, content in statuses:
            days = int(json.loads(content)["days_overdue"])
            key = (institution, loan_ref)
            most_overdue[key] = max(days, most_overdue.get(key, 0))
        skipped = {"not_observed": 0, "later_loan_of_same_enterprise": 0}
        seen: set[str] = set()
        found: list[Outcome] = []
        for institution, loan_ref, subject, decided_on, _days, as_of in loans:
            worst_days = most_overdue.get((institution, loan_ref))
            if worst_days is not None and worst_days >= self.default_days_overdue:
                label = 1
            elif as_of is not None and as_of >= _add_months(decided_on, self.window_months):
                label = 0
            else:
                skipped["not_observed"] += 1
                continue
            if subject in seen:
                skipped["later_loan_of_same_enterprise"] += 1
                continue
            seen.add(subject)
            found.append(Outcome(subject, decided_on, label))
        return found, skipped

    def lines(self, outcomes: list[Outcome]) -> Iterator[dict[str, Any]]:
        """Cohort lines: each enterprise's portrait at its decision date, with its label."""
        evaluator = PortraitEvaluator(self.indicators)
        categories = set(self.indicators.categories())
        for chunk_start in range(0, len(outcomes), 500):
            chunk = outcomes[chunk_start : chunk_start + 500]
            with self.db.session() as session:
                records = self.reader.current(session, {o.subject for o in chunk}, categories)
            for o in chunk:
                mine = [r for r in records.get(o.subject, []) if not r.repaired]
                portrait = evaluator.evaluate(mine, o.decided_on)
                yield {
                    "kind": "enterprise",
                    "subject": o.subject,
                    "values": dict(portrait.values),
                    "insufficient": list(portrait.insufficient),
                    "default": o.default,
                }

    def write(self, out: IO[str], *, as_of: date) -> dict[str, Any]:
        """Write the header and the lines; the header (with the count written) as a summary."""
        outcomes, skipped = self.outcomes()
        header = {
            "kind": "cohort",
            "synthetic": False,
            "source": "ledger.financing.outcomes",
            "indicator_version": self.indicators.version,
            "indicator_sha256": self.indicators.content_hash().hex(),
            "as_of": as_of.isoformat(),
            "default_days_overdue": self.default_days_overdue,
            "window_months": self.window_months,
            "outcomes": len(outcomes),
            "defaults": sum(o.default for o in outcomes),
            "skipped_not_observed": skipped["not_observed"],
            "skipped_later_loans": skipped["later_loan_of_same_enterprise"],
            "description_en": OBSERVED_EN,
            "description_zh": OBSERVED_ZH,
        }
        out.write(json.dumps(header, ensure_ascii=False) + "\n")
        for line in self.lines(outcomes):
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
        return header
